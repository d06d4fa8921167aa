//! Report object keys. The generator stores report *n* at
//! `reports/YYYY/MM/DD/<sequence, 8+ digits>-<reportId>.json`; this module reads those parts back.
//!
//! A source may be rooted anywhere: at the bucket root, at `reports/`, at a year folder, or above
//! the bucket in a local copy. The *canonical key* is therefore rebuilt from the last four path
//! segments as `reports/YYYY/MM/DD/<file>`, which is exactly what a successor's `previousKey` holds.

use chrono::NaiveDate;

/// The parts of a well-formed report key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportKey {
    /// `reports/YYYY/MM/DD/<file>` as the generator wrote it.
    pub canonical: String,
    /// The `YYYY/MM/DD` folder: the UTC date of `generatedAt`.
    pub date: NaiveDate,
    /// The zero-padded sequence prefix of the file name.
    pub sequence: u64,
    /// The `reportId` part of the file name.
    pub report_id: String,
}

/// Parses the trailing `YYYY/MM/DD/<seq>-<uuid>.json` of `key`; `None` when it does not follow
/// the naming rule.
pub fn parse_key(key: &str) -> Option<ReportKey> {
    let mut parts = key.rsplit('/');
    let file = parts.next()?;
    let day = parts.next()?;
    let month = parts.next()?;
    let year = parts.next()?;
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)?;
    let stem = file.strip_suffix(".json")?;
    let (seq, id) = stem.split_once('-')?;
    if seq.len() < 8 || !seq.bytes().all(|b| b.is_ascii_digit()) || !is_uuid(id) {
        return None;
    }
    Some(ReportKey {
        canonical: format!("reports/{year}/{month}/{day}/{file}"),
        date,
        sequence: seq.parse().ok()?,
        report_id: id.to_owned(),
    })
}

/// The canonical form of any key (or `previousKey` value): rebuilt when it follows the naming
/// rule, else the key unchanged.
pub fn canonical(key: &str) -> String {
    parse_key(key).map_or_else(|| key.to_owned(), |k| k.canonical)
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0b6f3c1e-8d2a-5f4e-9c1b-2a3d4e5f6a7b";

    #[test]
    fn parses_key_at_any_root() {
        for prefix in ["", "bucket/", "/tmp/copy/", "x/reports/"] {
            let k = parse_key(&format!("{prefix}reports/2026/07/01/00000042-{ID}.json")).unwrap();
            assert_eq!(
                k.canonical,
                format!("reports/2026/07/01/00000042-{ID}.json")
            );
            assert_eq!(k.sequence, 42);
            assert_eq!(k.date, NaiveDate::from_ymd_opt(2026, 7, 1).unwrap());
        }
        let below = parse_key(&format!("2026/07/01/00000042-{ID}.json")).unwrap();
        assert_eq!(
            below.canonical,
            format!("reports/2026/07/01/00000042-{ID}.json")
        );
    }

    #[test]
    fn rejects_keys_off_the_naming_rule() {
        for bad in [
            format!("reports/2026/07/01/42-{ID}.json"),
            format!("reports/2026/13/01/00000042-{ID}.json"),
            format!("reports/2026/07/01/00000042-{ID}.txt"),
            "reports/2026/07/01/00000042-NOT-A-UUID.json".to_owned(),
            format!("07/01/00000042-{ID}.json"),
        ] {
            assert_eq!(parse_key(&bad), None, "{bad}");
        }
    }
}
