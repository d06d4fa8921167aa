//! The accounts an organization should have trails for, and the comparison with the trails found.
//!
//! The bucket alone cannot show an account that never wrote a report: its absence leaves no key.
//! So the auditor compares the trails it finds with the organization's accounts, from a file the
//! user keeps (`--accounts FILE`) or from AWS Organizations (`--accounts organizations`,
//! `ListAccounts`, which the management account or a delegated administrator may call). An
//! account without a trail is a `missing-account` finding; a region named for an account
//! (`account,region`) without its trail a `missing-trail`; a trail of an account (or region) the
//! list does not name an `unexpected-trail`, because evidence from outside the organization in
//! scope is worth a look too.
//!
//! The file: one account per line, 12 digits, optionally `,<region>` to expect that region's trail,
//! optionally `# name` after it; blank lines and lines starting with `#` are ignored. An account
//! given on several lines expects every region named; given without a region, any trail of it will
//! do. A line that breaks this is one error naming the file, the line and the rule.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use aws_sdk_organizations::types::{AccountState, AccountStatus};
use serde::Serialize;

use crate::chain::Problem;
use crate::error::SourceError;
use crate::key::{TrailId, is_account, is_region};
use crate::source::{S3Options, io_runtime, sdk_config};

/// The word `--accounts` takes to list the accounts with AWS Organizations.
pub const FROM_ORGANIZATIONS: &str = "organizations";

/// The accounts expected to have trails.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Expected {
    /// Where the list came from, in words.
    pub source: String,
    pub accounts: BTreeMap<String, ExpectedAccount>,
}

/// One expected account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpectedAccount {
    pub name: Option<String>,
    /// Regions whose trails must exist; empty: any one trail will do.
    pub regions: BTreeSet<String>,
}

/// A line of an accounts file that breaks its format.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {rule}")]
pub struct AccountsFileError {
    pub file: String,
    /// 0 when the file itself could not be read.
    pub line: usize,
    pub rule: String,
}

/// Reads an accounts file (see the module's description of the format).
pub fn read_file(path: &Path) -> Result<Expected, AccountsFileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| AccountsFileError {
        file: file.clone(),
        line: 0,
        rule: format!("cannot be read: {e}"),
    })?;
    let mut expected = parse(&text).map_err(|(line, rule)| AccountsFileError {
        file: file.clone(),
        line,
        rule,
    })?;
    if expected.accounts.is_empty() {
        return Err(AccountsFileError {
            file,
            line: 0,
            rule: "names no account (one 12-digit id per line)".to_owned(),
        });
    }
    expected.source = format!("{} ({} accounts)", file, expected.accounts.len());
    Ok(expected)
}

/// The accounts of an accounts file's text; `Err((line, rule))` on the first bad line.
pub fn parse(text: &str) -> Result<Expected, (usize, String)> {
    let mut expected = Expected::default();
    for (i, raw) in text.lines().enumerate() {
        let (entry, name) = match raw.split_once('#') {
            Some((entry, name)) => (entry.trim(), Some(name.trim())),
            None => (raw.trim(), None),
        };
        if entry.is_empty() {
            continue;
        }
        let (account, region) = match entry.split_once(',') {
            Some((a, r)) => (a.trim(), Some(r.trim())),
            None => (entry, None),
        };
        if !is_account(account) {
            return Err((
                i + 1,
                format!("{account:?} is not an account id (12 digits)"),
            ));
        }
        if let Some(r) = region.filter(|r| !is_region(r)) {
            return Err((
                i + 1,
                format!("{r:?} is not a region name (like us-east-1) after {account},"),
            ));
        }
        let slot = expected.accounts.entry(account.to_owned()).or_default();
        if let Some(name) = name.filter(|n| !n.is_empty()) {
            slot.name.get_or_insert_with(|| name.to_owned());
        }
        if let Some(r) = region {
            slot.regions.insert(r.to_owned());
        }
    }
    Ok(expected)
}

/// The organization's active accounts from AWS Organizations `ListAccounts` (every page), with
/// the credentials, profile, endpoint and timeouts of the S3 source. Accounts that are suspended,
/// closed or not yet active are not expected to report. Needs `organizations:ListAccounts`, from
/// the management account or a delegated administrator ("ListAccounts", AWS Organizations API
/// Reference).
pub fn from_organizations(opts: &S3Options) -> Result<Expected, SourceError> {
    let name = "--accounts organizations";
    let fail = |reason: String| SourceError::S3 {
        source_name: name.to_owned(),
        reason,
    };
    let runtime = io_runtime(name)?;
    runtime.block_on(async {
        let shared = sdk_config(name, opts).await?;
        let mut conf = aws_sdk_organizations::config::Builder::from(&shared);
        if shared.region().is_none() {
            // Organizations has one endpoint in the aws partition, in us-east-1 ("AWS
            // Organizations endpoints and quotas", AWS General Reference).
            conf = conf.region(aws_sdk_organizations::config::Region::new("us-east-1"));
        }
        let client = aws_sdk_organizations::Client::from_conf(conf.build());
        let mut pages = client
            .list_accounts()
            .into_paginator()
            .stop_on_duplicate_token(false)
            .send();
        let mut expected = Expected::default();
        let mut tokens = BTreeSet::new();
        let mut inactive = 0usize;
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                fail(format!(
                    "ListAccounts: {} (needs organizations:ListAccounts from the management account or a delegated administrator; or pass --accounts FILE)",
                    crate::source::error_text(&e)
                ))
            })?;
            for a in page.accounts() {
                let Some(id) = a.id().filter(|id| is_account(id)) else {
                    continue;
                };
                // State replaces Status (retired September 2026, ListAccounts in the API
                // Reference): either one saying active is enough.
                let active = matches!(a.state(), Some(AccountState::Active))
                    || (a.state().is_none() && matches!(a.status(), Some(AccountStatus::Active)));
                if !active {
                    inactive += 1;
                    continue;
                }
                expected.accounts.insert(
                    id.to_owned(),
                    ExpectedAccount {
                        name: a.name().map(str::to_owned),
                        regions: BTreeSet::new(),
                    },
                );
            }
            if let Some(token) = page.next_token().filter(|t| !t.is_empty()) {
                if !tokens.insert(token.to_owned()) {
                    return Err(fail(format!(
                        "ListAccounts returned the continuation token {token} twice; the listing does not advance"
                    )));
                }
            }
        }
        expected.source = format!(
            "AWS Organizations ListAccounts ({} active accounts, {inactive} not active and not expected)",
            expected.accounts.len()
        );
        Ok(expected)
    })
}

/// The organization-level findings: expected accounts and regions without a trail, and trails
/// the list does not expect. Keys name the folder that is, or should be, there.
pub fn compare(expected: &Expected, trails: &[TrailId]) -> Vec<Problem> {
    let mut found: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for t in trails {
        found.entry(&t.account).or_default().insert(&t.region);
    }
    let named = |account: &str| {
        expected.accounts[account]
            .name
            .as_deref()
            .map_or_else(String::new, |n| format!(" ({n})"))
    };
    let mut problems = Vec::new();
    for (account, want) in &expected.accounts {
        match found.get(account.as_str()) {
            None => problems.push(Problem {
                code: "missing-account",
                key: format!("reports/{account}/"),
                detail: if want.regions.is_empty() {
                    format!(
                        "account {account}{} is in the organization but has no trail in the bucket: none of its reports reached the evidence",
                        named(account)
                    )
                } else {
                    format!(
                        "account {account}{} is in the organization but has no trail in the bucket (expected in {})",
                        named(account),
                        want.regions.iter().cloned().collect::<Vec<_>>().join(", ")
                    )
                },
            }),
            Some(have) => {
                for region in want.regions.iter().filter(|r| !have.contains(r.as_str())) {
                    problems.push(Problem {
                        code: "missing-trail",
                        key: format!("reports/{account}/{region}/"),
                        detail: format!(
                            "account {account}{} has no trail in {region}, a region the account list expects",
                            named(account)
                        ),
                    });
                }
            }
        }
    }
    for t in trails {
        let why = match expected.accounts.get(&t.account) {
            None => format!(
                "account {} is not in the account list ({}): a trail from outside the organization in scope",
                t.account, expected.source
            ),
            Some(want) if !want.regions.is_empty() && !want.regions.contains(&t.region) => {
                format!(
                    "region {} is not among the regions the account list expects for {}{}",
                    t.region,
                    t.account,
                    named(&t.account)
                )
            }
            Some(_) => continue,
        };
        problems.push(Problem {
            code: "unexpected-trail",
            key: t.reports_prefix(),
            detail: why,
        });
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trail(account: &str, region: &str) -> TrailId {
        TrailId {
            account: account.to_owned(),
            region: region.to_owned(),
        }
    }

    #[test]
    fn the_file_names_accounts_regions_and_names() {
        let e = parse(
            "# the landing zone\n\n111111111111  # payments\n222222222222,eu-west-1 # data\n222222222222, us-east-1\n",
        )
        .unwrap();
        assert_eq!(e.accounts.len(), 2);
        assert_eq!(e.accounts["111111111111"].name.as_deref(), Some("payments"));
        assert!(e.accounts["111111111111"].regions.is_empty());
        let regions: Vec<&String> = e.accounts["222222222222"].regions.iter().collect();
        assert_eq!(regions, ["eu-west-1", "us-east-1"]);
    }

    #[test]
    fn a_bad_line_is_named_with_its_rule() {
        assert_eq!(parse("111111111111\n12345\n").unwrap_err().0, 2);
        let (line, rule) = parse("111111111111,europe\n").unwrap_err();
        assert_eq!(line, 1);
        assert!(rule.contains("not a region name"), "{rule}");
    }

    #[test]
    fn missing_and_unexpected_trails_are_findings() {
        let e = parse(
            "111111111111\n222222222222,us-east-1\n222222222222,eu-west-1\n333333333333 # gone\n",
        )
        .unwrap();
        let trails = [
            trail("111111111111", "ap-southeast-2"),
            trail("222222222222", "us-east-1"),
            trail("222222222222", "sa-east-1"),
            trail("444444444444", "us-east-1"),
        ];
        let found: Vec<(&str, String)> = compare(&e, &trails)
            .into_iter()
            .map(|p| (p.code, p.key))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "missing-trail",
                    "reports/222222222222/eu-west-1/".to_owned()
                ),
                ("missing-account", "reports/333333333333/".to_owned()),
                (
                    "unexpected-trail",
                    "reports/222222222222/sa-east-1/".to_owned()
                ),
                (
                    "unexpected-trail",
                    "reports/444444444444/us-east-1/".to_owned()
                ),
            ]
        );
    }
}
