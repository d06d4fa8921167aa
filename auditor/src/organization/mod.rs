//! An organization's bucket: one trail per account and region (`reports/<account>/<region>/`),
//! each checked as `verify` and `timeline` check a single account's trail, a bounded number at
//! a time, with an organization summary or roll-up over them and the findings only the
//! organization shows (accounts without a trail, trails nobody expects, objects outside every
//! trail).
//!
//! # Bounded work, bounded memory
//!
//! [`for_each_trail`] runs at most `jobs` trails at once; each trail reads its reports through
//! the shared pipeline ([`crate::scan`], on the worker's own thread: one batch in memory, at most
//! 64 reports and 64 MiB). Results are handed on in trail order, and a worker never runs more
//! than `2 × jobs` trails ahead of the one handed on last, so whatever the number of trails,
//! memory holds at most that many results: a `verify` keeps each trail's summary (its counts,
//! problems and gaps), a `timeline` renders each trail's detail as it arrives and keeps only the
//! roll-up's figures.

pub mod accounts;
pub mod rollup;
pub mod timeline;
pub mod verify;

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::chain::{Problem, ReportRef};
use crate::error::SourceError;
use crate::key::{TrailId, parse_key};
use crate::provenance::AUDITOR_VERSION;
use crate::source::{Discovery, ReportSource};
use crate::witness::Witness;

pub use accounts::Expected;

/// Trails read at once unless `--jobs` says otherwise. From a folder on disk, one per core: each
/// trail is read and judged on its worker's thread, so more workers than cores only take turns
/// (`make bench-org` on two cores: the timeline's median 3.00 s and 5.4 CPU seconds with two,
/// 3.29 s and 5.9 with four). From S3, at least four, so that several trails' listings and
/// requests are in flight while one trail's check runs.
pub fn default_jobs(remote: bool) -> usize {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    if remote { cores.max(4) } else { cores }
}

/// One trail of the organization, as the outputs name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailName {
    pub account: String,
    pub region: String,
    /// The account's name in the account list, when it gives one.
    pub name: Option<String>,
}

impl TrailName {
    fn new(id: &TrailId, expected: Option<&Expected>) -> Self {
        TrailName {
            account: id.account.clone(),
            region: id.region.clone(),
            name: expected
                .and_then(|e| e.accounts.get(&id.account))
                .and_then(|a| a.name.clone()),
        }
    }

    /// `123456789012/us-east-1`, with the account's name when known.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("{}/{} ({n})", self.account, self.region),
            None => format!("{}/{}", self.account, self.region),
        }
    }
}

/// What an organization's output is drawn from: the bucket, the account list, the moment, and
/// every trail's first and newest report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgProvenance {
    /// The organization's source as given on the command line.
    pub source: String,
    /// Where the expected accounts came from; null without `--accounts`.
    pub accounts_from: Option<String>,
    /// The period the output speaks for, in words.
    pub period: String,
    pub generated_at: DateTime<Utc>,
    pub as_of: Option<DateTime<Utc>>,
    pub auditor_version: &'static str,
    pub trails_read: usize,
    pub reports_checked: usize,
    /// Each trail's first and newest report checked, in trail order.
    pub trails: Vec<TrailReports>,
}

/// One trail's first and newest report checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailReports {
    pub account: String,
    pub region: String,
    pub first_report: Option<ReportRef>,
    pub newest_report: Option<ReportRef>,
}

impl OrgProvenance {
    /// The organization's lines as (label for people, field name as data, value); the trails'
    /// reports are listed apart.
    pub fn lines(&self) -> Vec<(&'static str, &'static str, String)> {
        let mut lines = vec![
            ("Organization", "source", self.source.clone()),
            (
                "Accounts from",
                "accounts_from",
                self.accounts_from.clone().unwrap_or_else(|| {
                    "not given (--accounts FILE or --accounts organizations finds accounts without a trail)".to_owned()
                }),
            ),
            ("Period", "period", self.period.clone()),
            (
                "Generated",
                "generated_at",
                crate::provenance::stamp(self.generated_at),
            ),
        ];
        if let Some(t) = self.as_of {
            lines.push(("As of", "as_of", crate::provenance::stamp(t)));
        }
        lines.extend([
            (
                "Auditor version",
                "auditor_version",
                self.auditor_version.to_owned(),
            ),
            ("Trails read", "trails_read", self.trails_read.to_string()),
            (
                "Reports checked",
                "reports_checked",
                self.reports_checked.to_string(),
            ),
        ]);
        lines
    }
}

/// What both commands need to read an organization.
pub struct Organization<'s> {
    pub source: &'s dyn ReportSource,
    pub discovery: Discovery,
    pub expected: Option<Expected>,
    pub jobs: usize,
}

impl Organization<'_> {
    /// The findings of the organization itself: objects outside every trail, and, with an
    /// account list, accounts and regions without a trail and trails nobody expects.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems: Vec<Problem> = self
            .discovery
            .outside
            .iter()
            .map(|o| Problem {
                code: "outside-trail",
                key: o.key.clone(),
                detail: o.reason.clone(),
            })
            .collect();
        if let Some(e) = &self.expected {
            problems.extend(accounts::compare(e, &self.discovery.trails));
        }
        problems
    }

    /// The name of each trail, in trail order.
    pub fn names(&self) -> Vec<TrailName> {
        self.discovery
            .trails
            .iter()
            .map(|t| TrailName::new(t, self.expected.as_ref()))
            .collect()
    }

    fn provenance(
        &self,
        period: String,
        now: DateTime<Utc>,
        as_of: Option<DateTime<Utc>>,
    ) -> OrgProvenance {
        OrgProvenance {
            source: self.source.name().to_owned(),
            accounts_from: self.expected.as_ref().map(|e| e.source.clone()),
            period,
            generated_at: now,
            as_of,
            auditor_version: AUDITOR_VERSION,
            trails_read: self.discovery.trails.len(),
            reports_checked: 0,
            trails: Vec::with_capacity(self.discovery.trails.len()),
        }
    }
}

/// The witnesses of each trail, by the trail their key names. A witness whose key names no trail
/// of an organization, or a trail not in the bucket, is a finding of the organization.
pub fn route_witnesses(
    witnesses: Vec<Witness>,
    trails: &[TrailId],
) -> (BTreeMap<TrailId, Vec<Witness>>, Vec<Problem>) {
    let mut routed: BTreeMap<TrailId, Vec<Witness>> = BTreeMap::new();
    let mut problems = Vec::new();
    for w in witnesses {
        match parse_key(&w.key).and_then(|k| k.trail) {
            Some(t) if trails.binary_search(&t).is_ok() => routed.entry(t).or_default().push(w),
            Some(t) => problems.push(Problem {
                code: "witness-missing",
                key: w.key.clone(),
                detail: format!(
                    "{} names a report of trail {t}, which is not in the bucket: its reports were deleted or never stored",
                    w.origin
                ),
            }),
            None => problems.push(Problem {
                code: "witness-missing",
                key: w.key.clone(),
                detail: format!(
                    "{} names a key without its trail (reports/<account>/<region>/…): in an organization's bucket it belongs to no trail",
                    w.origin
                ),
            }),
        }
    }
    (routed, problems)
}

/// How far ahead of the result handed on last a worker may start a trail, per job.
const WINDOW_PER_JOB: usize = 2;

/// Runs `work` on every trail, at most `jobs` at once, and hands each result to `done` in trail
/// order (see the module's description). The first error, of `work` or of `done`, stops the
/// workers from starting more trails and is returned.
pub fn for_each_trail<T, E>(
    trails: &[TrailId],
    jobs: usize,
    work: impl Fn(&TrailId) -> Result<T, E> + Sync,
    mut done: impl FnMut(usize, T) -> Result<(), E>,
) -> Result<(), E>
where
    T: Send,
    E: Send,
{
    struct State<T, E> {
        next_start: usize,
        next_done: usize,
        ready: BTreeMap<usize, Result<T, E>>,
        stop: bool,
    }
    let jobs = jobs.max(1);
    let window = jobs * WINDOW_PER_JOB;
    let state = Mutex::new(State {
        next_start: 0,
        next_done: 0,
        ready: BTreeMap::new(),
        stop: false,
    });
    let changed = Condvar::new();
    let lock = || state.lock().unwrap_or_else(|p| p.into_inner());
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(trails.len()) {
            scope.spawn(|| {
                loop {
                    let i = {
                        let mut s = lock();
                        while !s.stop
                            && s.next_start < trails.len()
                            && s.next_start >= s.next_done + window
                        {
                            s = changed.wait(s).unwrap_or_else(|p| p.into_inner());
                        }
                        if s.stop || s.next_start >= trails.len() {
                            return;
                        }
                        s.next_start += 1;
                        s.next_start - 1
                    };
                    let result = work(&trails[i]);
                    lock().ready.insert(i, result);
                    changed.notify_all();
                }
            });
        }
        let mut outcome = Ok(());
        for i in 0..trails.len() {
            let result = {
                let mut s = lock();
                loop {
                    if let Some(r) = s.ready.remove(&i) {
                        break r;
                    }
                    s = changed.wait(s).unwrap_or_else(|p| p.into_inner());
                }
            };
            let handed = result.and_then(|t| done(i, t));
            let mut s = lock();
            s.next_done = i + 1;
            if let Err(e) = handed {
                s.stop = true;
                outcome = Err(e);
            }
            drop(s);
            changed.notify_all();
            if outcome.is_err() {
                break;
            }
        }
        outcome
    })
}

/// Whether a source error ends the organization's run (the endpoint stopped answering, or there
/// are no credentials), or is about one trail only (its listing refused, the trail empty).
pub fn ends_the_run(e: &SourceError) -> bool {
    matches!(
        e,
        SourceError::Stalled { .. } | SourceError::Credentials { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder gets a worker per core; S3 at least four, for the requests in flight.
    #[test]
    fn default_jobs_follow_the_cores_and_the_source() {
        let cores = std::thread::available_parallelism().unwrap().get();
        assert_eq!(default_jobs(false), cores);
        assert_eq!(default_jobs(true), cores.max(4));
    }

    fn trails(n: usize) -> Vec<TrailId> {
        (0..n)
            .map(|i| TrailId {
                account: format!("{:012}", i),
                region: "us-east-1".to_owned(),
            })
            .collect()
    }

    #[test]
    fn results_arrive_in_trail_order_and_never_too_far_ahead() {
        let t = trails(40);
        let running = std::sync::atomic::AtomicUsize::new(0);
        let most = std::sync::atomic::AtomicUsize::new(0);
        let mut order = Vec::new();
        for_each_trail(
            &t,
            3,
            |id| {
                let now = running.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                most.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                // Later trails finish first.
                let n: u64 = id.account.parse().unwrap();
                std::thread::sleep(std::time::Duration::from_millis(40 - n));
                running.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                Ok::<_, String>(n)
            },
            |i, n| {
                order.push((i, n));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(order, (0..40).map(|i| (i, i as u64)).collect::<Vec<_>>());
        assert!(most.into_inner() <= 3, "at most `jobs` trails at once");
    }

    #[test]
    fn the_first_error_stops_the_run() {
        let t = trails(50);
        let started = std::sync::atomic::AtomicUsize::new(0);
        let r = for_each_trail(
            &t,
            2,
            |id| {
                started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if id.account.ends_with("05") {
                    Err("stalled")
                } else {
                    Ok(())
                }
            },
            |_, ()| Ok(()),
        );
        assert_eq!(r, Err("stalled"));
        // Trail 5 failed; workers start at most 2 × 2 trails beyond the last one handed on.
        assert!(started.into_inner() <= 5 + 1 + 4, "stopped starting trails");
    }

    #[test]
    fn witnesses_go_to_the_trail_their_key_names() {
        let t = trails(2);
        let w = |key: &str| Witness {
            sequence: 1,
            key: key.to_owned(),
            sha256: "0".repeat(64),
            origin: crate::witness::Origin::File {
                file: "w.txt".to_owned(),
                line: 1,
            },
        };
        let id = "0b6f3c1e-8d2a-5f4e-9c1b-2a3d4e5f6a7b";
        let (routed, problems) = route_witnesses(
            vec![
                w(&format!(
                    "reports/000000000001/us-east-1/2026/07/01/00000001-{id}.json"
                )),
                w(&format!(
                    "reports/999999999999/us-east-1/2026/07/01/00000001-{id}.json"
                )),
                w(&format!("reports/2026/07/01/00000001-{id}.json")),
            ],
            &t,
        );
        assert_eq!(routed.len(), 1);
        assert_eq!(routed[&t[1]].len(), 1);
        assert_eq!(problems.len(), 2);
        assert!(problems.iter().all(|p| p.code == "witness-missing"));
    }
}
