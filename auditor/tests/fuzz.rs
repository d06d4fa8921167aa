//! Property tests standing in for a fuzz target (only stable Rust is available): the report parser
//! and the chain checker must never panic, whatever the bytes, and the chain must catch any
//! single changed byte. Cases: `PROPTEST_CASES` (proptest's default, 256, when unset).

use auditor::chain::{ChainOptions, TrailCheck, TrailResult, hours};
use auditor::report::judge;
use auditor::scan::judge_object;
use auditor::source::{StoredObject, Versioning};
use auditor::synth::{ChainWriter, ReportSpec, RuleSpec, encode, key_for, report_id, report_value};
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
    fn typed_check_is_never_looser_than_the_schema(at in any::<Index>(), edit in 0usize..EDITS.len(), byte in any::<u8>()) {
        let (_, bytes) = chain(3).pop().unwrap();
        let text = String::from_utf8(bytes).unwrap();
        // Structured edits hit the constraints; a raw byte change hits everything else.
        let damaged = match EDITS[edit] {
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
        links in proptest::collection::vec((0u64..6, 0i64..8, any::<Option<Index>>(), any::<bool>()), 0..10)
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
        let result = check(&reports);
        if result.intact && !reports.is_empty() {
            // Intact means every sequence from 0 appears exactly once.
            let mut seqs: Vec<u64> = reports.iter().filter_map(|(k, _)| auditor::key::parse_key(k)).map(|k| k.sequence).collect();
            seqs.sort_unstable();
            prop_assert_eq!(seqs, (0..reports.len() as u64).collect::<Vec<_>>());
        }
    }
}
