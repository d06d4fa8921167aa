//! The period a timeline covers: a calendar quarter, an explicit inclusive date range, or by
//! default the current quarter (UTC).

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::error::PeriodError;

/// Inclusive UTC date range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// `2026-Q3` → 2026-07-01 ..= 2026-09-30.
    pub fn quarter(text: &str) -> Result<Self, PeriodError> {
        let bad = || PeriodError::Quarter(text.to_owned());
        let (year, q) = text.split_once(['-', ' ']).ok_or_else(bad)?;
        let q = q.strip_prefix(['Q', 'q']).ok_or_else(bad)?;
        let (year, q): (i32, u32) = (
            year.parse().map_err(|_| bad())?,
            q.parse().map_err(|_| bad())?,
        );
        if !(1..=4).contains(&q) || !(1970..=9999).contains(&year) {
            return Err(bad());
        }
        Ok(Self::quarter_of(
            NaiveDate::from_ymd_opt(year, 3 * q - 2, 1).ok_or_else(bad)?,
        ))
    }

    /// The quarter containing `day`.
    pub fn quarter_of(day: NaiveDate) -> Self {
        let first_month = (day.month0() / 3) * 3 + 1;
        let from =
            NaiveDate::from_ymd_opt(day.year(), first_month, 1).expect("valid quarter start");
        let next = if first_month == 10 {
            NaiveDate::from_ymd_opt(day.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(day.year(), first_month + 3, 1)
        };
        let to = next.and_then(|n| n.pred_opt()).unwrap_or(NaiveDate::MAX);
        Period { from, to }
    }

    /// `--from` and `--to`, both inclusive.
    pub fn between(from: &str, to: &str) -> Result<Self, PeriodError> {
        let parse = |flag: &'static str, value: &str| {
            NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| PeriodError::Date {
                flag,
                value: value.to_owned(),
            })
        };
        let (f, t) = (parse("--from", from)?, parse("--to", to)?);
        if f > t {
            return Err(PeriodError::Reversed {
                from: from.to_owned(),
                to: to.to_owned(),
            });
        }
        Ok(Period { from: f, to: t })
    }

    /// Chooses the period from the command line; the current quarter when nothing is given.
    pub fn resolve(
        quarter: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        today: NaiveDate,
    ) -> Result<Self, PeriodError> {
        match (quarter, from, to) {
            (Some(q), _, _) => Self::quarter(q),
            (None, Some(f), Some(t)) => Self::between(f, t),
            (None, None, None) => Ok(Self::quarter_of(today)),
            _ => Err(PeriodError::HalfOpen),
        }
    }

    /// Number of days in the period.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// `2026-Q3` when the period is exactly a quarter, else `FROM to TO`.
    pub fn label(&self) -> String {
        let q = Self::quarter_of(self.from);
        if q == *self {
            format!("{}-Q{}", self.from.year(), self.from.month0() / 3 + 1)
        } else {
            format!("{} to {}", self.from, self.to)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn quarters() {
        assert_eq!(
            Period::quarter("2026-Q3").unwrap(),
            Period {
                from: d("2026-07-01"),
                to: d("2026-09-30")
            }
        );
        assert_eq!(Period::quarter("2024-Q1").unwrap().to, d("2024-03-31"));
        assert_eq!(Period::quarter("2025-Q4").unwrap().to, d("2025-12-31"));
        assert_eq!(Period::quarter("2026-Q3").unwrap().label(), "2026-Q3");
        for bad in ["2026-Q5", "2026Q1", "26-Q1", "2026-Q0", "x"] {
            assert!(Period::quarter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resolve_defaults_to_current_quarter() {
        let p = Period::resolve(None, None, None, d("2026-11-26")).unwrap();
        assert_eq!(
            p,
            Period {
                from: d("2026-10-01"),
                to: d("2026-12-31")
            }
        );
        assert_eq!(
            Period::resolve(None, Some("2026-01-01"), None, d("2026-11-26")),
            Err(PeriodError::HalfOpen)
        );
        assert!(Period::between("2026-02-01", "2026-01-01").is_err());
        assert_eq!(
            Period::between("2026-01-01", "2026-01-31").unwrap().days(),
            31
        );
    }
}
