//! The timeline aggregation over a hand-made period with every case the rules name: a baseline
//! before the period, churn, a missing day, an incomplete rule, a reopening, two reports on one
//! day, a stopped recorder, and a trail that turns from schema 1.0 to 1.1 mid-period, with
//! exceptions (one expiring mid-period while its finding is open, one whose finding is fixed
//! while excepted, one that covers a resource already fixed) and a register change. Then each
//! renderer is snapshot-tested on that timeline.

mod common;

use assert_cmd::Command;
use auditor::chain::hours;
use auditor::commands::{self, TimelineOptions};
use auditor::error::SourceError;
use auditor::period::Period;
use auditor::render::{TimelineFormat, renderer};
use auditor::source::{Fanout, FetchError, Listing, LocalSource, ReportSource, StoredObject};
use auditor::synth::{DeployedRegister, ExceptionsSpec, ReportSpec, RuleSpec, exception};
use auditor::timeline::{DayState, Timeline};
use chrono::Duration;
use common::*;
use indicatif::ProgressBar;

/// A folder source with a fixed display name, so snapshots do not contain temporary paths.
struct Named(LocalSource);

impl ReportSource for Named {
    fn name(&self) -> &str {
        "fixtures/timeline"
    }
    fn list(&self) -> Result<Listing, SourceError> {
        self.0.list()
    }
    fn fetch(&self, o: &StoredObject) -> Result<Vec<u8>, FetchError> {
        self.0.fetch(o)
    }
    fn register(
        &self,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<auditor::source::RegisterLookup, SourceError> {
        // The location is the temporary folder's: give the fixture's name instead.
        let mut lookup = self.0.register(key, version_id)?;
        if let auditor::source::RegisterLookup::Looked { location, .. } = &mut lookup {
            *location = format!("fixtures/timeline/{key}");
        }
        Ok(lookup)
    }
}

const S3: &str = "s3-bucket-sse-enabled-dev";
const RDS: &str = "rds-storage-encrypted-dev";

fn spec(day: &str, s3: &[&str], rds: &[&str], rds_complete: bool) -> ReportSpec {
    let mut rds = RuleSpec::standard(1, rds).in_environment("dev");
    rds.complete = rds_complete;
    ReportSpec::new(
        morning(day),
        vec![
            RuleSpec::standard(0, s3).in_environment("dev"),
            rds,
            RuleSpec::standard(2, &[]).in_environment("dev"),
        ],
    )
}

/// The registers of the fixture: the first deployed before 2026-07-05, the second (one more
/// exception) before 2026-07-07.
fn registers() -> [DeployedRegister; 2] {
    let first = vec![
        // On "a": in force through 2026-07-08 while "a" stays open: it expires mid-period.
        exception("EXC-2026-001", 0, "a", "2026-07-01", "2026-07-08"),
        // On db-1, which is fixed on 2026-07-06 before any report labels it.
        exception("EXC-2026-002", 1, "db-1", "2026-07-01", "2026-12-31"),
    ];
    let mut second = first.clone();
    // On "b" from 2026-07-07; "b" is fixed on 2026-07-08.
    second.push(exception(
        "EXC-2026-003",
        0,
        "b",
        "2026-07-07",
        "2026-09-30",
    ));
    [
        DeployedRegister::new(first, Some("version-1")),
        DeployedRegister::new(second, Some("version-2")),
    ]
}

fn fixture() -> Trail {
    let mut specs = vec![
        spec("2026-06-30", &["old"], &["db-1"], true),
        spec("2026-07-01", &["old", "a"], &["db-1"], true),
        spec("2026-07-02", &["a"], &["db-1"], true),
        spec("2026-07-03", &["a", "b"], &["db-1"], true),
        // 2026-07-04: no report
        spec("2026-07-05", &["b"], &[], false),
        spec("2026-07-06", &["a", "b"], &[], true),
    ];
    specs[5].recorder_recording = false;
    let mut early = spec("2026-07-07", &["a", "b", "c"], &[], true);
    early.generated_at -= Duration::hours(5);
    specs.push(early);
    specs.push(spec("2026-07-07", &["a", "b"], &[], true));
    for d in ["2026-07-08", "2026-07-09", "2026-07-10"] {
        specs.push(spec(d, &["a"], &[], true));
    }
    specs.push(spec("2026-07-11", &["z"], &[], true)); // after the period: not read
    // Schema 1.1 from 2026-07-05 on: the baseline and the reports of 2026-07-01 to 07-03 are 1.0.
    let [first, second] = registers();
    for s in &mut specs[4..] {
        let register = if s.generated_at < morning("2026-07-07") {
            &first
        } else {
            &second
        };
        s.exceptions = ExceptionsSpec::Register(register.clone());
    }
    let t = write_trail(&specs);
    for r in [first, second] {
        t.add(&r.key, &r.bytes);
    }
    t
}

/// The period as seen at noon UTC on `today`.
fn options(period: Period, today: &str) -> TimelineOptions {
    TimelineOptions {
        period,
        max_gap: hours(26.0),
        now: morning(today) + Duration::hours(6),
        as_of: None,
        fanout: Fanout::Cores,
    }
}

fn build(t: &Trail) -> Timeline {
    let period = Period::between("2026-07-01", "2026-07-10").unwrap();
    let source = Named(LocalSource::new(t.root()));
    commands::timeline(
        &source,
        options(period, "2026-07-20"),
        &ProgressBar::hidden(),
    )
    .unwrap()
    .0
}

fn exposure<'a>(t: &'a Timeline, id: &str) -> &'a auditor::timeline::Exposure {
    t.exposures.iter().find(|e| e.resource_id == id).unwrap()
}

#[test]
fn daily_series_carries_state_over_gaps() {
    let t = build(&fixture());
    assert_eq!(t.days.len(), 10);
    let counts: Vec<u64> = t.days.iter().map(|d| d.by_rule[S3]).collect();
    assert_eq!(counts, vec![2, 1, 2, 2, 1, 2, 2, 1, 1, 1]);
    let gap = &t.days[3];
    assert_eq!(
        (gap.date, gap.state, gap.gap, gap.report.as_deref()),
        (date("2026-07-04"), DayState::Carried, true, None)
    );
    // The incomplete rds rule on 07-05 neither resolves db-1 nor opens anything: carried.
    let rds: Vec<u64> = t.days.iter().map(|d| d.by_rule[RDS]).collect();
    assert_eq!(rds, vec![1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
    assert_eq!(t.days[3].total, 3);
    assert_eq!(t.days[0].by_resource_type["AWS::S3::Bucket"], 2);
    // The last report of 07-07 gives the state: "c" from the earlier report never opens.
    assert!(t.exposures.iter().all(|e| e.resource_id != "c"));
}

#[test]
fn excepted_days_are_counted_apart_and_end_with_the_exception() {
    let t = build(&fixture());
    let excepted: Vec<u64> = t.days.iter().map(|d| d.excepted_by_rule[S3]).collect();
    // "a" is excepted 07-06..07-08 (EXC-2026-001 expires 07-08), "b" on 07-07 (EXC-2026-003 from
    // the second register); 1.0 reports and the gap day label nothing.
    assert_eq!(excepted, vec![0, 0, 0, 0, 0, 1, 2, 1, 0, 0]);
    assert_eq!(
        t.days.iter().map(|d| d.excepted).collect::<Vec<_>>(),
        excepted,
        "no other rule has an excepted finding"
    );
    // Excepted findings stay open: the open counts are those of a trail without exceptions.
    assert_eq!(t.days[6].by_rule[S3], 2);
    let a = exposure(&t, "a");
    assert_eq!((a.days_non_compliant, a.days_excepted), (9, 3));
    let w = &a.windows[1];
    assert_eq!((w.excepted_days, w.exceptions.len()), (3, 1));
    assert_eq!(
        (
            w.exceptions[0].id.as_str(),
            w.exceptions[0].from,
            w.exceptions[0].to
        ),
        ("EXC-2026-001", date("2026-07-06"), date("2026-07-08"))
    );
    assert_eq!(a.windows[0].excepted_days, 0);
    let b = exposure(&t, "b");
    assert_eq!(b.days_excepted, 1);
    assert_eq!(b.windows[0].exceptions[0].from, date("2026-07-07"));
    assert_eq!(
        t.rule_stats[0].excepted_at_end, 0,
        "EXC-2026-001 expired before the end"
    );
    // The compliance figure is unchanged by exceptions: excepted counts as non-compliant.
    let day = &t.days[6];
    let c = day.compliance_by_rule[S3].unwrap();
    assert_eq!((c.compliant, c.evaluated), (100, 102));
}

#[test]
fn exceptions_in_force_and_expired_while_open() {
    let t = build(&fixture());
    let x = &t.exceptions;
    assert_eq!(
        (x.reports_without_exceptions, x.reports_with_exceptions),
        (3, 7)
    );
    let rows: Vec<(&str, &str, i64)> = x
        .in_force
        .iter()
        .map(|e| (e.id.as_str(), e.resource_id.as_str(), e.days_excepted))
        .collect();
    assert_eq!(
        rows,
        [
            ("EXC-2026-002", "db-1", 0),
            ("EXC-2026-001", "a", 3),
            ("EXC-2026-003", "b", 1)
        ]
    );
    let first = &x.in_force[1];
    assert_eq!(
        first.rule, S3,
        "the register's rule with the report's suffix"
    );
    assert_eq!(
        first.reason.as_deref(),
        Some("Accepted until the fix ships (EXC-2026-001)")
    );
    assert_eq!(first.registers.len(), 2, "held by both registers");
    assert_eq!(
        (first.first_day_in_period, first.last_day_in_period),
        (date("2026-07-05"), date("2026-07-08"))
    );
    assert_eq!(x.expired_while_open.len(), 1);
    let expired = &x.expired_while_open[0];
    assert_eq!(
        (
            expired.id.as_str(),
            expired.expires,
            expired.day_after,
            expired.state_day_after
        ),
        (
            "EXC-2026-001",
            date("2026-07-08"),
            date("2026-07-09"),
            auditor::excepted::FindingDayState::NonCompliant
        )
    );
    assert!(
        x.registers.iter().all(|r| r.state == "verified"),
        "{:?}",
        x.registers
    );
    assert!(t.chain.intact, "{:?}", t.chain.problems);
}

#[test]
fn exposure_windows_and_reopenings() {
    let t = build(&fixture());
    let a = exposure(&t, "a");
    assert_eq!(
        (
            a.first_seen,
            a.times_reopened,
            a.days_non_compliant,
            a.open_at_end
        ),
        (date("2026-07-01"), 1, 9, true)
    );
    assert_eq!(a.windows[0].resolved, Some(date("2026-07-05")));
    assert_eq!(a.windows[1].opened, date("2026-07-06"));
    let b = exposure(&t, "b");
    assert_eq!(
        (b.first_seen, b.resolved_at, b.days_non_compliant),
        (date("2026-07-03"), Some(date("2026-07-08")), 5)
    );
    let old = exposure(&t, "old");
    assert!(old.opened_before_period);
    assert_eq!(
        (old.resolved_at, old.days_non_compliant),
        (Some(date("2026-07-02")), 1)
    );
    let db = exposure(&t, "db-1");
    assert_eq!(
        (db.resolved_at, db.days_non_compliant),
        (Some(date("2026-07-06")), 5)
    );
    assert_eq!(
        t.longest_open
            .iter()
            .map(|e| e.resource_id.as_str())
            .collect::<Vec<_>>(),
        vec!["a"]
    );
}

#[test]
fn per_rule_remediation_figures() {
    let t = build(&fixture());
    let s3 = &t.rule_stats[0];
    assert_eq!(
        (
            s3.open_at_start,
            s3.open_at_end,
            s3.opened,
            s3.resolved,
            s3.reopened
        ),
        (1, 1, 3, 3, 1)
    );
    assert_eq!(
        (
            s3.mean_days_to_remediate,
            s3.max_days_to_remediate,
            s3.remediated_windows
        ),
        (Some(4.5), Some(5), 2)
    );
    let rds = &t.rule_stats[1];
    assert_eq!(
        (rds.open_at_start, rds.open_at_end, rds.opened, rds.resolved),
        (1, 0, 0, 1)
    );
    assert_eq!(
        rds.mean_days_to_remediate, None,
        "opened before the period: no exact duration"
    );
}

#[test]
fn monitoring_days_and_period_chain() {
    let t = build(&fixture());
    let days: Vec<String> = t
        .monitoring
        .days
        .iter()
        .map(|d| d.date.to_string())
        .collect();
    assert_eq!(days, vec!["2026-07-05", "2026-07-06"]);
    assert_eq!(
        t.monitoring.days[0].issues[0].kind,
        auditor::report::IssueKind::ReportIncomplete
    );
    assert_eq!(
        t.monitoring.days[1].issues[0].kind,
        auditor::report::IssueKind::RecorderNotRecording
    );
    assert_eq!(
        (
            t.monitoring.days_with_report,
            t.monitoring.days_without_report,
            t.monitoring.days_monitoring_on
        ),
        (9, 1, 7)
    );
    assert!(t.chain.intact);
    assert_eq!(
        t.chain.reports, 11,
        "the period's reports plus the one before it"
    );
    assert_eq!(t.chain.gaps.len(), 1);
    assert_eq!(t.chain.gaps[0].missing_dates, vec![date("2026-07-04")]);
}

#[test]
fn tampering_before_the_period_shows_in_the_link_into_it() {
    let t = fixture();
    let mut bytes = t.read(0);
    bytes.insert(1, b' ');
    t.write(0, &bytes);
    let tl = build(&t);
    assert!(!tl.chain.intact);
    assert_eq!(tl.chain.problems[0].code, "hash-mismatch");
    assert_eq!(tl.chain.problems[0].key, t.keys[1]);
}

#[test]
fn renderers_snapshot() {
    let t = build(&fixture());
    for (format, name) in [
        (TimelineFormat::Json, "json"),
        (TimelineFormat::Md, "md"),
        (TimelineFormat::Csv, "csv"),
        (TimelineFormat::Html, "html"),
    ] {
        let text = String::from_utf8(renderer(format).render(&t).unwrap()).unwrap();
        insta::assert_snapshot!(format!("timeline_{name}"), text);
    }
}

#[test]
fn html_is_self_contained_and_accessible() {
    let t = build(&fixture());
    let html = String::from_utf8(renderer(TimelineFormat::Html).render(&t).unwrap()).unwrap();
    assert!(!html.contains("<script"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no URL of any kind"
    );
    assert!(!html.contains("src=") && !html.contains("href="));
    assert_eq!(
        html.matches("<table").count(),
        html.matches("<caption>").count()
    );
    assert_eq!(html.matches("<svg role=\"img\"").count(), 2);
    assert_eq!(
        html.matches("<svg").count(),
        html.matches("<title id=").count()
    );
    assert!(html.contains("@media print"));
}

#[test]
fn cli_writes_the_output_file_and_reports_gaps_with_exit_1() {
    let t = fixture();
    let out_dir = tempfile::tempdir().unwrap();
    let out_file = out_dir.path().join("q.html");
    let out = Command::cargo_bin("auditor")
        .unwrap()
        .args([
            "timeline",
            "--from",
            "2026-07-01",
            "--to",
            "2026-07-10",
            "-o",
        ])
        .arg(&out_file)
        .arg(t.root())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&out_file).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(
        std::fs::read_dir(out_dir.path()).unwrap().count(),
        1,
        "no partial file left behind"
    );
}

#[test]
fn quarter_without_reports_is_all_gap_never_compliant() {
    let t = fixture();
    let source = Named(LocalSource::new(t.root()));
    let (tl, _) = commands::timeline(
        &source,
        options(Period::quarter("2027-Q1").unwrap(), "2027-06-01"),
        &ProgressBar::hidden(),
    )
    .unwrap();
    assert_eq!(tl.days.len(), 90);
    assert!(
        tl.days
            .iter()
            .all(|d| d.gap && d.state == DayState::Carried)
    );
    // Carried from the last report (2026-07-11): "z" stays open, it is not shown as fixed.
    assert!(tl.days.iter().all(|d| d.total == 1));
}

#[test]
fn long_periods_summarise_by_month_end_and_say_what_was_cut() {
    // 60 buckets, each non-compliant for ten days, over 120 days from 2026-07-01.
    let names: Vec<&'static str> = (0..60)
        .map(|k| &*Box::leak(format!("bucket-{k:02}").into_boxed_str()))
        .collect();
    let trail = write_trail(&daily("2026-07-01", 120, |d| {
        (0..60)
            .filter(|k| (2 * k..2 * k + 10).contains(&d))
            .map(|k| names[k as usize])
            .collect()
    }));
    let source = Named(LocalSource::new(trail.root()));
    let (t, _) = commands::timeline(
        &source,
        options(
            Period::between("2026-07-01", "2026-10-28").unwrap(),
            "2026-11-01",
        ),
        &ProgressBar::hidden(),
    )
    .unwrap();
    assert_eq!((t.days.len(), t.exposures.len()), (120, 60));
    let render = |f| String::from_utf8(renderer(f).render(&t).unwrap()).unwrap();

    let md = render(TimelineFormat::Md);
    assert!(md.contains("## Non-compliant resources and compliance at each month end"));
    let daily_rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| 2026-") && l.contains(" | yes |"))
        .map(|l| &l[2..12])
        .collect();
    assert_eq!(
        daily_rows,
        ["2026-07-31", "2026-08-31", "2026-09-30", "2026-10-28"]
    );
    let (_, exposures) = md.split_once("## Exposure windows").unwrap();
    assert_eq!(
        exposures.matches("| `bucket-").count(),
        25,
        "cut at 25 per rule"
    );
    assert!(exposures.ends_with(
        "\n\ns3-bucket-sse-enabled: 35 of 60 windows not shown here (the first 25 are); every window is in the CSV output (section exposure\\_windows) and the JSON output (exposures\\[\\].windows).\n"
    ), "{exposures}");

    let csv = render(TimelineFormat::Csv);
    let (_, exposures) = csv.split_once("section,exposure_windows").unwrap();
    let (exposures, _) = exposures.split_once("section,longest_open").unwrap();
    assert_eq!(exposures.matches("AWS::S3::Bucket,bucket-").count(), 60);

    let html = render(TimelineFormat::Html);
    let (_, exposures) = html.split_once("<h2>Exposure windows</h2>").unwrap();
    assert_eq!(exposures.matches("<td><code>bucket-").count(), 60);
    assert!(!html.contains("not shown here"));
}

#[test]
fn html_escapes_every_value_taken_from_reports() {
    let mut t = build(&fixture());
    let hostile = "<img src=x onerror=alert(1)>\"&'";
    t.source = hostile.to_owned();
    t.provenance.source = hostile.to_owned();
    t.rules[0] = hostile.to_owned();
    t.rule_stats[0].rule = hostile.to_owned();
    t.exposures[0].resource_id = hostile.to_owned();
    t.exposures[1].resource_type = hostile.to_owned();
    t.monitoring.days[0].issues[0].detail = hostile.to_owned();
    // From a register object: the reason, the ticket and the approver of an exception.
    t.exceptions.in_force[0].reason = Some(hostile.to_owned());
    t.exceptions.in_force[0].ticket = Some(hostile.to_owned());
    t.exceptions.expired_while_open[0].approver = hostile.to_owned();
    let html = String::from_utf8(renderer(TimelineFormat::Html).render(&t).unwrap()).unwrap();
    assert!(!html.contains("<img"), "a value was written unescaped");
    assert!(!html.contains("\"&'"));
    // Provenance, rule table, the daily table's rule heading, exposure id, the type in each of
    // the two windows of `a`, monitoring detail; the chart legend too; the exception's reason,
    // ticket and approver.
    assert_eq!(
        html.matches("&lt;img src=x onerror=alert(1)&gt;&quot;&amp;")
            .count(),
        11
    );
    let md = String::from_utf8(renderer(TimelineFormat::Md).render(&t).unwrap()).unwrap();
    assert!(
        !md.contains("<img"),
        "a value was written unescaped in Markdown"
    );
    let csv = String::from_utf8(renderer(TimelineFormat::Csv).render(&t).unwrap()).unwrap();
    let (_, section) = csv.split_once("section,exceptions_in_force").unwrap();
    assert!(
        section.contains("\"<img src=x onerror=alert(1)>\"\"&'\""),
        "{section}"
    );
}
