//! `gen-history`: writes a synthetic, correctly chained daily report history for the benchmark:
//! by default seven years (2,557 reports) with about 2,000 open findings each and realistic churn
//! (findings appear, stay open for days to months, get fixed, some reopen), a few missing days,
//! an occasional incomplete rule and an occasional stopped recorder. Deterministic for a seed.
//! With `--org-accounts N`, an organization's bucket: a trail per account and region.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use clap::Parser;

use auditor::synth::{ACCOUNT, ChainWriter, REGION, RULES, ReportSpec, Rng, RuleSpec};
use rayon::prelude::*;

/// Writes a synthetic report trail under OUT/reports/.
#[derive(Parser)]
#[command(name = "gen-history")]
struct Args {
    /// Output folder (a bucket root: reports go under OUT/reports/).
    out: PathBuf,
    /// Number of days.
    #[arg(long, default_value_t = 2557)]
    days: u32,
    /// Open findings to keep, across the three rules.
    #[arg(long, default_value_t = 2000)]
    findings: u32,
    /// Days without a report (the chain stays intact; the cadence has gaps).
    #[arg(long, default_value_t = 6)]
    missing: u32,
    /// Days with an extra on-demand report before the scheduled one (the later one gives the
    /// day's state). Defaults to the number of missing days, so 2,557 days give 2,557 reports.
    #[arg(long)]
    extra: Option<u32>,
    /// First day.
    #[arg(long, default_value = "2019-07-01")]
    start: NaiveDate,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// An organization's bucket instead of one trail: this many accounts, each with a trail per
    /// region under OUT/reports/<account>/<region>/ and its head under OUT/chain/<account>/<region>/,
    /// and OUT/ACCOUNTS listing them (for `auditor --accounts`).
    #[arg(long, default_value_t = 0)]
    org_accounts: u32,
    /// The regions of each account's trails (with --org-accounts).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "us-east-1,eu-west-1,ap-southeast-2"
    )]
    org_regions: Vec<String>,
}

/// Days a new finding stays open: mostly days to weeks, some months, a few most of a year or more.
fn lifetime(rng: &mut Rng) -> u32 {
    let p = rng.below(100);
    (match p {
        0..40 => 1 + rng.below(7),
        40..75 => 8 + rng.below(23),
        75..95 => 31 + rng.below(90),
        _ => 121 + rng.below(580),
    }) as u32
}
/// Mean of [`lifetime`], to size the daily arrivals for a steady open count.
const MEAN_LIFETIME: f64 = 0.40 * 4.0 + 0.35 * 19.0 + 0.20 * 75.5 + 0.05 * 410.5;

fn resource_id(rule: usize, n: u64) -> String {
    let h = n.wrapping_mul(0x2545_F491_4F6C_DD1D);
    match rule {
        0 => format!("acme-data-{n:07}-{:x}", h & 0xffff),
        1 => format!("db-{:020X}", h as u128 * 7919),
        _ => format!("i-{:017x}", h & 0x0fff_ffff_ffff_ffff),
    }
}

struct RuleState {
    open: Vec<(u64, u32)>,
    resolved: Vec<u64>,
    next_id: u64,
}

/// Account `i` of a generated organization: 12 digits, distinct, deterministic.
fn account_id(i: u32) -> String {
    format!("{:012}", 200_000_000_000u64 + u64::from(i) * 1_000_003)
}

fn main() -> Result<()> {
    let a = Args::parse();
    let extra = a.extra.unwrap_or(a.missing);
    let rule_names: Vec<&str> = RULES.iter().map(|r| r.0).collect();
    let mut manifest = format!(
        "days={} findings={} missing={} extra={extra} start={} seed={} rules={}\n",
        a.days,
        a.findings,
        a.missing,
        a.start,
        a.seed,
        rule_names.join(",")
    );
    if a.org_accounts > 0 {
        manifest += &format!(
            "org_accounts={} org_regions={}\n",
            a.org_accounts,
            a.org_regions.join(",")
        );
    }
    let manifest_path = a.out.join("MANIFEST");
    if fs::read_to_string(&manifest_path).ok().as_deref() == Some(manifest.as_str()) {
        eprintln!(
            "gen-history: {} already holds this history; reusing it",
            a.out.display()
        );
        return Ok(());
    }
    for old in ["reports", "chain"] {
        if a.out.join(old).exists() {
            fs::remove_dir_all(a.out.join(old))
                .with_context(|| format!("{}: cannot clear old history", a.out.display()))?;
        }
    }
    let _ = fs::remove_file(&manifest_path);
    let (written, bytes_total) = if a.org_accounts == 0 {
        let written = write_trail(&a, "reports/", ACCOUNT, REGION, a.seed)?;
        (written.reports, written.bytes)
    } else {
        write_organization(&a)?
    };
    fs::write(&manifest_path, manifest)?;
    eprintln!(
        "gen-history: wrote {written} reports, {bytes_total} bytes, under {}",
        a.out.join("reports").display()
    );
    Ok(())
}

/// What one trail's generation wrote.
struct Written {
    reports: u32,
    bytes: u64,
}

/// Every account × region trail of the organization, in parallel, each with its own seed drawn
/// from `--seed`, its own account and region in its reports, and the generator's head beside it;
/// and `OUT/ACCOUNTS`, the account list `auditor --accounts` reads.
fn write_organization(a: &Args) -> Result<(u32, u64)> {
    let trails: Vec<(u32, usize)> = (0..a.org_accounts)
        .flat_map(|i| (0..a.org_regions.len()).map(move |r| (i, r)))
        .collect();
    let written = trails
        .par_iter()
        .map(|&(i, r)| {
            let account = account_id(i);
            let region = &a.org_regions[r];
            let seed = Rng::new(a.seed ^ (u64::from(i) << 16) ^ r as u64).next_u64();
            let prefix = format!("reports/{account}/{region}/");
            write_trail(a, &prefix, &account, region, seed)
        })
        .collect::<Result<Vec<Written>>>()?;
    let mut list =
        String::from("# Generated by gen-history: one account per line, `# name` after it\n");
    for i in 0..a.org_accounts {
        list += &format!("{}  # member-{i:04}\n", account_id(i));
    }
    fs::write(a.out.join("ACCOUNTS"), list)?;
    Ok(written
        .iter()
        .fold((0, 0), |(n, b), w| (n + w.reports, b + w.bytes)))
}

/// One trail's daily history under `prefix`; in an organization, with the generator's head.
fn write_trail(a: &Args, prefix: &str, account: &str, region: &str, seed: u64) -> Result<Written> {
    let extra = a.extra.unwrap_or(a.missing);
    let mut rng = Rng::new(seed);
    let per_rule = f64::from(a.findings) / RULES.len() as f64;
    let mut rules: Vec<RuleState> = (0..RULES.len())
        .map(|_| RuleState {
            open: Vec::new(),
            resolved: Vec::new(),
            next_id: 0,
        })
        .collect();
    for st in &mut rules {
        for _ in 0..per_rule as u32 {
            let id = st.next_id;
            st.next_id += 1;
            let life = lifetime(&mut rng);
            st.open.push((id, 1 + rng.below(u64::from(life)) as u32));
        }
    }
    let mut missing = std::collections::BTreeSet::new();
    while (missing.len() as u32) < a.missing.min(a.days.saturating_sub(2)) {
        missing.insert(1 + rng.below(u64::from(a.days - 2)) as u32);
    }
    let mut doubled = std::collections::BTreeSet::new();
    while (doubled.len() as u32) < extra.min(a.days.saturating_sub(2 + a.missing)) {
        let day = 1 + rng.below(u64::from(a.days - 2)) as u32;
        if !missing.contains(&day) {
            doubled.insert(day);
        }
    }
    let mut chain = ChainWriter::under(prefix, seed);
    let (mut bytes_total, mut written) = (0u64, 0u32);
    for day in 0..a.days {
        for st in &mut rules {
            let (keep, gone): (Vec<_>, Vec<_>) =
                st.open.iter().partition(|(_, until)| *until > day);
            st.resolved.extend(gone.iter().map(|(id, _)| *id));
            st.open = keep;
            let arrivals = per_rule / MEAN_LIFETIME;
            let n = arrivals as u64 + u64::from(rng.chance(arrivals.fract()));
            for _ in 0..n {
                let id = if !st.resolved.is_empty() && rng.chance(0.15) {
                    let i = rng.below(st.resolved.len() as u64) as usize;
                    st.resolved.swap_remove(i)
                } else {
                    st.next_id += 1;
                    st.next_id - 1
                };
                if !st.open.iter().any(|(o, _)| *o == id) {
                    st.open.push((id, day + lifetime(&mut rng)));
                }
            }
        }
        if missing.contains(&day) {
            continue;
        }
        let date = a.start + Duration::days(i64::from(day));
        let at = Utc.from_utc_datetime(&date.and_hms_opt(6, 0, 0).expect("valid time"))
            + Duration::seconds(rng.below(1800) as i64);
        let mut spec_rules = Vec::with_capacity(RULES.len());
        for (i, st) in rules.iter().enumerate() {
            let (name, identifier, ty) = RULES[i];
            let mut findings: Vec<(String, String)> = st
                .open
                .iter()
                .map(|(id, _)| (ty.to_owned(), resource_id(i, *id)))
                .collect();
            let complete = !rng.chance(0.01);
            if !complete {
                findings.truncate(findings.len() / 2);
            }
            spec_rules.push(RuleSpec {
                name: name.to_owned(),
                identifier: identifier.to_owned(),
                complete,
                findings,
                compliant: 100,
            });
        }
        let mut spec = ReportSpec::new(at, spec_rules);
        spec.account = account.to_owned();
        spec.region = region.to_owned();
        spec.recorder_recording = !rng.chance(0.005);
        if doubled.contains(&day) {
            // An on-demand run in the night, listing one finding more than the scheduled run.
            let mut early = spec.clone();
            early.generated_at -= Duration::hours(4);
            let (_, _, ty) = RULES[0];
            early.rules[0]
                .findings
                .push((ty.to_owned(), format!("acme-transient-{day}")));
            let (key, bytes) = chain.next(&early);
            write(&a.out, &key, &bytes)?;
            bytes_total += bytes.len() as u64;
            written += 1;
        }
        let (key, bytes) = chain.next(&spec);
        write(&a.out, &key, &bytes)?;
        bytes_total += bytes.len() as u64;
        written += 1;
    }
    if prefix != "reports/" {
        if let Some((sequence, key, sha256)) = chain.last() {
            let head = serde_json::json!({
                "format": "compliance-chain-head/1",
                "last": {"sequence": sequence, "key": key, "sha256": sha256},
                "pending": null
            });
            let at = format!("chain/{account}/{region}/head.json");
            write(&a.out, &at, &serde_json::to_vec(&head)?)?;
        }
    }
    Ok(Written {
        reports: written,
        bytes: bytes_total,
    })
}

fn write(root: &Path, key: &str, bytes: &[u8]) -> Result<()> {
    let path = root.join(key);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    fs::write(&path, bytes).with_context(|| format!("{}: cannot write", path.display()))
}
