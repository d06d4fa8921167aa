//! AWS credentials for S3 sources: the SDK's standard chain (environment, the shared config and
//! credentials files with static keys, `credential_process`, IAM Identity Center (SSO) profiles
//! and roles assumed from any of them, web identity, the ECS container and EC2 instance roles),
//! resolved once before the first request so that a missing or expired sign-in is one line saying
//! what to do, not the SDK's error chain.
//!
//! The SDK resolves the credentials again for its requests (and caches them there); for an SSO
//! profile that is a second `GetRoleCredentials` call, a fair price for knowing before the
//! listing starts.

use std::borrow::Cow;

use aws_config::SdkConfig;
use aws_config::profile::ProfileSet;
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_runtime::env_config::file::EnvConfigFiles;
use aws_types::os_shim_internal::{Env, Fs};

use super::causes;

/// How to get credentials, said once in every message about missing ones.
const HOW_TO_SIGN_IN: &str = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile NAME (`aws configure` or `aws configure sso` creates one)";

/// The profile the SDK reads, as far as the shared files say: its name, and whether it (or a
/// profile it assumes a role from) signs in through IAM Identity Center.
struct SelectedProfile {
    name: String,
    defined: bool,
    sso: bool,
}

/// Reads the shared config and credentials files the way the SDK does (`AWS_CONFIG_FILE`,
/// `AWS_SHARED_CREDENTIALS_FILE`, `AWS_PROFILE`, `--profile`); `None` when they cannot be read.
async fn selected_profile(profile: Option<&str>) -> Option<SelectedProfile> {
    let chosen = profile.map(|p| Cow::Owned(p.to_owned()));
    let set = aws_config::profile::load(
        &Fs::real(),
        &Env::real(),
        &EnvConfigFiles::default(),
        chosen,
    )
    .await
    .ok()?;
    let name = set.selected_profile().to_owned();
    Some(SelectedProfile {
        defined: set.get_profile(&name).is_some(),
        sso: signs_in_with_sso(&set, &name),
        name,
    })
}

/// True when `name`, or a profile it takes a role from (`source_profile`), is an IAM Identity
/// Center profile: `sso_session` (the current form) or `sso_start_url` (the legacy form), as the
/// AWS CLI's `aws configure sso` writes them.
fn signs_in_with_sso(set: &ProfileSet, name: &str) -> bool {
    let mut current = Some(name);
    // A source_profile cycle is the SDK's to report; ten hops is more than any real chain.
    for _ in 0..10 {
        let Some(profile) = current.and_then(|n| set.get_profile(n)) else {
            return false;
        };
        if profile.get("sso_session").is_some() || profile.get("sso_start_url").is_some() {
            return true;
        }
        current = profile.get("source_profile");
    }
    false
}

/// Resolves the credentials of `config` once. `Err` is the one line to show: what is missing and
/// how to get it.
pub async fn check(config: &SdkConfig, profile: Option<&str>) -> Result<(), String> {
    let Some(provider) = config.credentials_provider() else {
        return Err(format!(
            "no AWS credentials provider configured; {HOW_TO_SIGN_IN}"
        ));
    };
    let error = match provider.provide_credentials().await {
        Ok(_) => return Ok(()),
        Err(e) => e,
    };
    let selected = selected_profile(profile).await;
    if let Some(p) = &selected {
        if profile.is_some() && !p.defined {
            return Err(format!(
                "--profile {}: no such profile in the AWS config or credentials file (see `aws configure list-profiles`)",
                p.name
            ));
        }
        if p.sso {
            return Err(format!(
                "profile {0} signs in with IAM Identity Center (SSO) and has no valid sign-in ({1}); run `aws sso login --profile {0}`",
                p.name,
                causes(&error, 200)
            ));
        }
    }
    // The instance role is the chain's last resort: when it fails, nothing before it had
    // credentials. Off EC2 the metadata service is usually unreachable (the SDK then says "not
    // loaded"), but a proxy or a container may answer it with an error instead.
    let why = causes(&error, 200);
    let last_resort = why.contains("IMDS");
    Err(match &error {
        CredentialsError::CredentialsNotLoaded(_) => no_credentials(selected.as_ref(), ""),
        _ if last_resort => {
            let mut innermost: &(dyn std::error::Error + 'static) = &error;
            while let Some(c) = innermost.source() {
                innermost = c;
            }
            let said = causes(innermost, 200);
            no_credentials(
                selected.as_ref(),
                &format!(": {}", said.trim_end_matches('.')),
            )
        }
        _ => {
            let whose = selected
                .as_ref()
                .filter(|p| p.defined)
                .map_or_else(String::new, |p| format!(" of profile {}", p.name));
            format!("the AWS credentials{whose} could not be loaded: {why}; {HOW_TO_SIGN_IN}")
        }
    })
}

/// The line for "nothing in the chain had credentials", naming the profile looked at.
fn no_credentials(selected: Option<&SelectedProfile>, note: &str) -> String {
    let profile = match selected {
        Some(p) if p.defined => format!("profile {}", p.name),
        Some(p) => format!("no profile {}", p.name),
        None => "the shared files unreadable".to_owned(),
    };
    format!(
        "no AWS credentials found (looked in: environment, {profile}, web identity, container and instance role{note}); {HOW_TO_SIGN_IN}"
    )
}
