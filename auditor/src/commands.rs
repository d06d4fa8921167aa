//! The two commands as library calls: each takes an injected source, the moments it speaks for,
//! and a progress bar, and returns a result value; printing and exit codes are the caller's
//! business.
//!
//! # `--as-of`
//!
//! Both commands can speak for an earlier moment than now: the trail as it stood then. Reports
//! generated after that moment are left out (counted), except that the first of them is still
//! read, because its link confirms the stored bytes of the newest report before the moment.
//! Reports dated after the real now are findings either way.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use indicatif::ProgressBar;
use serde::Serialize;

use crate::chain::{ChainOptions, TrailCheck, TrailResult};
use crate::error::SourceError;
use crate::head::{HeadSummary, read_head};
use crate::key::parse_key;
use crate::period::Period;
use crate::provenance::{Provenance, stamp};
use crate::scan::{Scanned, scan};
use crate::source::{Listing, ReportSource, StoredObject};
use crate::timeline::{Timeline, TimelineBuilder};
use crate::witness::Witness;

/// What `verify` is asked.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub max_gap: Duration,
    /// The real time of the check.
    pub now: DateTime<Utc>,
    /// Check the trail as it stood at this earlier moment.
    pub as_of: Option<DateTime<Utc>>,
    /// Heads recorded outside the trail (`--witness` files).
    pub witnesses: Vec<Witness>,
}

/// The result of `verify`, with what the outputs state besides the trail check.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verified {
    pub provenance: Provenance,
    /// What was found of the generator's `chain/head.json`.
    pub head: HeadSummary,
    /// The `--witness` files read.
    pub witness_files: Vec<String>,
    /// Reports generated after `--as-of`, not checked (the first one still confirms the link).
    pub left_out_after_as_of: usize,
    #[serde(skip)]
    pub result: TrailResult,
}

/// The listing, reduced to reports; `Empty` when the source holds nothing that may be one.
fn reports(source: &dyn ReportSource) -> Result<Listing, SourceError> {
    let mut listing = source.list()?;
    listing.keep_reports();
    if listing.objects.is_empty() && listing.anomalies.is_empty() && listing.unreadable.is_empty() {
        return Err(SourceError::Empty(source.name().to_owned()));
    }
    Ok(listing)
}

/// The date in `key`, when it follows the naming rule.
fn key_date(key: &str) -> Option<NaiveDate> {
    parse_key(key).map(|k| k.date)
}

/// The first moment of `day`, UTC.
fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// Whether a scanned report belongs beyond `as_of`: generated after it, but not after now (a
/// report from the future stays in the trail, where it is a finding).
fn after_as_of(s: &Scanned, as_of: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    match (as_of, &s.outcome) {
        (Some(t), Ok(d)) => d.generated_at > t && d.generated_at <= now,
        _ => false,
    }
}

/// `auditor verify`: checks every report in the source, the generator's head and the witnesses.
pub fn verify(
    source: &dyn ReportSource,
    opts: VerifyOptions,
    progress: &ProgressBar,
) -> Result<Verified, SourceError> {
    let listing = reports(source)?;
    let moment = opts.as_of.unwrap_or(opts.now);
    let beyond =
        |key: &str| opts.as_of.is_some() && key_date(key).is_some_and(|d| d > moment.date_naive());
    let mut check = TrailCheck::new(listing.versioning.clone());
    for a in listing.anomalies.iter().filter(|a| !beyond(a.key())) {
        check.add_anomaly(a);
    }
    for u in &listing.unreadable {
        check.add_unreadable(u);
    }
    let (mut read, later): (Vec<StoredObject>, Vec<StoredObject>) =
        listing.objects.into_iter().partition(|o| !beyond(&o.key));
    let today = opts.now.date_naive();
    for o in &later {
        if let Some(d) = key_date(&o.key).filter(|d| *d > today) {
            check.add_future_key(&o.key, d, opts.now);
        }
    }
    let mut left_out = later.len();
    let successor = later.first().map(|o| o.key.clone());
    read.extend(later.into_iter().take(1));
    progress.set_length(read.iter().map(|o| o.size).fold(0, u64::saturating_add));
    scan(source, &read, progress, |s| {
        if Some(&s.key) == successor.as_ref() {
            check.add_successor(&s);
        } else if after_as_of(&s, opts.as_of, opts.now) {
            left_out += 1;
            check.add_successor(&s);
        } else {
            check.add(&s);
        }
    })?;
    progress.finish_and_clear();
    let (head_witnesses, head_problems, head) = read_head(source.head()?);
    for p in head_problems {
        check.add_problem(p);
    }
    // A head or witness naming a report dated after --as-of speaks for a later trail.
    let (compared, skipped): (Vec<Witness>, Vec<Witness>) = opts
        .witnesses
        .into_iter()
        .chain(head_witnesses)
        .partition(|w| !beyond(&w.key));
    let mut result = check.finish(
        ChainOptions::whole_trail(opts.now, opts.max_gap).reaching(moment),
        &compared,
    );
    for w in &skipped {
        match w.origin {
            crate::witness::Origin::File { .. } => result.witnesses.after_as_of += 1,
            crate::witness::Origin::Head { .. } => result.head_versions.after_as_of += 1,
        }
    }
    let period = match result.first_generated_at {
        Some(first) => format!(
            "the whole trail, from its first report ({}) to {}",
            stamp(first),
            stamp(moment)
        ),
        None => format!("the whole trail, to {}", stamp(moment)),
    };
    let mut witness_files: Vec<String> = Vec::new();
    for w in compared.iter().chain(&skipped) {
        if let crate::witness::Origin::File { file, .. } = &w.origin {
            if !witness_files.contains(file) {
                witness_files.push(file.clone());
            }
        }
    }
    Ok(Verified {
        provenance: Provenance::new(source.name(), period, opts.now, opts.as_of, &result),
        head,
        witness_files,
        left_out_after_as_of: left_out,
        result,
    })
}

/// What `timeline` is asked.
#[derive(Debug, Clone, Copy)]
pub struct TimelineOptions {
    pub period: Period,
    pub max_gap: Duration,
    /// The real time of the run.
    pub now: DateTime<Utc>,
    /// Render the period as the trail stood at this earlier moment.
    pub as_of: Option<DateTime<Utc>>,
}

/// What a timeline run read, besides the timeline itself.
#[derive(Debug, Clone, Default)]
pub struct TimelineNotes {
    /// Keys skipped because their name does not say their date (see `auditor verify`).
    pub unplaced_keys: usize,
}

/// `auditor timeline`: reads the period's reports, the one before it (the starting state and
/// the link into the period) and the first one after it (whose link confirms the bytes of the
/// period's last report), checks that part of the trail, and aggregates the period.
pub fn timeline(
    source: &dyn ReportSource,
    opts: TimelineOptions,
    progress: &ProgressBar,
) -> Result<(Timeline, TimelineNotes), SourceError> {
    let listing = reports(source)?;
    let period = opts.period;
    let moment = opts.as_of.unwrap_or(opts.now);
    // Without --as-of every report dated in the period is read: one dated after now is a finding,
    // not cut off. With --as-of, what came later is left out.
    let last_day = if opts.as_of.is_some() {
        period.to.min(moment.date_naive())
    } else {
        period.to
    };
    let mut builder = TimelineBuilder::new(period, moment.date_naive());
    let mut notes = TimelineNotes::default();
    let mut baseline: Option<&StoredObject> = None;
    let mut successor: Option<&StoredObject> = None;
    let mut selected: Vec<StoredObject> = Vec::new();
    for o in &listing.objects {
        match key_date(&o.key) {
            None => notes.unplaced_keys += 1,
            Some(d) if d < period.from => baseline = Some(o),
            Some(d) if d <= last_day => selected.push(o.clone()),
            Some(_) => {
                successor.get_or_insert(o);
            }
        }
    }
    let has_baseline = baseline.is_some();
    if let Some(b) = baseline {
        selected.insert(0, b.clone());
    }
    let successor_key = successor.map(|o| o.key.clone());
    selected.extend(successor.cloned());
    let in_period = |key: &str| key_date(key).is_none_or(|d| d >= period.from && d <= last_day);
    let mut check = TrailCheck::new(listing.versioning.clone());
    for a in listing.anomalies.iter().filter(|a| in_period(a.key())) {
        check.add_anomaly(a);
    }
    for u in listing.unreadable.iter().filter(|u| in_period(&u.key)) {
        check.add_unreadable(u);
    }
    progress.set_length(selected.iter().map(|o| o.size).fold(0, u64::saturating_add));
    scan(source, &selected, progress, |s| {
        if Some(&s.key) == successor_key.as_ref() || after_as_of(&s, opts.as_of, opts.now) {
            check.add_successor(&s);
            return;
        }
        check.add(&s);
        if let Ok(digest) = s.outcome {
            builder.add(&s.key, digest);
        }
    })?;
    progress.finish_and_clear();
    let period_end = period
        .to
        .succ_opt()
        .map_or(DateTime::<Utc>::MAX_UTC, start_of);
    // Without a report before the period, the period holds the start of the trail, which must
    // then begin at sequence 0, and the evidence must begin with the period.
    let chain = check.finish(
        ChainOptions {
            max_gap: opts.max_gap,
            from_origin: !has_baseline,
            now: opts.now,
            evidence_from: (!has_baseline).then(|| start_of(period.from)),
            evidence_to: period_end.min(moment),
        },
        &[],
    );
    let label = match period.label() {
        quarter if !quarter.contains(" to ") => {
            format!("{quarter} ({} to {})", period.from, period.to)
        }
        range => range,
    };
    let provenance = Provenance::new(source.name(), label, opts.now, opts.as_of, &chain);
    Ok((builder.finish(source.name(), chain, provenance), notes))
}
