//! Command-line interface: argument definitions (their doc comments are the `--help` text) and
//! [`run`], which executes a parsed command against injected output streams and returns whether
//! findings were made. Exit codes are mapped in `main.rs`.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::chain::{DEFAULT_MAX_GAP_HOURS, hours};
use crate::commands::{self, ReadNotes, StatusOptions, TimelineOptions, VerifyOptions};
use crate::error::RenderError;
use crate::organization::accounts::{self, FROM_ORGANIZATIONS};
use crate::organization::{Expected, Organization, TrailName, default_jobs};
use crate::period::Period;
use crate::provenance::stamp;
use crate::render::org_timeline::{OrgWriter, render_detail};
use crate::render::status::StatusFormat;
use crate::render::verify::VerifyFormat;
use crate::render::{TimelineFormat, renderer};
use crate::scan::Fanout;
use crate::source::{self, Discovery, Layout, ReportSource, S3Options, Timeouts};
use crate::status::DEFAULT_LOOKBACK_DAYS;
use crate::timeline::Timeline;
use crate::witness::read_witness_file;

const MAIN_HELP: &str = "\
Exit codes:
  0  clean: the trail is intact and complete
  1  findings: a broken chain, a bad or unreadable report, an overwritten or deleted report, a
     cadence gap (also no report since longer than allowed), a report dated in the future, a
     witnessed report missing or different, a period without evidence
  2  could not run: bad arguments or witness file, unreadable or empty source, unreachable or
     stalled bucket, no AWS credentials

Sources:
  A local folder is read recursively; it may be a copy of the bucket root, of reports/, or of any
  folder below. Keys are compared with previousKey from reports/YYYY/MM/DD/ on.
  An organization's bucket (reports/<account>/<region>/...) is read trail by trail, --jobs at a
  time; --accounts FILE (or `organizations`) makes an account without a trail a finding.
  s3://bucket/prefix is read with the AWS SDK: the standard credential chain (environment,
  profiles with keys, credential_process, IAM Identity Center (SSO) and assumed roles, web
  identity, container and instance roles; --profile NAME or AWS_PROFILE picks the profile) and
  region. Object versions are listed, so overwrites and deletions are reported. Every S3 request is bounded by
  --connect-timeout, --read-timeout and --operation-timeout: a stalled endpoint ends the run
  (exit 2) within the operation timeout of the request that stalled.

Examples:
  auditor verify ./reports-copy
  auditor verify s3://acme-compliance-reports/reports/ --format json
  AWS_ENDPOINT_URL=http://127.0.0.1:5000 auditor verify s3://local-bucket
  auditor verify s3://acme-central-reports --accounts accounts.txt
  auditor timeline s3://acme-compliance-reports --quarter 2026-Q3 -o q3.html
  auditor timeline ./reports-copy --from 2026-01-01 --to 2026-03-31 -o q1.csv
  auditor --profile audit status s3://acme-compliance-reports";

const VERIFY_HELP: &str = "\
Checks, for every report: UTF-8 JSON, schemaVersion \"1.0\", the v1 schema and its size limits,
the key naming rule; then the chain (each previousSha256 is the SHA-256 of the exact stored bytes
of the previous report, sequences contiguous and unique), the daily cadence up to now (or
--as-of), reports dated in the future, for s3:// sources bucket versioning and object versions
(more than one version: overwritten; a delete marker: deleted), the generator's chain/head.json
(current and every stored version) and the heads given with --witness.

Witness files: text lines `[witness:] <sequence> <key> <sha256>` (blank and # lines ignored), or
JSON objects, arrays or JSON Lines with sequence, key and sha256 (or under \"head\"), or SNS
notifications with the headSequence, headKey and headSha256 message attributes.

An organization's bucket (keys reports/<account>/<region>/...): every trail is found by listing
folders and verified as above (its head is chain/<account>/<region>/head.json), --jobs trails at a
time; then the organization summary. With --accounts, an account (or an account,region) of the
list without a trail is a finding, and so is a trail of an account the list does not name.
Accounts file: one 12-digit id per line, optionally `,<region>` and `# name`.

Examples:
  auditor verify ./reports-copy
  auditor verify s3://acme-compliance-reports --max-gap-hours 30 --format json
  auditor verify s3://acme-central-reports --accounts accounts.txt --jobs 8
  auditor --profile management verify s3://acme-central-reports --accounts organizations
  grep '^witness: ' mailbox.txt > heads.txt && auditor verify s3://acme-compliance-reports --witness heads.txt
  auditor verify ./reports-copy --as-of 2026-09-30";

const TIMELINE_HELP: &str = "\
The period report: non-compliant resources per rule and resource type per day (days without a
report carry the last known state and are marked as gaps), exposure windows per finding,
remediation figures per rule, the longest-open findings, days on which monitoring was not fully
on, and the trail check of the period (its reports and the link into it). The current quarter
(UTC) is used when no period is given.

The format follows -o's extension (.html, .csv, .json, .md or .markdown) unless --format is given;
an extension that names another format than --format, or -o without a known extension and without
--format, is refused. Without -o the default is HTML on standard output.

An organization's bucket gives the roll-up first (a row per account and region, totals per rule
and per day, the worst exposures) and then each trail's detail: HTML is a folder (-o FOLDER/:
index.html and a page per trail), CSV and JSON carry account and region on every detail row.

Examples:
  auditor timeline ./reports-copy --quarter 2026-Q3 -o q3.html
  auditor timeline s3://acme-central-reports --quarter 2026-Q3 --accounts accounts.txt -o q3-org/
  auditor timeline ./reports-copy --quarter 2026-Q3 -o q3.csv
  auditor timeline s3://acme-compliance-reports --from 2026-07-01 --to 2026-07-31 --format md
  auditor timeline ./reports-copy --format json | jq '.ruleStats'";

const STATUS_HELP: &str = "\
The newest report and the one before it by sequence (not by day): the newest report's key,
generatedAt, completeness, non-compliant and compliance per rule and monitoring state; the link
between the two (previousSha256 of the newest is the SHA-256 of the previous report's stored
bytes); the findings new, fixed and still open since the previous report, each still-open one
with the date its run of reports began (read back at most --lookback-days); and the absence rule:
a newest report older than --max-gap-hours is a finding.

Exit codes: 0 the newest report is recent and linked; 1 findings (a broken link, a problem with
either report, a cadence gap, no report for longer than allowed); 2 could not run.

Examples:
  auditor status s3://acme-compliance-reports
  auditor --profile audit status s3://acme-compliance-reports --format json
  auditor status ./reports-copy --as-of 2026-09-30";

/// Verifies the compliance report trail, renders compliance timelines and states the compliance
/// now.
#[derive(Debug, Parser)]
#[command(name = "auditor", version, after_help = MAIN_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// S3 endpoint URL, e.g. a local emulator (implies path-style addressing).
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// AWS region of the bucket (default: from the environment or profile).
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Shared-config profile for S3 sources (default: AWS_PROFILE, else `default`); any kind the
    /// AWS CLI writes: keys, credential_process, IAM Identity Center (SSO), an assumed role.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Never show the progress bar (it is hidden anyway when stderr is not a terminal).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// S3: longest wait to open a connection.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 5.0, value_parser = seconds)]
    pub connect_timeout: f64,
    /// S3: longest wait, per attempt, from sending a request to the response's headers.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 20.0, value_parser = seconds)]
    pub read_timeout: f64,
    /// S3: longest time for one request, its retries and (for GetObject) its body included.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 60.0, value_parser = seconds)]
    pub operation_timeout: f64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check that the report trail is intact: schema, hash chain, sequences, cadence, versions.
    #[command(after_help = VERIFY_HELP)]
    Verify(VerifyArgs),
    /// Render the compliance timeline of a period (HTML, CSV, JSON or Markdown).
    #[command(after_help = TIMELINE_HELP)]
    Timeline(TimelineArgs),
    /// The newest report, the link to the one before it, and what changed since.
    #[command(after_help = STATUS_HELP)]
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A folder of reports, or s3://bucket/prefix.
    pub source: String,
    /// Longest allowed time between consecutive reports before a cadence gap is reported.
    #[arg(long, default_value_t = DEFAULT_MAX_GAP_HOURS, value_name = "HOURS", value_parser = positive_hours)]
    pub max_gap_hours: f64,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: VerifyFormat,
    /// Check the trail as it stood at TIME (RFC 3339, or YYYY-MM-DD for the end of that UTC day):
    /// later reports are left out, and the trail must reach TIME. Default: now.
    #[arg(long, value_name = "TIME", value_parser = as_of)]
    pub as_of: Option<DateTime<Utc>>,
    /// Heads recorded outside the bucket (the alerts' witness lines or SNS JSON); repeatable.
    /// Every witnessed report must be in the trail with exactly that SHA-256.
    #[arg(long, value_name = "FILE")]
    pub witness: Vec<PathBuf>,
    #[command(flatten)]
    pub organization: OrganizationArgs,
}

/// How to read an organization's bucket.
#[derive(Debug, Args)]
pub struct OrganizationArgs {
    /// The organization's accounts, for an organization's bucket: a file with one 12-digit id per
    /// line (optional `,<region>` to expect that region, optional `# name`), or `organizations` to
    /// list the active accounts with AWS Organizations ListAccounts. An account without a trail is
    /// then a finding.
    #[arg(long, value_name = "FILE|organizations")]
    pub accounts: Option<String>,
    /// Trails of an organization's bucket read at once [default: one per core from a folder, at
    /// least 4 from S3].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,
}

#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// A folder of reports, or s3://bucket/prefix.
    pub source: String,
    /// Calendar quarter, e.g. 2026-Q3.
    #[arg(long, conflicts_with_all = ["from", "to"], value_name = "YYYY-QN")]
    pub quarter: Option<String>,
    /// First day of the period (UTC, inclusive); needs --to.
    #[arg(long, requires = "to", value_name = "YYYY-MM-DD")]
    pub from: Option<String>,
    /// Last day of the period (UTC, inclusive); needs --from.
    #[arg(long, requires = "from", value_name = "YYYY-MM-DD")]
    pub to: Option<String>,
    /// Output format (default: from -o's extension, else html).
    #[arg(long, value_enum)]
    pub format: Option<TimelineFormat>,
    /// Write to FILE (replaced only when complete) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Longest allowed time between consecutive reports before a cadence gap is reported.
    #[arg(long, default_value_t = DEFAULT_MAX_GAP_HOURS, value_name = "HOURS", value_parser = positive_hours)]
    pub max_gap_hours: f64,
    /// Render the period as the trail stood at TIME (RFC 3339, or YYYY-MM-DD for the end of that
    /// UTC day): later reports are left out. Default: now.
    #[arg(long, value_name = "TIME", value_parser = as_of)]
    pub as_of: Option<DateTime<Utc>>,
    #[command(flatten)]
    pub organization: OrganizationArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// A folder of reports, or s3://bucket/prefix.
    pub source: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: StatusFormat,
    /// Longest allowed time since the newest report (and between the two) before it is a finding.
    #[arg(long, default_value_t = DEFAULT_MAX_GAP_HOURS, value_name = "HOURS", value_parser = positive_hours)]
    pub max_gap_hours: f64,
    /// Speak for the trail as it stood at TIME (RFC 3339, or YYYY-MM-DD for the end of that UTC
    /// day): reports generated later are left out. Default: now.
    #[arg(long, value_name = "TIME", value_parser = as_of)]
    pub as_of: Option<DateTime<Utc>>,
    /// Read reports back at most DAYS before the newest one to date still-open findings.
    #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_LOOKBACK_DAYS)]
    pub lookback_days: u32,
}

/// The timeline's output format: `--format`, else the one `-o`'s extension names, else HTML on
/// standard output. Refused, before anything is read: an extension naming another format than
/// `--format` (`-o q3.csv --format html` would write HTML into a .csv file), and `-o` without
/// `--format` whose extension names no format. An extension naming no format is accepted with
/// `--format` (`-o q3.txt --format md`).
pub fn timeline_format(
    format: Option<TimelineFormat>,
    output: Option<&Path>,
) -> Result<TimelineFormat> {
    if let Some(path) = output.filter(|p| names_folder(p)) {
        return match format {
            None | Some(TimelineFormat::Html) => Ok(TimelineFormat::Html),
            Some(f) => bail!(
                "-o {}: a folder holds an organization's HTML report, not --format {}; give a file name",
                path.display(),
                f.name()
            ),
        };
    }
    let ext = output
        .and_then(Path::extension)
        .map(|e| e.to_string_lossy().into_owned());
    let implied = ext.as_deref().and_then(TimelineFormat::from_extension);
    let shown = |p: &Path| p.display().to_string();
    match (format, output, implied) {
        (Some(f), Some(path), Some(i)) if f != i => bail!(
            "-o {}: the extension .{} means --format {}, not --format {}; change the file name or the --format",
            shown(path),
            ext.unwrap_or_default(),
            i.name(),
            f.name()
        ),
        (Some(f), _, _) => Ok(f),
        (None, Some(_), Some(i)) => Ok(i),
        (None, Some(path), None) => bail!(
            "-o {}: the format cannot be told from the file name; end it in .html, .csv, .json, .md or .markdown, or add --format html|csv|json|md",
            shown(path)
        ),
        (None, None, _) => Ok(TimelineFormat::Html),
    }
}

/// Whether `-o` names a folder: one that exists, or a name ending in `/`.
fn names_folder(path: &Path) -> bool {
    path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/')
}

fn positive_hours(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(h) if h.is_finite() && h > 0.0 && h < 1e6 => Ok(h),
        _ => Err(format!("{s}: expected a positive number of hours, e.g. 26")),
    }
}

fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(t) if t.is_finite() && t > 0.0 && t <= 3600.0 => Ok(t),
        _ => Err(format!(
            "{s}: expected a number of seconds from 0 to 3600, e.g. 20"
        )),
    }
}

/// `--as-of`: an RFC 3339 time, or a date meaning the last instant of that UTC day.
fn as_of(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 999_999_999))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            format!(
                "{s}: expected a time (RFC 3339, e.g. 2026-09-30T23:59:59Z) or a date (YYYY-MM-DD, the end of that UTC day)"
            )
        })
}

/// Refuses an `--as-of` later than now: the trail cannot be seen as it will stand.
fn check_as_of(as_of: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<()> {
    if let Some(t) = as_of.filter(|t| *t > now) {
        bail!(
            "--as-of {}: after now ({}); give an earlier moment",
            stamp(t),
            stamp(now)
        );
    }
    Ok(())
}

/// Whether a run found anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Clean,
    Findings,
}

impl Outcome {
    /// `Findings` when there is at least one.
    pub fn of(findings: usize) -> Self {
        if findings == 0 {
            Outcome::Clean
        } else {
            Outcome::Findings
        }
    }

    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Findings => 1,
        }
    }
}

/// Streams and facts from the environment, injected so tests can run commands in-process.
pub struct Io<'a> {
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
    /// The time now (default period, end of a running period, reports from the future).
    pub now: DateTime<Utc>,
    /// Whether a progress bar may be drawn on stderr.
    pub progress: bool,
}

impl Io<'_> {
    /// True when the real stderr is a terminal.
    pub fn stderr_is_terminal() -> bool {
        io::stderr().is_terminal()
    }
}

fn progress_bar(visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} reading reports {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// The progress of an organization's run, in trails.
fn trails_bar(visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} reading trails {bar:30} {pos}/{len} eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

/// The accounts `--accounts` names: a file is read before anything else (a malformed line is
/// exit 2 before the bucket is touched); `organizations` is asked only for an organization's
/// bucket, in [`expected_accounts`].
enum AccountsArg {
    File(Expected),
    Organizations,
}

fn accounts_arg(arg: Option<&str>) -> Result<Option<AccountsArg>> {
    Ok(match arg {
        None => None,
        Some(FROM_ORGANIZATIONS) => Some(AccountsArg::Organizations),
        Some(file) => Some(AccountsArg::File(accounts::read_file(Path::new(file))?)),
    })
}

/// The organization `source` holds, with the accounts expected and the trails read at once;
/// `None` for a single trail, for which `--accounts` is refused (it has no accounts to miss).
fn organization<'s>(
    source: &'s dyn ReportSource,
    location: &str,
    args: &OrganizationArgs,
    accounts: Option<AccountsArg>,
    s3: &S3Options,
) -> Result<Option<Organization<'s>>> {
    let Layout::Organization(discovery) = source.layout()? else {
        if accounts.is_some() {
            bail!(
                "{}: --accounts applies to an organization's bucket (reports/<account>/<region>/); this source holds one trail",
                source.name()
            );
        }
        return Ok(None);
    };
    Ok(Some(Organization {
        source,
        discovery,
        expected: expected_accounts(accounts, s3)?,
        jobs: args
            .jobs
            .map_or_else(|| default_jobs(location.starts_with("s3://")), usize::from),
    }))
}

fn expected_accounts(arg: Option<AccountsArg>, s3: &S3Options) -> Result<Option<Expected>> {
    Ok(match arg {
        None => None,
        Some(AccountsArg::File(e)) => Some(e),
        Some(AccountsArg::Organizations) => Some(accounts::from_organizations(s3)?),
    })
}

/// Runs one parsed command. `Err` means the command could not run (exit 2).
pub fn run(cli: Cli, io: &mut Io<'_>) -> Result<Outcome> {
    let s3 = S3Options {
        endpoint_url: cli.endpoint_url.clone(),
        region: cli.region.clone(),
        profile: cli.profile.clone(),
        timeouts: Timeouts {
            connect: Duration::from_secs_f64(cli.connect_timeout),
            read: Duration::from_secs_f64(cli.read_timeout),
            operation: Duration::from_secs_f64(cli.operation_timeout),
        },
    };
    let progress = progress_bar(io.progress && !cli.quiet);
    match cli.command {
        Command::Verify(args) => {
            check_as_of(args.as_of, io.now)?;
            let mut witnesses = Vec::new();
            for file in &args.witness {
                witnesses.extend(read_witness_file(file)?);
            }
            let accounts = accounts_arg(args.organization.accounts.as_deref())?;
            let source = source::open(&args.source, &s3)?;
            let opts = VerifyOptions {
                max_gap: hours(args.max_gap_hours),
                now: io.now,
                as_of: args.as_of,
                witnesses,
                fanout: Fanout::Cores,
            };
            if let Some(org) = organization(
                source.as_ref(),
                &args.source,
                &args.organization,
                accounts,
                &s3,
            )? {
                let bar = trails_bar(io.progress && !cli.quiet);
                let verified = crate::organization::verify::verify(&org, opts, &bar)?;
                let bytes = crate::render::org_verify::render(&verified, args.format)?;
                write_stdout(io, &bytes)?;
                return Ok(Outcome::of(verified.finding_count()));
            }
            let verified = commands::verify(source.as_ref(), opts, &progress)?;
            let bytes = crate::render::verify::render(&verified, args.format)?;
            write_stdout(io, &bytes)?;
            Ok(Outcome::of(verified.result.finding_count()))
        }
        Command::Timeline(args) => {
            let format = timeline_format(args.format, args.output.as_deref())?;
            check_as_of(args.as_of, io.now)?;
            let moment = args.as_of.unwrap_or(io.now);
            let period = Period::resolve(
                args.quarter.as_deref(),
                args.from.as_deref(),
                args.to.as_deref(),
                moment.date_naive(),
            )?;
            let accounts = accounts_arg(args.organization.accounts.as_deref())?;
            let source = source::open(&args.source, &s3)?;
            let opts = TimelineOptions {
                period,
                max_gap: hours(args.max_gap_hours),
                now: io.now,
                as_of: args.as_of,
                fanout: Fanout::Cores,
            };
            if let Some(org) = organization(
                source.as_ref(),
                &args.source,
                &args.organization,
                accounts,
                &s3,
            )? {
                let bar = trails_bar(io.progress && !cli.quiet);
                return organization_timeline(io, &org, opts, format, args.output.as_deref(), &bar);
            }
            if let Some(path) = args.output.as_deref().filter(|p| names_folder(p)) {
                bail!(
                    "-o {}: a folder; a single trail's timeline is one file: give a file name such as q3.html",
                    path.display()
                );
            }
            let (timeline, notes) = commands::timeline(source.as_ref(), opts, &progress)?;
            // Missing evidence is said first, on stderr too, in the words every format opens with.
            if let Some(statement) = &timeline.evidence.statement {
                let _ = writeln!(io.stderr, "auditor: {statement}");
            }
            warn_unplaced(io, &notes, source.name());
            let bytes = renderer(format).render(&timeline)?;
            match &args.output {
                Some(path) => write_file(path, &bytes)?,
                None => write_stdout(io, &bytes)?,
            }
            // Days without a report count too, and so does a period without evidence: it has no
            // chain to break, but its evidence is missing.
            let findings = timeline.chain.finding_count()
                + timeline.monitoring.days_without_report
                + usize::from(!timeline.evidence.complete());
            Ok(Outcome::of(findings))
        }
        Command::Status(args) => {
            check_as_of(args.as_of, io.now)?;
            let source = source::open(&args.source, &s3)?;
            if let Layout::Organization(d) = source.layout()? {
                bail!("{}", one_trail_only(source.as_ref(), &d));
            }
            let opts = StatusOptions {
                max_gap: hours(args.max_gap_hours),
                now: io.now,
                as_of: args.as_of,
                lookback_days: args.lookback_days,
            };
            let (status, notes) = commands::status(source.as_ref(), opts, &progress)?;
            warn_unplaced(io, &notes, source.name());
            let bytes = crate::render::status::render(&status, args.format)?;
            write_stdout(io, &bytes)?;
            Ok(Outcome::of(status.finding_count()))
        }
    }
}

/// Why `status` refuses an organization's bucket, and which source it takes instead.
fn one_trail_only(source: &dyn ReportSource, d: &Discovery) -> String {
    let example = d
        .trails
        .first()
        .and_then(|t| source.trail(t).ok())
        .map_or_else(String::new, |t| format!(", e.g. {}", t.name()));
    format!(
        "{}: an organization's bucket with {} trail(s); status reads one trail: give its folder or prefix (reports/<account>/<region>/){example}",
        source.name(),
        d.trails.len()
    )
}

/// `timeline` over an organization: the roll-up first, then each trail's detail (see
/// [`crate::render::org_timeline`]); the exit code counts every trail's findings and the
/// organization's.
fn organization_timeline(
    io: &mut Io<'_>,
    org: &Organization<'_>,
    opts: TimelineOptions,
    format: TimelineFormat,
    output: Option<&Path>,
    bar: &ProgressBar,
) -> Result<Outcome> {
    if format == TimelineFormat::Html && !output.is_some_and(names_folder) {
        bail!(
            "{}: an organization's HTML report is a folder (an index page and a page per trail): give -o FOLDER/ (or another --format)",
            org.source.name()
        );
    }
    let mut writer = OrgWriter::new(format, output)?;
    let render = |name: &TrailName, t: &Timeline| render_detail(format, name, t);
    let rollup = crate::organization::timeline::timeline(org, opts, bar, &render, &mut |n, d| {
        writer.store(n, d)
    })?;
    if let Some(statement) = &rollup.evidence.statement {
        let _ = writeln!(io.stderr, "auditor: {statement}");
    }
    warn_unplaced(
        io,
        &ReadNotes {
            unplaced_keys: rollup.unplaced_keys,
        },
        org.source.name(),
    );
    match (format, output) {
        (TimelineFormat::Html, _) => writer.finish(&rollup, &mut io::sink())?,
        (_, Some(path)) => write_file_with(path, |w| writer.finish(&rollup, w))?,
        (_, None) => match writer.finish(&rollup, io.stdout) {
            Err(RenderError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => {}
            other => other.context("writing to standard output")?,
        },
    }
    Ok(Outcome::of(rollup.summary.findings))
}

/// Says on stderr how many objects were skipped because their key says no date or sequence.
fn warn_unplaced(io: &mut Io<'_>, notes: &ReadNotes, source: &str) {
    if notes.unplaced_keys > 0 {
        let _ = writeln!(
            io.stderr,
            "auditor: warning: {} object(s) in {source} do not follow the report naming rule and were skipped; run `auditor verify` for details",
            notes.unplaced_keys,
        );
    }
}

fn write_stdout(io: &mut Io<'_>, bytes: &[u8]) -> Result<()> {
    match io.stdout.write_all(bytes).and_then(|()| io.stdout.flush()) {
        // The reader went away (`| head`): nothing left to say, and nothing went wrong here.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to standard output"),
    }
}

/// Writes next to `path` and renames into place, so a failed run never leaves half a report.
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    write_file_with(path, |w| Ok(w.write_all(bytes)?))
}

/// Streams `write`'s output next to `path` and renames it into place when complete.
fn write_file_with(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<(), RenderError>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .with_context(|| format!("{}: not a file name", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.{}.partial",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = std::fs::File::create(&tmp)
        .map_err(RenderError::Io)
        // Unbuffered: every writer here hands over whole sections, and an organization's
        // details are copied from their spool file to this one by the kernel.
        .and_then(|mut file| write(&mut file))
        .and_then(|()| Ok(std::fs::rename(&tmp, path)?));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("{}: cannot write the output file", path.display()))
}
