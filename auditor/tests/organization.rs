//! An organization's bucket (`reports/<account>/<region>/…`) read from a folder: every trail
//! found and verified on its own, a broken trail among many named alone, accounts without a
//! trail and trails nobody expects, objects outside every trail, witnesses and heads per trail,
//! and the timeline's roll-up checked against each trail's own timeline in JSON, CSV, Markdown
//! and the HTML folder.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use common::*;
use serde_json::Value;

const ACCOUNTS: [&str; 3] = ["111111111111", "222222222222", "333333333333"];
const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];

/// Six trails of ten days from 2026-07-01: every one lists `shared-bucket` every day (an
/// organization-wide exposure), and each has findings of its own that come and go.
fn organization() -> OrgBucket {
    let mut trails = Vec::new();
    for (a, account) in ACCOUNTS.iter().enumerate() {
        for (r, region) in REGIONS.iter().enumerate() {
            let own: &'static str = ["bucket-a", "bucket-b", "bucket-c"][(a + r) % 3];
            trails.push((
                *account,
                *region,
                daily("2026-07-01", 10, move |d| {
                    if d % 4 == (a + r) as u32 % 4 {
                        vec!["shared-bucket", own]
                    } else {
                        vec!["shared-bucket"]
                    }
                }),
            ));
        }
    }
    write_organization(&trails)
}

fn run(args: &[&str]) -> (i32, String, String) {
    run_at(AS_OF, args)
}

fn json(args: &[&str]) -> (i32, Value, String) {
    let (code, out, err) = run(args);
    (code, serde_json::from_str(&out).unwrap_or(Value::Null), err)
}

fn trail<'v>(v: &'v Value, account: &str, region: &str) -> &'v Value {
    v["trails"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["account"] == account && t["region"] == region)
        .unwrap_or_else(|| panic!("no trail {account}/{region} in {v:#}"))
}

fn root(o: &OrgBucket) -> String {
    o.root().to_str().unwrap().to_owned()
}

#[test]
fn every_trail_is_found_and_verified_on_its_own() {
    let o = organization();
    let (code, v, err) = json(&["verify", &root(&o), "--format", "json", "--as-of", AS_OF]);
    assert_eq!(code, 0, "{err}{v:#}");
    assert_eq!(v["format"], "auditor-verify-organization/1");
    assert_eq!(v["summary"]["trails"], 6);
    assert_eq!(v["summary"]["accounts"], 3);
    assert_eq!(v["summary"]["regions"], serde_json::json!(REGIONS));
    assert_eq!(v["summary"]["reports"], 60);
    assert_eq!(v["summary"]["findings"], 0);
    let provenance = v["provenance"]["trails"].as_array().unwrap();
    assert_eq!(provenance.len(), 6);
    for account in ACCOUNTS {
        for region in REGIONS {
            let t = trail(&v, account, region);
            assert_eq!(t["intact"], true);
            assert_eq!(t["reports"], 10);
            assert_eq!(t["accounts"], serde_json::json!([account]));
            // The trail's own head, chain/<account>/<region>/head.json, was compared.
            assert_eq!(t["head"]["state"], "present");
            assert_eq!(t["headVersions"]["matched"], 1);
            let key = t["newestReport"]["key"].as_str().unwrap();
            assert!(key.starts_with(&format!("reports/{account}/{region}/2026/07/10/")));
        }
    }
    // The text opens with the organization's provenance and ends with the verdict.
    let (code, text, _) = run(&["verify", &root(&o), "--as-of", AS_OF]);
    assert_eq!(code, 0);
    assert!(
        text.starts_with(&format!("organization:    {}\n", root(&o))),
        "{text}"
    );
    assert!(text.contains("trail 111111111111/eu-west-1: OK, 10 reports, sequences 0..9"));
    assert!(
        text.trim_end()
            .ends_with("result:          OK: every trail is intact and complete")
    );
}

#[test]
fn a_broken_trail_among_many_is_named_alone() {
    let o = organization();
    // Report 4 of one trail is edited after the fact: the shared finding is renamed, the JSON
    // still valid and the summary's counts unchanged, so only its successor's link shows it.
    let p = o.path("222222222222", "eu-west-1", 4);
    let edited =
        fs::read_to_string(&p)
            .unwrap()
            .replacen("\"shared-bucket\"", "\"hidden-bucket\"", 1);
    assert!(edited.contains("hidden-bucket"));
    fs::write(&p, edited).unwrap();
    let (code, v, _) = json(&["verify", &root(&o), "--format", "json", "--as-of", AS_OF]);
    assert_eq!(code, 1);
    assert_eq!(v["summary"]["trailsWithFindings"], 1);
    assert_eq!(
        v["summary"]["findingsByKind"],
        serde_json::json!({"hash-mismatch": 1})
    );
    let broken = trail(&v, "222222222222", "eu-west-1");
    assert_eq!(problem_codes(broken), ["hash-mismatch"]);
    let key = &o.trails[&("222222222222".to_owned(), "eu-west-1".to_owned())][5];
    assert_eq!(broken["problems"][0]["key"], key.as_str());
    for t in v["trails"].as_array().unwrap() {
        if t["account"] != "222222222222" || t["region"] != "eu-west-1" {
            assert_eq!(t["findings"], 0, "{t:#}");
        }
    }
}

#[test]
fn accounts_without_a_trail_and_trails_nobody_expects_are_findings() {
    let o = organization();
    let list = o.root().join("accounts.txt");
    fs::write(
        &list,
        "# the landing zone\n111111111111  # payments\n222222222222,us-east-1\n222222222222,eu-west-1\n222222222222,ap-southeast-2 # data\n444444444444 # sandbox\n",
    )
    .unwrap();
    let list = list.to_str().unwrap();
    let (code, v, _) = json(&[
        "verify",
        &root(&o),
        "--format",
        "json",
        "--as-of",
        AS_OF,
        "--accounts",
        list,
    ]);
    assert_eq!(code, 1);
    let found: Vec<(String, String)> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_owned(),
                p["key"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("missing-trail", "reports/222222222222/ap-southeast-2/"),
        ("missing-account", "reports/444444444444/"),
        ("unexpected-trail", "reports/333333333333/eu-west-1/"),
        ("unexpected-trail", "reports/333333333333/us-east-1/"),
    ];
    assert_eq!(
        found,
        expected.map(|(c, k)| (c.to_owned(), k.to_owned())).to_vec()
    );
    assert!(
        v["problems"][1]["detail"]
            .as_str()
            .unwrap()
            .contains("(sandbox)")
    );
    assert_eq!(trail(&v, "111111111111", "us-east-1")["name"], "payments");
    assert_eq!(v["summary"]["findings"], 4);
    assert_eq!(
        v["provenance"]["accountsFrom"],
        format!("{list} (3 accounts)")
    );
}

#[test]
fn a_malformed_accounts_file_stops_the_run_before_reading() {
    let o = organization();
    let list = o.root().join("accounts.txt");
    fs::write(&list, "111111111111\n22222222222 # one digit short\n").unwrap();
    let (code, out, err) = run(&["verify", &root(&o), "--accounts", list.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err.trim_end(),
        format!(
            "auditor: error: {}:2: \"22222222222\" is not an account id (12 digits)",
            list.display()
        )
    );
    // A single account's trail has no accounts to miss.
    let single = clean_trail();
    let (code, _, err) = run(&[
        "verify",
        single.root().to_str().unwrap(),
        "--accounts",
        o.root().join("nowhere.txt").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    fs::write(&list, "111111111111\n").unwrap();
    let (code, _, err) = run(&[
        "verify",
        single.root().to_str().unwrap(),
        "--accounts",
        list.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--accounts applies to an organization's bucket"),
        "{err}"
    );
}

#[test]
fn a_report_in_another_trails_folder_or_linking_to_one_is_a_finding() {
    let o = organization();
    // A report of 222222222222 copied over one of 111111111111's: its content says so.
    let theirs = fs::read(o.path("222222222222", "us-east-1", 9)).unwrap();
    fs::write(o.path("111111111111", "us-east-1", 9), theirs).unwrap();
    // Report 5 of 333333333333/eu-west-1 names its predecessor in another account's folder; the
    // later links are recomputed, so only the key is wrong.
    let keys = &o.trails[&("333333333333".to_owned(), "eu-west-1".to_owned())];
    for i in 5..keys.len() {
        let p = o.root().join(&keys[i]);
        let mut v: Value = serde_json::from_slice(&fs::read(&p).unwrap()).unwrap();
        if i == 5 {
            let elsewhere = keys[4].replace("333333333333", "111111111111");
            v["chain"]["previousKey"] = elsewhere.into();
        } else {
            let previous = fs::read(o.root().join(&keys[i - 1])).unwrap();
            v["chain"]["previousSha256"] = auditor::synth::sha256_hex(&previous).into();
        }
        fs::write(&p, auditor::synth::encode(&v)).unwrap();
    }
    let (code, v, _) = json(&["verify", &root(&o), "--format", "json", "--as-of", AS_OF]);
    assert_eq!(code, 1);
    let moved = trail(&v, "111111111111", "us-east-1");
    let (_, detail) = &problems_with(moved, "key-mismatch")[0];
    assert!(
        detail.contains("trail 111111111111/us-east-1 in the key but account 222222222222"),
        "{detail}"
    );
    let linked = trail(&v, "333333333333", "eu-west-1");
    assert!(
        problem_codes(linked).contains(&"previous-key-mismatch".to_owned()),
        "{linked:#}"
    );
    assert!(!problem_codes(linked).contains(&"hash-mismatch".to_owned()));
}

#[test]
fn objects_outside_every_trail_are_findings() {
    let o = organization();
    for key in [
        "reports/2026/07/01/00000000-0b6f3c1e-8d2a-5f4e-9c1b-2a3d4e5f6a7b.json",
        "reports/111111111111/misc/x.json",
        "reports/stray.json",
    ] {
        let p = o.root().join(key);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, b"{}").unwrap();
    }
    let (code, v, _) = json(&["verify", &root(&o), "--format", "json", "--as-of", AS_OF]);
    assert_eq!(code, 1);
    let outside: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "outside-trail")
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        outside,
        [
            "reports/111111111111/misc/",
            "reports/2026/",
            "reports/stray.json"
        ]
    );
    assert_eq!(v["summary"]["trails"], 6, "the trails are still read");
}

#[test]
fn heads_and_witnesses_are_compared_trail_by_trail() {
    let o = organization();
    // The newest report of one trail is deleted; its head still names it.
    fs::remove_file(o.path("333333333333", "us-east-1", 9)).unwrap();
    // A witness of another trail with another hash, and one of an account not in the bucket.
    let k = &o.trails[&("111111111111".to_owned(), "eu-west-1".to_owned())][9];
    let other = k.replace("111111111111", "999999999999");
    let witness = o.root().join("heads.txt");
    fs::write(
        &witness,
        format!(
            "witness: 9 {k} {}\nwitness: 9 {other} {}\n",
            "a".repeat(64),
            "b".repeat(64)
        ),
    )
    .unwrap();
    let (code, v, _) = json(&[
        "verify",
        &root(&o),
        "--format",
        "json",
        "--as-of",
        AS_OF,
        "--witness",
        witness.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let deleted = trail(&v, "333333333333", "us-east-1");
    assert!(
        problem_codes(deleted).contains(&"head-ahead".to_owned()),
        "{deleted:#}"
    );
    let witnessed = trail(&v, "111111111111", "eu-west-1");
    assert_eq!(problem_codes(witnessed), ["witness-mismatch"]);
    assert_eq!(witnessed["witnesses"]["compared"], 1);
    assert_eq!(problem_codes(&v), ["witness-missing"]);
    assert_eq!(
        trail(&v, "222222222222", "us-east-1")["witnesses"]["compared"],
        0
    );
}

#[test]
fn one_trail_of_the_bucket_is_read_as_a_single_trail() {
    let o = organization();
    let folder = o.root().join("reports/111111111111/us-east-1");
    let (code, v, err) = json(&[
        "verify",
        folder.to_str().unwrap(),
        "--format",
        "json",
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["format"], "auditor-verify/1");
    assert_eq!(v["headVersions"]["matched"], 1);
    assert!(
        v["head"]["location"]
            .as_str()
            .unwrap()
            .ends_with("chain/111111111111/us-east-1/head.json")
    );
    // An account's folder reads that account's trails.
    let account = o.root().join("reports/222222222222");
    let (code, v, _) = json(&[
        "verify",
        account.to_str().unwrap(),
        "--format",
        "json",
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(code, 0);
    assert_eq!(v["summary"]["trails"], 2);
    // status reads one trail, and says which to give.
    let (code, out, err) = run(&["status", &root(&o), "--as-of", AS_OF]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("status reads one trail") && err.contains("reports/111111111111/eu-west-1"),
        "{err}"
    );
    let (code, _, err) = run(&["status", folder.to_str().unwrap(), "--as-of", AS_OF]);
    assert_eq!(code, 0, "{err}");
}

/// Each trail's own `timeline --format json`, by (account, region).
fn each_trail(o: &OrgBucket, period: &[&str]) -> BTreeMap<(String, String), Value> {
    o.trails
        .keys()
        .map(|(account, region)| {
            let folder = o.root().join(format!("reports/{account}/{region}"));
            let mut args = vec![
                "timeline",
                folder.to_str().unwrap(),
                "--format",
                "json",
                "--as-of",
                AS_OF,
            ];
            args.extend_from_slice(period);
            let (_, v, _) = json(&args);
            ((account.clone(), region.clone()), v)
        })
        .collect()
}

const PERIOD: [&str; 4] = ["--from", "2026-07-01", "--to", "2026-07-10"];

/// `auditor timeline` over the whole bucket for [`PERIOD`] as of [`AS_OF`], with `extra`.
fn timeline(o: &OrgBucket, extra: &[&str]) -> (i32, String, String) {
    let root = root(o);
    let mut args = vec!["timeline", root.as_str(), "--as-of", AS_OF];
    args.extend_from_slice(&PERIOD);
    args.extend_from_slice(extra);
    run(&args)
}

fn timeline_json(o: &OrgBucket) -> (i32, Value, String) {
    let (code, out, err) = timeline(o, &["--format", "json"]);
    (code, serde_json::from_str(&out).unwrap_or(Value::Null), err)
}

#[test]
fn the_roll_up_adds_up_what_each_trail_says() {
    let o = organization();
    let (code, v, err) = timeline_json(&o);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["format"], "auditor-timeline-organization/1");
    assert_eq!(v["evidence"]["state"], "complete");
    let alone = each_trail(&o, &PERIOD);
    // Every trail's detail is its own timeline.
    let trails = v["trails"].as_array().unwrap();
    assert_eq!(trails.len(), 6);
    for t in trails {
        let key = (
            t["account"].as_str().unwrap().to_owned(),
            t["region"].as_str().unwrap().to_owned(),
        );
        let own = &alone[&key];
        for field in ["days", "exposures", "ruleStats", "monitoring", "evidence"] {
            assert_eq!(t["timeline"][field], own[field], "{key:?} {field}");
        }
    }
    // Per day and rule, the organization's count is the sum of the trails'.
    for (i, day) in v["days"].as_array().unwrap().iter().enumerate() {
        assert_eq!(day["trailsReported"], 6);
        for rule in v["rules"].as_array().unwrap() {
            let rule = rule.as_str().unwrap();
            let sum: u64 = alone
                .values()
                .map(|t| t["days"][i]["byRule"][rule].as_u64().unwrap())
                .sum();
            assert_eq!(day["byRule"][rule], sum, "{rule} on day {i}");
        }
        let c = &day["complianceByRule"]["s3-bucket-sse-enabled"];
        let compliant: u64 = alone
            .values()
            .map(|t| {
                t["days"][i]["complianceByRule"]["s3-bucket-sse-enabled"]["compliant"]
                    .as_u64()
                    .unwrap()
            })
            .sum();
        assert_eq!(c["compliant"], compliant);
        assert_eq!(c["trails"], 6);
    }
    for r in v["ruleTotals"].as_array().unwrap() {
        for field in [
            "openAtEnd",
            "opened",
            "resolved",
            "reopened",
            "remediatedWindows",
        ] {
            let sum: u64 = alone
                .values()
                .flat_map(|t| t["ruleStats"].as_array().unwrap().iter())
                .filter(|s| s["rule"] == r["rule"])
                .map(|s| s[field].as_u64().unwrap())
                .sum();
            assert_eq!(r[field], sum, "{} {field}", r["rule"]);
        }
    }
    // The organization-wide exposure leads the worst exposures, once per trail.
    let worst = v["worstExposures"].as_array().unwrap();
    for e in &worst[..6] {
        assert_eq!(e["resourceId"], "shared-bucket");
        assert_eq!(e["daysNonCompliant"], 10);
        assert_eq!(e["openAtEnd"], true);
    }
    assert_ne!(worst[6]["resourceId"], "shared-bucket");
    // Provenance names every trail's first and newest report.
    let p = v["provenance"]["trails"].as_array().unwrap();
    assert_eq!(p.len(), 6);
    assert_eq!(p[0]["firstReport"]["sequence"], 0);
    assert_eq!(p[0]["newestReport"]["sequence"], 9);
    assert_eq!(v["byTrail"].as_array().unwrap().len(), 6);
}

#[test]
fn missing_evidence_anywhere_is_said_for_the_organization() {
    let o = organization();
    for i in 7..10 {
        fs::remove_file(o.path("222222222222", "us-east-1", i)).unwrap();
    }
    fs::remove_file(o.root().join("chain/222222222222/us-east-1/head.json")).unwrap();
    let (code, v, err) = timeline_json(&o);
    assert_eq!(code, 1);
    assert_eq!(v["evidence"]["state"], "partial");
    let statement = v["evidence"]["statement"].as_str().unwrap();
    assert!(
        statement.starts_with(
            "NO EVIDENCE for part of the organization in 2026-07-01 to 2026-07-10: 1 of 6 trails"
        ),
        "{statement}"
    );
    assert!(
        statement.contains("222222222222/us-east-1 (partial)"),
        "{statement}"
    );
    assert_eq!(err.trim_end(), format!("auditor: {statement}"));
    assert_eq!(v["days"][8]["trailsWithoutReport"], 1);
    assert_eq!(v["summary"]["trailsWithGaps"], 1);
}

#[test]
fn csv_detail_rows_carry_account_and_region() {
    let o = organization();
    let (code, out, _) = timeline(&o, &["--format", "csv"]);
    assert_eq!(code, 0);
    let mut sections: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(out.as_bytes());
    for record in reader.records() {
        let r: Vec<String> = record.unwrap().iter().map(str::to_owned).collect();
        match r.as_slice() {
            [s, name] if s == "section" => sections.push((name.clone(), Vec::new())),
            [empty] if empty.is_empty() => {}
            _ => sections.last_mut().unwrap().1.push(r),
        }
    }
    let names: Vec<&str> = sections.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "provenance",
            "trail_reports",
            "summary",
            "trails",
            "rule_totals",
            "daily_totals",
            "worst_exposures",
            "organization_problems",
            "trail_daily",
            "trail_exposure_windows",
            "trail_chain_problems",
            "trail_cadence_gaps",
            "trail_monitoring"
        ]
    );
    let detail = |name: &str| &sections.iter().find(|(n, _)| n == name).unwrap().1;
    let daily = detail("trail_daily");
    assert_eq!(daily[0][..4], ["account", "region", "date", "state"]);
    assert_eq!(daily.len() - 1, 6 * 10 * 3, "a row per trail, day and rule");
    let windows = detail("trail_exposure_windows");
    assert_eq!(windows[0][..3], ["account", "region", "rule"]);
    for row in &windows[1..] {
        assert!(
            ACCOUNTS.contains(&row[0].as_str()) && REGIONS.contains(&row[1].as_str()),
            "{row:?}"
        );
    }
    let shared = windows[1..]
        .iter()
        .filter(|r| r[4] == "shared-bucket")
        .count();
    assert_eq!(shared, 6);
}

#[test]
fn html_is_a_folder_of_self_contained_pages() {
    let o = organization();
    let out = o.root().join("q3-org");
    let target = format!("{}/", out.display());
    let (code, _, err) = timeline(&o, &["-o", &target]);
    assert_eq!(code, 0, "{err}");
    let index = fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("Organization compliance timeline: 2026-07-01 to 2026-07-10"));
    for forbidden in ["<script", "http://", "https://", "src="] {
        assert!(!index.contains(forbidden), "{forbidden}");
    }
    let links: Vec<&str> = index
        .split("href=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert_eq!(links.len(), 6);
    for link in links {
        assert!(
            Path::new(link).components().count() == 1,
            "only pages beside the index: {link}"
        );
        let page = fs::read_to_string(out.join(link)).unwrap();
        assert!(page.contains("Compliance timeline: 2026-07-01 to 2026-07-10"));
        assert!(!page.contains("<script"));
    }
    assert_eq!(fs::read_dir(&out).unwrap().count(), 7);
    // A second run replaces the folder; one holding something else is refused, untouched.
    let (code, _, _) = timeline(&o, &["-o", &target]);
    assert_eq!(code, 0);
    let other = o.root().join("keep");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("notes.txt"), b"mine").unwrap();
    let (code, _, err) = timeline(&o, &["-o", &format!("{}/", other.display())]);
    assert_eq!(code, 2);
    assert!(
        err.contains("is not an organization report folder"),
        "{err}"
    );
    assert_eq!(fs::read(other.join("notes.txt")).unwrap(), b"mine");
    // An organization's HTML needs a folder.
    for bad in [["--format", "html"], ["-o", "q3.html"]] {
        let (code, _, err) = timeline(&o, &bad);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("an organization's HTML report is a folder"),
            "{err}"
        );
    }
}

#[test]
fn markdown_gives_the_roll_up() {
    let o = organization();
    let (code, out, _) = timeline(&o, &["--format", "md"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("# Organization compliance timeline: 2026-07-01 to 2026-07-10\n"));
    for heading in [
        "## Per account and region",
        "## Rules over every trail",
        "## Worst exposures across the organization",
        "## Each trail's first and newest report",
    ] {
        assert!(out.contains(heading), "{heading}");
    }
}

#[test]
fn the_number_of_jobs_changes_nothing_but_the_speed() {
    let o = organization();
    fs::remove_file(o.path("111111111111", "us-east-1", 3)).unwrap();
    let mut verified = Vec::new();
    let mut rolled_up = Vec::new();
    for jobs in ["1", "2", "5", "64"] {
        verified.push(run(&[
            "verify",
            &root(&o),
            "--format",
            "json",
            "--as-of",
            AS_OF,
            "--jobs",
            jobs,
        ]));
        rolled_up.push(timeline(&o, &["--format", "csv", "--jobs", jobs]));
    }
    assert_eq!(verified[0].0, 1, "the deleted report is a finding");
    let v: Value = serde_json::from_str(&verified[0].1).unwrap();
    assert_eq!(
        problem_codes(trail(&v, "111111111111", "us-east-1")),
        ["missing-sequence"]
    );
    for (v, t) in verified[1..].iter().zip(&rolled_up[1..]) {
        assert_eq!(v, &verified[0], "verify in trail order whatever --jobs");
        assert_eq!(t, &rolled_up[0], "timeline in trail order whatever --jobs");
    }
    for bad in ["0", "65", "many"] {
        let (code, out, err) = run(&["verify", &root(&o), "--jobs", bad]);
        assert_eq!((code, out.as_str()), (2, ""), "--jobs {bad}");
        assert!(err.contains("--jobs"), "{err}");
    }
}
