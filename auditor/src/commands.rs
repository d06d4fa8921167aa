//! The two commands as library calls: each takes an injected source and progress bar and returns
//! a result value; printing and exit codes are the caller's business.

use chrono::NaiveDate;
use indicatif::ProgressBar;

use crate::chain::{ChainOptions, TrailCheck, TrailResult};
use crate::error::SourceError;
use crate::key::parse_key;
use crate::period::Period;
use crate::scan::scan;
use crate::source::{ReportSource, StoredObject};
use crate::timeline::{Timeline, TimelineBuilder};

/// `auditor verify`: checks every report in the source.
pub fn verify(
    source: &dyn ReportSource,
    opts: ChainOptions,
    progress: &ProgressBar,
) -> Result<TrailResult, SourceError> {
    let mut listing = source.list()?;
    listing.keep_reports();
    if listing.objects.is_empty() && listing.anomalies.is_empty() {
        return Err(SourceError::Empty(source.name().to_owned()));
    }
    let mut check = TrailCheck::new(listing.versions_checked);
    for a in &listing.anomalies {
        check.add_anomaly(a);
    }
    progress.set_length(listing.objects.iter().map(|o| o.size).sum());
    scan(source, &listing.objects, progress, |s| check.add(&s));
    progress.finish_and_clear();
    Ok(check.finish(opts))
}

/// What a timeline run read, besides the timeline itself.
#[derive(Debug, Clone, Default)]
pub struct TimelineNotes {
    /// Keys skipped because their name does not say their date (see `auditor verify`).
    pub unplaced_keys: usize,
}

/// `auditor timeline`: reads the period's reports plus the one before it, checks their part of the
/// trail, and aggregates the period.
pub fn timeline(
    source: &dyn ReportSource,
    period: Period,
    today: NaiveDate,
    max_gap: chrono::Duration,
    progress: &ProgressBar,
) -> Result<(Timeline, TimelineNotes), SourceError> {
    let mut listing = source.list()?;
    listing.keep_reports();
    if listing.objects.is_empty() && listing.anomalies.is_empty() {
        return Err(SourceError::Empty(source.name().to_owned()));
    }
    let mut builder = TimelineBuilder::new(period, today);
    let mut notes = TimelineNotes::default();
    let mut baseline: Option<&StoredObject> = None;
    let mut selected: Vec<StoredObject> = Vec::new();
    for o in &listing.objects {
        match parse_key(&o.key).map(|k| k.date) {
            None => notes.unplaced_keys += 1,
            Some(d) if d < period.from => baseline = Some(o),
            Some(d) if d <= period.to => selected.push(o.clone()),
            Some(_) => {}
        }
    }
    let has_baseline = baseline.is_some();
    if let Some(b) = baseline {
        selected.insert(0, b.clone());
    }
    let mut check = TrailCheck::new(listing.versions_checked);
    for a in &listing.anomalies {
        let key = match a {
            crate::source::VersionAnomaly::Overwritten { key, .. }
            | crate::source::VersionAnomaly::Deleted { key, .. } => key,
        };
        if parse_key(key).is_some_and(|k| k.date >= period.from && k.date <= period.to) {
            check.add_anomaly(a);
        }
    }
    progress.set_length(selected.iter().map(|o| o.size).sum());
    scan(source, &selected, progress, |s| {
        check.add(&s);
        if let Ok(digest) = s.outcome {
            builder.add(&s.key, digest);
        }
    });
    progress.finish_and_clear();
    // Without a report before the period, the period holds the start of the trail, which must
    // then begin at sequence 0.
    let chain = check.finish(ChainOptions {
        max_gap,
        from_origin: !has_baseline,
    });
    Ok((builder.finish(source.name(), chain), notes))
}
