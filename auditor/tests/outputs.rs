//! What an auditor hands over: the output format follows the file name, every exposure window is
//! a row (so "was X compliant on day D?" is answered from the CSV or the HTML alone), a row cap
//! never hides a whole rule, and every format shows each rule's compliance percentage per day
//! beside its non-compliant count, with no percentage on a day without evidence.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use auditor::synth::{ReportSpec, RuleSpec};
use chrono::NaiveDate;
use common::*;
use serde_json::Value;

/// `auditor timeline` over `t` for 2026-07-01..10, seen at [`AS_OF`], with `extra` arguments.
fn timeline(t: &Trail, extra: &[&str]) -> (i32, String, String) {
    let root = t.root();
    let mut args = vec![
        "timeline",
        root.to_str().unwrap(),
        "--from",
        "2026-07-01",
        "--to",
        "2026-07-10",
    ];
    args.extend_from_slice(extra);
    run_at(AS_OF, &args)
}

/// What a file holds: which format wrote it.
fn format_of(path: &Path) -> &'static str {
    let text = std::fs::read_to_string(path).unwrap();
    if text.starts_with("<!DOCTYPE html>") {
        "html"
    } else if text.starts_with("section,provenance\n") {
        "csv"
    } else if serde_json::from_str::<Value>(&text)
        .is_ok_and(|v| v["format"] == "auditor-timeline/1")
    {
        "json"
    } else if text.starts_with("# Compliance timeline: ") {
        "md"
    } else {
        "unknown"
    }
}

#[test]
fn the_format_follows_the_extension_of_the_output_file() {
    let t = clean_trail();
    let dir = tempfile::tempdir().unwrap();
    for (name, format) in [
        ("q3.html", "html"),
        ("q3.htm", "html"),
        ("q3.csv", "csv"),
        ("Q3.CSV", "csv"),
        ("q3.json", "json"),
        ("q3.md", "md"),
        ("q3.markdown", "md"),
    ] {
        let out = dir.path().join(name);
        let (code, _, err) = timeline(&t, &["-o", out.to_str().unwrap()]);
        assert_eq!(code, 0, "{name}: {err}");
        assert_eq!(format_of(&out), format, "{name}");
    }
    // --format that agrees with the extension, and an extension no format has with --format.
    for (name, args) in [
        ("agrees.csv", ["--format", "csv"]),
        ("notes.txt", ["--format", "md"]),
    ] {
        let out = dir.path().join(name);
        let (code, _, err) = timeline(&t, &[&["-o", out.to_str().unwrap()], &args[..]].concat());
        assert_eq!(code, 0, "{name}: {err}");
        assert_eq!(
            format_of(&out),
            if name.ends_with("csv") { "csv" } else { "md" }
        );
    }
    // Without -o and --format: HTML on standard output, as before.
    let (code, out, _) = timeline(&t, &[]);
    assert_eq!(code, 0);
    assert!(out.starts_with("<!DOCTYPE html>"));
}

#[test]
fn a_format_the_file_name_contradicts_is_refused_in_one_line_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-source");
    for (name, format, words) in [
        (
            "q3.csv",
            Some("html"),
            "the extension .csv means --format csv, not --format html",
        ),
        (
            "q3.md",
            Some("json"),
            "the extension .md means --format md, not --format json",
        ),
        (
            "q3.txt",
            None,
            "the format cannot be told from the file name",
        ),
        ("q3", None, "the format cannot be told from the file name"),
    ] {
        let out = dir.path().join(name);
        let mut args = vec![
            "timeline",
            missing.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ];
        if let Some(f) = format {
            args.extend(["--format", f]);
        }
        let (code, stdout, err) = run_at(AS_OF, &args);
        assert_eq!(code, 2, "{name}");
        assert_eq!(stdout, "");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("auditor: error: -o {}: ", out.display())),
            "{err}"
        );
        assert!(err.contains(words), "{err}");
        assert!(!out.exists(), "{name} must not be written");
    }
    // The real binary exits 2 with the same line.
    let out = dir.path().join("q3.csv");
    let run = assert_cmd::Command::cargo_bin("auditor")
        .unwrap()
        .args(["timeline", "./x", "--format", "html", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&run.stderr).lines().count(), 1);
}

/// The CSV's `exposure_windows` rows as (rule, resource id, window, opened, resolved, days).
type WindowRow = (String, String, u32, NaiveDate, Option<NaiveDate>, i64);

fn csv_section<'a>(csv: &'a str, name: &str) -> Vec<BTreeMap<&'a str, &'a str>> {
    let (_, rest) = csv.split_once(&format!("section,{name}\n")).unwrap();
    let mut lines = rest.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .take_while(|l| *l != "\"\"")
        .map(|l| header.iter().copied().zip(l.split(',')).collect())
        .collect()
}

fn windows(csv: &str) -> Vec<WindowRow> {
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    csv_section(csv, "exposure_windows")
        .iter()
        .map(|r| {
            (
                r["rule"].to_owned(),
                r["resource_id"].to_owned(),
                r["window"].parse().unwrap(),
                date(r["opened"]),
                Some(r["resolved"]).filter(|s| !s.is_empty()).map(date),
                r["days"].parse().unwrap(),
            )
        })
        .collect()
}

/// Bucket `a` open 07-01..07-03, fixed on 07-04, open again from 07-07; `b` open 07-02..07-05.
fn reopened() -> Trail {
    write_trail(&daily("2026-07-01", 10, |d| match d {
        0 => vec!["a"],
        1..=2 => vec!["a", "b"],
        3..=4 => vec!["b"],
        5 => vec![],
        _ => vec!["a"],
    }))
}

#[test]
fn each_exposure_window_is_a_row_and_answers_was_it_compliant_on_a_day() {
    let t = reopened();
    let (_, csv, _) = timeline(&t, &["--format", "csv"]);
    let rows = windows(&csv);
    let s3 = "s3-bucket-sse-enabled".to_owned();
    assert_eq!(
        rows,
        vec![
            (
                s3.clone(),
                "a".into(),
                1,
                date("2026-07-01"),
                Some(date("2026-07-04")),
                3
            ),
            (s3.clone(), "a".into(), 2, date("2026-07-07"), None, 4),
            (
                s3.clone(),
                "b".into(),
                1,
                date("2026-07-02"),
                Some(date("2026-07-06")),
                4
            ),
        ]
    );
    // The windows alone give every day's non-compliant count of the daily table.
    let daily = csv_section(&csv, "daily");
    for day in &daily {
        let d = date(day["date"]);
        let open = rows
            .iter()
            .filter(|(_, _, _, opened, resolved, _)| *opened <= d && resolved.is_none_or(|r| d < r))
            .count();
        assert_eq!(open.to_string(), day["rule:s3-bucket-sse-enabled"], "{d}");
    }
    // "Was a compliant on 2026-07-05?" Yes: between its two windows.
    let covers = |id: &str, d: NaiveDate| {
        rows.iter()
            .any(|(_, i, _, o, r, _)| i == id && *o <= d && r.is_none_or(|r| d < r))
    };
    assert!(!covers("a", date("2026-07-05")) && covers("a", date("2026-07-03")));

    // The HTML has the same rows, one per window, with "open" for the open one.
    let (_, html, _) = timeline(&t, &["--format", "html"]);
    let (_, section) = html.split_once("<h2>Exposure windows</h2>").unwrap();
    let rows_html: Vec<&str> = section.split("<tr>").skip(2).collect();
    assert_eq!(rows_html.len(), 3);
    assert!(rows_html[0].contains("<code>a</code>") && rows_html[0].contains(">1 of 2<"));
    assert!(rows_html[1].contains(">2 of 2<") && rows_html[1].contains("<td>open</td>"));
    assert!(section.contains("Opened on or before D and Resolved after D"));

    // The JSON carries each window's days too.
    let (_, json, _) = timeline(&t, &["--format", "json"]);
    let v: Value = serde_json::from_str(&json).unwrap();
    let a = &v["exposures"][0];
    assert_eq!(a["resourceId"], "a");
    assert_eq!(a["windows"][0]["days"], 3);
    assert_eq!(a["windows"][1]["days"], 4);
    assert_eq!(a["daysNonCompliant"], 7);
}

#[test]
fn a_row_cap_never_hides_a_whole_rule() {
    // 150 buckets, each non-compliant on one day only (a window each); one RDS finding; no EC2.
    let ids: Vec<&'static str> = (0..150)
        .map(|k| &*Box::leak(format!("bucket-{k:03}").into_boxed_str()))
        .collect();
    let specs: Vec<ReportSpec> = (0..10)
        .map(|d| {
            let s3 = &ids[15 * d..15 * d + 15];
            ReportSpec::new(
                morning("2026-07-01") + chrono::Duration::days(d as i64),
                vec![
                    RuleSpec::standard(0, s3),
                    RuleSpec::standard(1, &["db-1"]),
                    RuleSpec::standard(2, &[]),
                ],
            )
        })
        .collect();
    let t = write_trail(&specs);

    let (_, html, _) = timeline(&t, &["--format", "html"]);
    let (_, section) = html.split_once("<h2>Exposure windows</h2>").unwrap();
    assert_eq!(
        section.matches("<td><code>bucket-").count(),
        100,
        "100 per rule"
    );
    assert_eq!(
        section.matches("<td><code>db-1</code>").count(),
        1,
        "the other rule is shown"
    );
    assert!(section.contains(
        "s3-bucket-sse-enabled: 50 of 150 windows not shown here (the first 100 are); every window is in the CSV output (section exposure_windows) and the JSON output (exposures[].windows)."
    ));
    assert_eq!(
        section.matches("not shown here").count(),
        1,
        "rds is not cut"
    );

    let (_, md, _) = timeline(&t, &["--format", "md"]);
    let (_, section) = md.split_once("## Exposure windows").unwrap();
    assert_eq!(section.matches("| `bucket-").count(), 25);
    assert_eq!(section.matches("| `db-1` |").count(), 1);
    assert!(section.contains("s3-bucket-sse-enabled: 125 of 150 windows not shown here"));

    let (_, csv, _) = timeline(&t, &["--format", "csv"]);
    assert_eq!(windows(&csv).len(), 151, "the CSV carries every window");
    let (_, json, _) = timeline(&t, &["--format", "json"]);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["exposures"].as_array().unwrap().len(), 151);
}

/// S3 rule counts: (non-compliant ids, compliant count, complete) per day; no report on 07-03.
fn counted() -> Trail {
    let days: [(&str, &[&str], u64, bool); 6] = [
        ("2026-07-01", &["a"], 3, true),      // 3 of 4: 75.0
        ("2026-07-02", &["a", "b"], 1, true), // 1 of 3: 33.3 (rounded down)
        ("2026-07-04", &["a"], 50, false),    // incomplete: no figure
        ("2026-07-05", &[], 0, true),         // nothing evaluated: no figure
        ("2026-07-06", &["a"], 9_999, true),  // 9,999 of 10,000: 99.9, not 100
        ("2026-07-07", &[], 7, true),         // 7 of 7: 100.0
    ];
    let specs: Vec<ReportSpec> = days
        .iter()
        .map(|(day, ids, compliant, complete)| {
            let mut s3 = RuleSpec::standard(0, ids);
            s3.compliant = *compliant;
            s3.complete = *complete;
            ReportSpec::new(
                morning(day),
                vec![s3, RuleSpec::standard(1, &[]), RuleSpec::standard(2, &[])],
            )
        })
        .collect();
    write_trail(&specs)
}

#[test]
fn compliance_per_rule_per_day_in_every_format_and_none_without_evidence() {
    let t = counted();
    let root = t.root();
    let run = |format: &str| {
        let args = [
            "timeline",
            root.to_str().unwrap(),
            "--from",
            "2026-07-01",
            "--to",
            "2026-07-07",
            "--format",
            format,
        ];
        run_at("2026-07-07T12:00:00Z", &args).1
    };
    let rule = "s3-bucket-sse-enabled";
    // (date, non-compliant shown, percentage for people or "—")
    let expected = [
        ("2026-07-01", "1", "75.0%"),
        ("2026-07-02", "2", "33.3%"),
        ("2026-07-03", "2", "—"), // no report: the count is carried, the percentage is not
        ("2026-07-04", "2", "—"), // rule incomplete: its findings carried, no figure
        ("2026-07-05", "0", "—"), // nothing evaluated
        ("2026-07-06", "1", "99.9%"),
        ("2026-07-07", "0", "100.0%"),
    ];

    let v: Value = serde_json::from_str(&run("json")).unwrap();
    for (day, (date, count, pct)) in v["days"].as_array().unwrap().iter().zip(expected) {
        assert_eq!(day["date"], date);
        assert_eq!(day["byRule"][rule].to_string(), count, "{date}");
        let c = &day["complianceByRule"][rule];
        match pct {
            "—" => assert!(c.is_null() || c["percent"].is_null(), "{date}: {c}"),
            p => assert_eq!(
                format!("{:.1}%", c["percent"].as_f64().unwrap()),
                p,
                "{date}"
            ),
        }
    }
    let days = v["days"].as_array().unwrap();
    assert!(days[2]["complianceByRule"][rule].is_null(), "no report");
    assert!(days[3]["complianceByRule"][rule].is_null(), "incomplete");
    assert_eq!(
        days[4]["complianceByRule"][rule],
        serde_json::json!({"compliant": 0, "evaluated": 0, "percent": null})
    );
    assert_eq!(
        days[5]["complianceByRule"][rule],
        serde_json::json!({"compliant": 9999, "evaluated": 10000, "percent": 99.9})
    );

    let csv = run("csv");
    for (row, (date, count, pct)) in csv_section(&csv, "daily").iter().zip(expected) {
        assert_eq!(row["date"], date);
        assert_eq!(row[&*format!("rule:{rule}")], count, "{date}");
        let data = pct.trim_end_matches('%').replace('—', "");
        assert_eq!(row[&*format!("compliance_pct:{rule}")], data, "{date}");
    }

    let md = run("md");
    for (date, count, pct) in expected {
        let line = md
            .lines()
            .find(|l| l.starts_with(&format!("| {date} |")))
            .unwrap();
        let cells: Vec<&str> = line.split(" | ").collect();
        assert_eq!((cells[2], cells[3]), (count, pct), "{line}");
    }
    assert!(md.contains(&format!(
        "| Date | Report | {rule}: Non-compliant | {rule}: Compliant |"
    )));

    let html = run("html");
    let (_, daily) = html
        .split_once("<h2>Non-compliant resources and compliance")
        .unwrap();
    let (daily, _) = daily.split_once("</table>").unwrap();
    assert!(daily.contains(&format!(
        "<th scope=\"colgroup\" colspan=\"2\" class=\"group\">{rule}</th>"
    )));
    for (date, count, pct) in expected {
        let (_, row) = daily.split_once(&format!("<td>{date}</td>")).unwrap();
        let (row, _) = row.split_once("</tr>").unwrap();
        let cells: Vec<&str> = row
            .split("<td class=\"n\">")
            .skip(1)
            .map(|c| c.split("</td>").next().unwrap())
            .collect();
        assert_eq!((cells[0], cells[1]), (count, pct), "{date}: {row}");
    }
}
