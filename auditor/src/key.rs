//! Report object keys. The generator stores report *n* of a single-account trail at
//! `reports/YYYY/MM/DD/<sequence, 8+ digits>-<reportId>.json`, and of an organization's trail at
//! `reports/<account, 12 digits>/<region>/YYYY/MM/DD/<…>.json` (docs/report-format.md, "Where
//! reports live"); this module reads those parts back.
//!
//! A source may be rooted anywhere: at the bucket root, at `reports/`, at a year folder, or above
//! the bucket in a local copy. The *canonical key* is therefore rebuilt from the path's tail:
//! `reports/<account>/<region>/YYYY/MM/DD/<file>` when the key shows `reports/`, an account and a
//! region before the date folders, else `reports/YYYY/MM/DD/<file>` from the last four segments.
//! That is exactly what a successor's `previousKey` holds.
//!
//! A key that does not show its trail (a copy of one trail's folder made without its
//! `reports/<account>/<region>/` folders) cannot be told apart from the same file in another
//! trail: [`same_report`] then compares the date folders and file name alone.

use chrono::NaiveDate;

/// One trail of an organization's bucket: an account and a region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TrailId {
    /// 12 digits.
    pub account: String,
    /// A region name, as the schema's `region` pattern allows.
    pub region: String,
}

impl TrailId {
    /// The trail's folder under the bucket root: `reports/<account>/<region>/`.
    pub fn reports_prefix(&self) -> String {
        format!("reports/{}/{}/", self.account, self.region)
    }

    /// The trail's bookkeeping folder: `chain/<account>/<region>/`.
    pub fn chain_prefix(&self) -> String {
        format!("chain/{}/{}/", self.account, self.region)
    }
}

impl std::fmt::Display for TrailId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.account, self.region)
    }
}

/// An AWS account id: 12 digits.
pub fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A region name, by the schema's `region` pattern (`^[a-z]{2}(-gov)?-[a-z]+-[0-9]$`).
pub fn is_region(s: &str) -> bool {
    crate::fastcheck::region(s)
}

/// The parts of a well-formed report key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportKey {
    /// `reports/[<account>/<region>/]YYYY/MM/DD/<file>` as the generator wrote it.
    pub canonical: String,
    /// The trail the key's path names, when it shows `reports/<account>/<region>/`.
    pub trail: Option<TrailId>,
    /// The `YYYY/MM/DD` folder: the UTC date of `generatedAt`.
    pub date: NaiveDate,
    /// The zero-padded sequence prefix of the file name.
    pub sequence: u64,
    /// The `reportId` part of the file name.
    pub report_id: String,
}

/// Parses the trailing `[reports/<account>/<region>/]YYYY/MM/DD/<seq>-<uuid>.json` of `key`;
/// `None` when it does not follow the naming rule.
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
    let trail = match (parts.next(), parts.next(), parts.next()) {
        (Some(region), Some(account), Some("reports"))
            if is_account(account) && is_region(region) =>
        {
            Some(TrailId {
                account: account.to_owned(),
                region: region.to_owned(),
            })
        }
        _ => None,
    };
    let folder = trail
        .as_ref()
        .map_or_else(|| "reports/".to_owned(), TrailId::reports_prefix);
    Some(ReportKey {
        canonical: format!("{folder}{year}/{month}/{day}/{file}"),
        trail,
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

/// Whether two canonical keys name the same report: equal, or, when one of them does not show
/// its trail, equal in their date folders and file name.
pub fn same_report(a: &str, b: &str) -> bool {
    fn split(c: &str) -> (bool, &str) {
        // `reports/` + account + region + YYYY/MM/DD/file: the tail starts after the 3rd `/`.
        let segments = c.split('/').count();
        let tail_at = c
            .char_indices()
            .filter(|(_, ch)| *ch == '/')
            .nth(segments.saturating_sub(5))
            .map_or(0, |(i, _)| i + 1);
        (segments == 7, &c[tail_at..])
    }
    if a == b {
        return true;
    }
    let ((a_trail, a_tail), (b_trail, b_tail)) = (split(a), split(b));
    !(a_trail && b_trail) && a_tail == b_tail
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
        let org = parse_key(&format!(
            "archive/reports/123456789012/eu-west-1/2026/07/01/00000042-{ID}.json"
        ))
        .unwrap();
        assert_eq!(
            org.canonical,
            format!("reports/123456789012/eu-west-1/2026/07/01/00000042-{ID}.json")
        );
        let trail = org.trail.unwrap();
        assert_eq!(
            (trail.account.as_str(), trail.region.as_str()),
            ("123456789012", "eu-west-1")
        );
        // Without `reports/` before them, an account and a region are ordinary folders.
        let copy = parse_key(&format!(
            "123456789012/eu-west-1/2026/07/01/00000042-{ID}.json"
        ));
        assert_eq!(copy.unwrap().trail, None);
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

    #[test]
    fn same_report_compares_the_trail_only_when_both_keys_show_it() {
        let single = format!("reports/2026/07/01/00000042-{ID}.json");
        let a = format!("reports/123456789012/us-east-1/2026/07/01/00000042-{ID}.json");
        let b = format!("reports/210987654321/us-east-1/2026/07/01/00000042-{ID}.json");
        assert!(same_report(&a, &a) && same_report(&single, &single));
        assert!(!same_report(&a, &b), "another account's report");
        assert!(same_report(&a, &single) && same_report(&single, &b));
        let other_day = single.replace("/01/", "/02/");
        assert!(!same_report(&a, &other_day) && !same_report(&single, &other_day));
    }
}
