//! Property tests standing in for a fuzz target (only stable Rust is available): the report parser
//! and the chain checker must never panic, whatever the bytes, and the chain must catch any
//! single changed byte. Cases: `PROPTEST_CASES` (proptest's default, 256, when unset).

use auditor::chain::{ChainOptions, TrailCheck, TrailResult};
use auditor::report::judge;
use auditor::scan::judge_object;
use auditor::source::StoredObject;
use auditor::synth::{ChainWriter, ReportSpec, RuleSpec, encode, key_for, report_id, report_value};
use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use proptest::sample::Index;

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
    let mut c = TrailCheck::new(false);
    for (key, bytes) in reports {
        let o = StoredObject {
            key: key.clone(),
            size: bytes.len() as u64,
            version_id: None,
        };
        c.add(&judge_object(&o, Ok(bytes.clone())));
    }
    c.finish(ChainOptions::default())
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
