//! The commands as library calls: each takes an injected source, the moments it speaks for,
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
use crate::register::{RegisterSummary, RegisterUses};
use crate::scan::{Fanout, Scanned, scan};
use crate::source::{Listing, ReportSource, StoredObject};
use crate::status::{Changes, OpenSince, Status, StatusChain, summarise};
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
    /// Where the reports are judged: every core for one trail, the caller's thread for one trail
    /// among an organization's.
    pub fanout: Fanout,
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
    /// The exceptions registers the reports name, and how their labels compared.
    pub exceptions: RegisterSummary,
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
    let mut registers = RegisterUses::default();
    scan(source, &read, opts.fanout, progress, |s| {
        if Some(&s.key) == successor.as_ref() {
            check.add_successor(&s);
        } else if after_as_of(&s, opts.as_of, opts.now) {
            left_out += 1;
            check.add_successor(&s);
        } else {
            check.add(&s);
            if let Ok(d) = &s.outcome {
                registers.add(&s.key, d);
            }
        }
    })?;
    progress.finish_and_clear();
    let (exceptions, register_problems, _) = registers.check(source)?;
    for p in register_problems {
        check.add_problem(p);
    }
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
        exceptions,
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
    /// As [`VerifyOptions::fanout`].
    pub fanout: Fanout,
}

/// What a `timeline` or `status` run read, besides its result.
#[derive(Debug, Clone, Default)]
pub struct ReadNotes {
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
) -> Result<(Timeline, ReadNotes), SourceError> {
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
    let mut notes = ReadNotes::default();
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
    let mut registers = RegisterUses::default();
    scan(source, &selected, opts.fanout, progress, |s| {
        if Some(&s.key) == successor_key.as_ref() || after_as_of(&s, opts.as_of, opts.now) {
            check.add_successor(&s);
            return;
        }
        check.add(&s);
        if let Ok(digest) = s.outcome {
            registers.add(&s.key, &digest);
            builder.add(&s.key, digest);
        }
    })?;
    progress.finish_and_clear();
    let (exceptions, register_problems, verified) = registers.check(source)?;
    for p in register_problems {
        check.add_problem(p);
    }
    builder.attach_registers(exceptions, verified);
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

/// What `status` is asked.
#[derive(Debug, Clone, Copy)]
pub struct StatusOptions {
    pub max_gap: Duration,
    /// The real time of the run.
    pub now: DateTime<Utc>,
    /// Speak for the trail as it stood at this earlier moment.
    pub as_of: Option<DateTime<Utc>>,
    /// Read reports back at most this many days before the newest one for open-since dates.
    pub lookback_days: u32,
}

/// Reads placed report objects from the highest sequence down, a few at a time.
struct Descending<'a> {
    source: &'a dyn ReportSource,
    objects: Vec<StoredObject>,
    read: std::vec::IntoIter<Scanned>,
    progress: &'a ProgressBar,
}

impl Descending<'_> {
    /// The next lower report, reading `batch` objects when none is left from the last read.
    fn next(&mut self, batch: usize) -> Result<Option<Scanned>, SourceError> {
        if let Some(s) = self.read.next() {
            return Ok(Some(s));
        }
        let take = batch.clamp(1, crate::scan::BATCH).min(self.objects.len());
        let objects: Vec<StoredObject> = self.objects.drain(..take).collect();
        self.progress
            .inc_length(objects.iter().map(|o| o.size).sum());
        let mut read = Vec::with_capacity(objects.len());
        scan(self.source, &objects, Fanout::Cores, self.progress, |s| {
            read.push(s)
        })?;
        self.read = read.into_iter();
        Ok(self.read.next())
    }

    /// The next object's key date, without reading it.
    fn peek_date(&self) -> Option<NaiveDate> {
        self.read
            .as_slice()
            .first()
            .map(|s| s.key.as_str())
            .or_else(|| self.objects.first().map(|o| o.key.as_str()))
            .and_then(key_date)
    }
}

/// `auditor status`: the newest report and the one before it by sequence, the link between them,
/// what changed, and whether the newest report is recent enough (see [`crate::status`]).
pub fn status(
    source: &dyn ReportSource,
    opts: StatusOptions,
    progress: &ProgressBar,
) -> Result<(Status, ReadNotes), SourceError> {
    let listing = reports(source)?;
    let moment = opts.as_of.unwrap_or(opts.now);
    let mut notes = ReadNotes::default();
    let mut placed: Vec<(u64, StoredObject)> = Vec::new();
    for o in listing.objects {
        match parse_key(&o.key) {
            Some(k) => placed.push((k.sequence, o)),
            None => notes.unplaced_keys += 1,
        }
    }
    placed.sort_by(|a, b| (b.0, &b.1.key).cmp(&(a.0, &a.1.key)));
    let beyond =
        |key: &str| opts.as_of.is_some() && key_date(key).is_some_and(|d| d > moment.date_naive());
    let mut check = TrailCheck::new(listing.versioning.clone());
    let today = opts.now.date_naive();
    let mut left_out = 0;
    let mut candidates = Vec::with_capacity(placed.len());
    for (_, o) in placed {
        if beyond(&o.key) {
            if let Some(d) = key_date(&o.key).filter(|d| *d > today) {
                check.add_future_key(&o.key, d, opts.now);
            }
            left_out += 1;
        } else {
            candidates.push(o);
        }
    }
    progress.set_length(0);
    let mut reader = Descending {
        source,
        objects: candidates,
        read: Vec::new().into_iter(),
        progress,
    };
    // The newest report at the moment: reports generated after --as-of on its last day are left
    // out, and the first of them (the lowest sequence) confirms the newest report's bytes.
    let newest = loop {
        match reader.next(2)? {
            None => {
                return Err(SourceError::Empty(format!(
                    "{} (no report generated at or before {})",
                    source.name(),
                    stamp(moment)
                )));
            }
            Some(s) if after_as_of(&s, opts.as_of, opts.now) => {
                left_out += 1;
                check.add_successor(&s);
            }
            Some(s) => break s,
        }
    };
    let previous = reader.next(2)?;
    // Version evidence about the two reports, and about any later key: a report deleted after
    // the newest one is absence evidence.
    let lowest = previous.as_ref().unwrap_or(&newest);
    let from_sequence = lowest.name.as_ref().map_or(0, |n| n.sequence);
    for a in listing.anomalies.iter().filter(|a| !beyond(a.key())) {
        if parse_key(a.key()).is_none_or(|k| k.sequence >= from_sequence) {
            check.add_anomaly(a);
        }
    }
    if let Some(p) = &previous {
        check.add(p);
    }
    check.add(&newest);
    let result = check.finish(
        ChainOptions {
            max_gap: opts.max_gap,
            from_origin: previous.is_none(),
            now: opts.now,
            evidence_from: None,
            evidence_to: moment,
        },
        &[],
    );
    let (linked, statement) = link(&newest, previous.as_ref());
    let mut changes = Changes::default();
    if let (Ok(n), Some(Ok(p))) = (&newest.outcome, previous.as_ref().map(|p| &p.outcome)) {
        changes = crate::status::compare(n, p);
        let mut since = OpenSince::new(&changes, n.day());
        let limit = n
            .day()
            .checked_sub_days(chrono::Days::new(u64::from(opts.lookback_days)))
            .unwrap_or(NaiveDate::MIN);
        let mut stopped = "the --lookback-days limit".to_owned();
        if p.sequence == 0 {
            since.reached_the_start(&mut changes);
            stopped = "the start of the trail".to_owned();
        }
        while since.wants_more() {
            if reader.peek_date().is_none_or(|d| d < limit) {
                if reader.peek_date().is_none() {
                    stopped = "the lowest sequence in the source".to_owned();
                }
                break;
            }
            let Some(s) = reader.next(8)? else { break };
            match &s.outcome {
                Ok(d) => {
                    since.add(d, &mut changes);
                    if d.sequence == 0 {
                        since.reached_the_start(&mut changes);
                        stopped = "the start of the trail".to_owned();
                    }
                }
                Err(e) => {
                    stopped = format!("{}, which is not a valid report ({})", s.key, e.code());
                    break;
                }
            }
        }
        changes.open_since = match (since.reports_read, since.oldest_read) {
            (0, _) | (_, None) if changes.still_open.is_empty() => {
                "no finding is still open".to_owned()
            }
            (0, _) | (_, None) => format!(
                "from the previous report alone ({stopped}); a date is the previous report's and may be earlier"
            ),
            (n, Some(oldest)) if since.wants_more() => format!(
                "from the {n} report(s) before the previous one, read back by sequence to {oldest} ({stopped}); a date marked \"or earlier\" may be earlier"
            ),
            (n, Some(oldest)) => format!(
                "from the {n} report(s) before the previous one, read back by sequence to {oldest}; every date is where the finding's run of reports began"
            ),
        };
    }
    progress.finish_and_clear();
    let provenance = Provenance::new(
        source.name(),
        "the newest report and the one before it".to_owned(),
        opts.now,
        opts.as_of,
        &result,
    );
    Ok((
        Status {
            format: "auditor-status/1",
            provenance,
            newest: summarise(&newest),
            previous: previous.as_ref().map(summarise),
            changes,
            chain: StatusChain {
                linked,
                statement,
                problems: result.problems,
                gaps: result.gaps,
                left_out_after_as_of: left_out,
            },
        },
        notes,
    ))
}

/// Whether the newest report links to the previous one, and the link in words.
fn link(newest: &Scanned, previous: Option<&Scanned>) -> (Option<bool>, String) {
    let Some(p) = previous else {
        return (
            None,
            "no previous report: the newest report is the only one".to_owned(),
        );
    };
    let Ok(n) = &newest.outcome else {
        return (
            Some(false),
            "NOT VERIFIED: the newest report is not a valid report".to_owned(),
        );
    };
    let named = n.previous_key.as_deref().map(crate::key::canonical);
    let expected = crate::key::canonical(&p.key);
    match (&named, &n.previous_sha256) {
        (Some(k), Some(h)) if crate::key::same_report(k, &expected) && *h == p.sha256 => (
            Some(true),
            "verified: the newest report's previousSha256 is the SHA-256 of the previous report's stored bytes, and its previousKey names it".to_owned(),
        ),
        (Some(k), _) if !crate::key::same_report(k, &expected) => (
            Some(false),
            format!("BROKEN: the newest report names {k} as its previous report, not {expected}"),
        ),
        (Some(_), Some(h)) => (
            Some(false),
            format!(
                "BROKEN: the newest report's previousSha256 is {h}, the previous report's stored bytes hash to {}: it was changed",
                p.sha256
            ),
        ),
        _ => (
            Some(false),
            "BROKEN: the newest report names no previous report".to_owned(),
        ),
    }
}
