//! Property tests standing in for a fuzz target (only stable Rust is available): the report parser,
//! the chain checker, the witness comparison and the timeline must never panic, whatever the
//! bytes, and sequences, sizes and dates are drawn from their full ranges (a report numbered
//! 2^64 − 1, an object of 2^64 − 1 bytes, a date in year 9999); the chain must catch any single
//! changed byte. Cases: `PROPTEST_CASES` (proptest's default, 256, when unset).

use auditor::chain::{ChainOptions, TrailCheck, TrailResult, hours};
use auditor::period::Period;
use auditor::provenance::Provenance;
use auditor::report::judge;
use auditor::scan::judge_object;
use auditor::source::{StoredObject, Versioning};
use auditor::synth::{ChainWriter, ReportSpec, RuleSpec, encode, key_for, report_id, report_value};
use auditor::timeline::TimelineBuilder;
use auditor::witness::{Origin, Witness};
use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use proptest::sample::Index;

/// (text, replacement) pairs; ("", "") means a random byte change.
const EDITS: &[(&str, &str)] = &[
    ("", ""),
    ("\"AWS::S3::Bucket\"", "\"AWS::S3\""),
    ("\"AWS::S3::Bucket\"", "\"AWS::S3::Bucket::X\""),
    ("06:00:00Z", "06:00:00.Z"),
    ("06:00:00Z", "06:00:00.1234567890Z"),
    ("06:00:00Z", "06:00:00+00:00"),
    ("\"us-east-1\"", "\"us-east-12\""),
    ("\"us-east-1\"", "\"us-gov-west-1\""),
    ("\"dev\"", "\"dev-\""),
    ("\"dev\"", "\"abcdefghijklmnopq\""),
    ("\"123456789012\"", "\"12345678901\""),
    ("\"schedule\"", "\"cron\""),
    ("\"COMPLIANT\"", "\"compliant\""),
    ("\"SUCCESS\"", "\"DONE\""),
    ("\"Success\"", "null"),
    ("\"Success\"", "\"OK\""),
    (":100,", ":-1,"),
    (":100,", ":1.5,"),
    (":100,", ":1.0,"),
    ("\"resourceId\":\"", "\"resourceId\":\"\"+\""),
    ("\"annotation\":", "\"annotation\":null,\"x\":"),
    ("\"note\":null", "\"note\":7"),
    ("\"previousSha256\":\"", "\"previousSha256\":\"A"),
    ("\"previousKey\":\"reports/", "\"previousKey\":\"report/"),
    // An organization trail's previousKey, and three ways to get its account or region wrong.
    (
        "\"previousKey\":\"reports/",
        "\"previousKey\":\"reports/123456789012/us-east-1/",
    ),
    (
        "\"previousKey\":\"reports/",
        "\"previousKey\":\"reports/12345678901/us-east-1/",
    ),
    (
        "\"previousKey\":\"reports/",
        "\"previousKey\":\"reports/123456789012/us-east-12/",
    ),
    (
        "\"previousKey\":\"reports/",
        "\"previousKey\":\"reports/123456789012/",
    ),
    (
        "\"schemaVersion\":\"1.0\"",
        "\"schemaVersion\":\"1.0\",\"schemaVersion\":\"1.0\"",
    ),
    ("\"lastErrorCode\":null", "\"lastErrorCode\":1"),
    ("\"recording\":true", "\"recording\":\"true\""),
    (
        "\"errors\":[]",
        "\"errors\":[{\"scope\":\"rule\",\"subject\":\"x\",\"code\":\"\",\"message\":\"\"}]",
    ),
    (
        "\"problems\":[]",
        "\"problems\":[{\"code\":\"RULE_MISSING\",\"subject\":\"x\",\"message\":\"\"}]",
    ),
];

/// Edits that break one of the schema's size limits while keeping every pattern.
fn limit_edits() -> Vec<(String, String)> {
    let long = |c: &str, n: usize| c.repeat(n);
    vec![
        (
            "\"name\":\"default\"".into(),
            format!("\"name\":\"{}\"", long("d", 257)),
        ),
        (
            "\"name\":\"s3-bucket-sse-enabled\"".into(),
            format!("\"name\":\"{}\"", long("r", 129)),
        ),
        (
            "\"lastErrorCode\":null".into(),
            format!("\"lastErrorCode\":\"{}\"", long("E", 257)),
        ),
        (
            "\"lastErrorMessage\":null".into(),
            format!("\"lastErrorMessage\":\"{}\"", long("m", 4097)),
        ),
        (
            "\"us-east-1\"".into(),
            format!("\"us-{}-1\"", long("e", 40)),
        ),
        (
            "\"managedIdentifier\":\"".into(),
            format!("\"managedIdentifier\":\"{}", long("A", 257)),
        ),
        (
            "\"AWS::S3::Bucket\"".into(),
            format!("\"AWS::S3::{}\"", long("B", 260)),
        ),
        (
            "\"resourceId\":\"".into(),
            format!("\"resourceId\":\"{}", long("i", 769)),
        ),
        (
            "\"annotation\":\"".into(),
            format!("\"annotation\":\"{}", long("a", 257)),
        ),
        ("/0000000".into(), format!("/{}0000000", long("0", 120))),
    ]
}

#[test]
fn typed_check_accepts_generated_reports() {
    for (_, bytes) in chain(3) {
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(auditor::report::schema_accepts(text));
        assert!(
            auditor::fastcheck::check(text).is_some(),
            "the fast path must take valid reports"
        );
    }
}

fn spec(day: i64, ids: &[&str]) -> ReportSpec {
    let at = Utc.with_ymd_and_hms(2026, 7, 1, 6, 0, 0).unwrap() + Duration::days(day);
    ReportSpec::new(
        at,
        vec![RuleSpec::standard(0, ids), RuleSpec::standard(2, &[])],
    )
}

fn chain(n: usize) -> Vec<(String, Vec<u8>)> {
    let mut w = ChainWriter::new(3);
    (0..n)
        .map(|i| w.next(&spec(i as i64, &["bucket-a", "bucket-b"][..i % 3])))
        .collect()
}

fn check(reports: &[(String, Vec<u8>)]) -> TrailResult {
    let mut c = TrailCheck::new(Versioning::LocalFolder);
    for (key, bytes) in reports {
        let o = StoredObject {
            key: key.clone(),
            size: bytes.len() as u64,
            version_id: None,
        };
        c.add(&judge_object(&o, Ok(bytes.clone())));
    }
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    c.finish(ChainOptions::whole_trail(now, hours(26.0)), &[])
}

/// Sequences from the whole range, with the small ones and the largest ones likely.
fn sequence() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..6, any::<u64>(), (u64::MAX - 3)..=u64::MAX]
}

/// Days from 2026-07-01, from before year 0 to year 9999 (the timestamp pattern's four digits).
fn day() -> impl Strategy<Value = i64> {
    prop_oneof![0i64..8, -800_000i64..2_900_000]
}

proptest! {
    #[test]
    fn parser_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = judge(&bytes);
    }

    #[test]
    fn parser_never_panics_on_damaged_reports(at in any::<Index>(), byte in any::<u8>(), op in 0u8..3) {
        let (_, mut bytes) = chain(2).pop().unwrap();
        let i = at.index(bytes.len());
        match op {
            0 => bytes[i] = byte,
            1 => bytes.truncate(i),
            _ => bytes.insert(i, byte),
        }
        let _ = judge(&bytes);
    }

    #[test]
    fn typed_check_is_never_looser_than_the_schema(at in any::<Index>(), edit in any::<Index>(), byte in any::<u8>()) {
        let (_, bytes) = chain(3).pop().unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let edits: Vec<(String, String)> = EDITS
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .chain(limit_edits())
            .collect();
        let (from, to) = &edits[edit.index(edits.len())];
        // Structured edits hit the constraints; a raw byte change hits everything else.
        let damaged = match (from.as_str(), to.as_str()) {
            ("", "") => {
                let mut b = text.into_bytes();
                let i = at.index(b.len());
                b[i] = byte;
                match String::from_utf8(b) { Ok(t) => t, Err(_) => return Ok(()) }
            }
            (from, to) => {
                let hits: Vec<usize> = text.match_indices(from).map(|(i, _)| i).collect();
                prop_assume!(!hits.is_empty());
                let i = hits[at.index(hits.len())];
                format!("{}{}{}", &text[..i], to, &text[i + from.len()..])
            }
        };
        if auditor::fastcheck::check(&damaged).is_some() {
            prop_assert!(auditor::report::schema_accepts(&damaged), "typed check accepted what the schema refuses:\n{}", damaged);
        }
    }

    #[test]
    fn any_changed_byte_before_the_last_report_is_caught(n in 2usize..6, which in any::<Index>(), at in any::<Index>(), byte in any::<u8>()) {
        let mut reports = chain(n);
        prop_assert!(check(&reports).intact);
        let r = which.index(n - 1);
        let i = at.index(reports[r].1.len());
        prop_assume!(reports[r].1[i] != byte);
        reports[r].1[i] = byte;
        let result = check(&reports);
        prop_assert!(!result.intact, "changing byte {} of report {} went unnoticed", i, r);
    }

    #[test]
    fn chain_checker_never_panics_on_arbitrary_trails(
        links in proptest::collection::vec((sequence(), day(), any::<Option<Index>>(), any::<bool>()), 0..10),
        unread in proptest::collection::vec((sequence(), any::<u64>()), 0..3),
        witnessed in proptest::collection::vec((sequence(), any::<Index>(), any::<bool>()), 0..4),
    ) {
        let mut reports: Vec<(String, Vec<u8>)> = Vec::new();
        for (seq, day, prev, mangle) in links {
            let s = spec(day, &["x"]);
            let id = report_id(seq, day as u64);
            let key = key_for(s.generated_at, seq, &id);
            let previous = prev.filter(|_| !reports.is_empty()).map(|p| {
                let (k, b) = &reports[p.index(reports.len())];
                (k.clone(), auditor::synth::sha256_hex(b))
            });
            let v = report_value(&s, seq, &id, previous.as_ref().map(|(k, h)| (k.as_str(), h.as_str())));
            let mut bytes = encode(&v);
            if mangle {
                bytes.truncate(bytes.len() / 2);
            }
            reports.push((key, bytes));
        }
        // Objects that could not be read, of any listed size, and witnesses of any sequence.
        let mut c = TrailCheck::new(Versioning::Enabled);
        for (key, bytes) in &reports {
            let o = StoredObject { key: key.clone(), size: bytes.len() as u64, version_id: None };
            c.add(&judge_object(&o, Ok(bytes.clone())));
        }
        for (seq, size) in &unread {
            let o = StoredObject { key: key_for(spec(0, &[]).generated_at, *seq, &report_id(*seq, 1)), size: *size, version_id: None };
            c.add(&judge_object(&o, Err("denied".to_owned())));
        }
        let witnesses: Vec<Witness> = witnessed
            .iter()
            .map(|(seq, pick, head)| {
                let key = reports
                    .get(pick.index(reports.len().max(1)))
                    .map_or_else(|| key_for(spec(0, &[]).generated_at, *seq, &report_id(*seq, 2)), |r| r.0.clone());
                let origin = if *head {
                    Origin::Head { location: "chain/head.json".into(), version: "v".into() }
                } else {
                    Origin::File { file: "w".into(), line: 1 }
                };
                Witness { sequence: *seq, key, sha256: "0".repeat(64), origin }
            })
            .collect();
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let _ = c.finish(ChainOptions::whole_trail(now, hours(26.0)), &witnesses);
        let result = check(&reports);
        if result.intact && !reports.is_empty() {
            // Intact means every sequence from 0 appears exactly once.
            let mut seqs: Vec<u64> = reports.iter().filter_map(|(k, _)| auditor::key::parse_key(k)).map(|k| k.sequence).collect();
            seqs.sort_unstable();
            prop_assert_eq!(seqs, (0..reports.len() as u64).collect::<Vec<_>>());
        }
    }

    #[test]
    fn timeline_never_panics_on_arbitrary_reports(
        reports in proptest::collection::vec((sequence(), day(), 0usize..4, any::<bool>()), 0..12),
        period_start in -3i64..10,
        period_days in 0i64..20,
        today in -5i64..40,
    ) {
        let base = Utc.with_ymd_and_hms(2026, 7, 1, 6, 0, 0).unwrap();
        let from = (base + Duration::days(period_start)).date_naive();
        let period = Period { from, to: from + Duration::days(period_days) };
        let mut builder = TimelineBuilder::new(period, (base + Duration::days(today)).date_naive());
        let mut c = TrailCheck::new(Versioning::LocalFolder);
        for (seq, day, n, complete) in reports {
            let mut s = spec(day, &["a", "b", "c", "d"][..n]);
            s.rules[0].complete = complete;
            let id = report_id(seq, 9);
            let key = key_for(s.generated_at, seq, &id);
            let bytes = encode(&report_value(&s, seq, &id, None));
            let o = StoredObject { key: key.clone(), size: bytes.len() as u64, version_id: None };
            let scanned = judge_object(&o, Ok(bytes));
            c.add(&scanned);
            if let Ok(d) = scanned.outcome {
                builder.add(&key, d);
            }
        }
        let now = base + Duration::days(today);
        let chain = c.finish(ChainOptions::whole_trail(now, hours(26.0)), &[]);
        let provenance = Provenance::new("p", "p".into(), now, None, &chain);
        let t = builder.finish("p", chain, provenance);
        prop_assert!(t.days.len() as i64 <= period_days + 1);
    }
}
