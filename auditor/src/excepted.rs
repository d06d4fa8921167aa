//! The timeline's exceptions: which days of a finding's exposure were excepted, which exceptions
//! were in force in the period, and which expired while their finding was still open.
//!
//! Rules (docs/report-format.md, "Exceptions"):
//! - A finding is *excepted* on day D when the report that gives D's state labels it with an
//!   exception whose `expires` is on or after D. The label is carried over days without a report
//!   like the rest of the state, but never past its expiry: from the day after `expires` the
//!   finding is plain non-compliant again, whatever the last report said.
//! - An excepted finding is still open: it counts in the non-compliant totals the reports give
//!   (`counts.nonCompliant`) and in the compliance percentage. An exception is accepted risk,
//!   not compliance. The outputs for people show it apart from the un-excepted findings.
//! - An exception is *in force during the period* when, on some day of the series, the register
//!   the day's report names holds it with `created <= D <= expires`. Its reason, ticket and dates
//!   come from that register object; an exception a report labelled with but whose register could
//!   not be verified is listed from the label alone (approver, expiry).
//! - An exception *expired while its finding was open* when its `expires` lies in the series
//!   before the last day and the finding was open on that day; the list gives the finding's state
//!   on the day after: non-compliant, excepted again under another exception, or resolved. One
//!   extended under the same id (a later register with a later expiry) did not expire.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::Serialize;

use crate::register::{RegisterState, VerifiedRegisters};
use crate::report::RegisterRef;
use crate::timeline::Exposure;

/// A run of days on which one exception label covered a finding, within the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExceptedSpan {
    pub id: String,
    pub approver: String,
    pub expires: NaiveDate,
    /// First and last excepted day (inclusive).
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl ExceptedSpan {
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
}

/// One exception in force during the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionInForce {
    pub id: String,
    /// The rule's name as the reports give it (`<rule>-<environment suffix>`).
    pub rule: String,
    pub resource_type: String,
    pub resource_id: String,
    pub approver: String,
    /// From the register; null when no register the reports name could be verified.
    pub reason: Option<String>,
    pub ticket: Option<String>,
    /// `created` in the register (null as for `reason`).
    pub from: Option<NaiveDate>,
    /// `expires`: the last day in force.
    pub to: NaiveDate,
    /// The first and last day of the period on which it was in force.
    pub first_day_in_period: NaiveDate,
    pub last_day_in_period: NaiveDate,
    /// The register objects that held it (keys).
    pub registers: Vec<String>,
    /// Days in the period on which its finding was open and labelled with it.
    pub days_excepted: i64,
}

/// The state of a finding on one day, read off its exposure windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FindingDayState {
    /// Open, not excepted.
    NonCompliant,
    /// Open, under an exception.
    Excepted,
    /// Not open that day.
    Resolved,
}

/// An exception that expired while its finding was still open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpiredException {
    pub id: String,
    pub rule: String,
    pub resource_type: String,
    pub resource_id: String,
    pub approver: String,
    pub ticket: Option<String>,
    /// The last day it was in force.
    pub expires: NaiveDate,
    /// The day after, and the finding's state then.
    pub day_after: NaiveDate,
    pub state_day_after: FindingDayState,
    /// When excepted again the day after: under which exception.
    pub excepted_by: Option<String>,
}

/// The timeline's exceptions section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionsSection {
    /// The period's reports of schema 1.0 (no exceptions recorded: every finding reads
    /// un-excepted) and of 1.1.
    pub reports_without_exceptions: usize,
    pub reports_with_exceptions: usize,
    /// The registers the reports read name, and whether each was verified.
    pub registers: Vec<RegisterState>,
    /// Sorted by rule, resource type, resource id, id.
    pub in_force: Vec<ExceptionInForce>,
    /// Sorted by expiry, then as `in_force`.
    pub expired_while_open: Vec<ExpiredException>,
}

/// The state of `e` on `day`, and the exception covering it when excepted.
pub fn state_on(e: &Exposure, day: NaiveDate) -> (FindingDayState, Option<&ExceptedSpan>) {
    for w in &e.windows {
        if w.opened <= day && w.resolved.is_none_or(|r| day < r) {
            return match w.exceptions.iter().find(|s| s.from <= day && day <= s.to) {
                Some(s) => (FindingDayState::Excepted, Some(s)),
                None => (FindingDayState::NonCompliant, None),
            };
        }
    }
    (FindingDayState::Resolved, None)
}

/// What the section is built from.
pub struct SectionInput<'a> {
    /// Each day of the series with the register its state's report names (index into
    /// `registers`), in date order.
    pub days: Vec<(NaiveDate, Option<usize>)>,
    /// The distinct (register, environment suffix) pairs the reports name.
    pub registers: &'a [(RegisterRef, String)],
    pub verified: &'a VerifiedRegisters,
    /// Sorted by rule, resource type, resource id.
    pub exposures: &'a [Exposure],
    pub through: Option<NaiveDate>,
}

type RowKey = (String, String, String, String, NaiveDate, Option<NaiveDate>);

/// Builds the in-force and expired lists (the counts and registers are the caller's).
pub fn build(input: &SectionInput<'_>) -> (Vec<ExceptionInForce>, Vec<ExpiredException>) {
    let mut rows: BTreeMap<RowKey, ExceptionInForce> = BTreeMap::new();
    // Runs of consecutive days that name one register: (register, first day, last day).
    let mut runs: Vec<(usize, NaiveDate, NaiveDate)> = Vec::new();
    for &(day, register) in &input.days {
        let Some(r) = register else { continue };
        match runs.last_mut() {
            Some((last, _, to)) if *last == r && to.succ_opt() == Some(day) => *to = day,
            _ => runs.push((r, day, day)),
        }
    }
    for (r, first, last) in runs {
        let (reference, suffix) = &input.registers[r];
        let Some(register) = input.verified.get(reference) else {
            continue;
        };
        for e in &register.entries {
            let (from, to) = (first.max(e.created), last.min(e.expires));
            if from > to {
                continue;
            }
            let key = (
                e.rule_name(suffix),
                e.resource_type.clone(),
                e.resource_id.clone(),
                e.id.clone(),
                e.expires,
                Some(e.created),
            );
            let row = rows.entry(key).or_insert_with(|| ExceptionInForce {
                id: e.id.clone(),
                rule: e.rule_name(suffix),
                resource_type: e.resource_type.clone(),
                resource_id: e.resource_id.clone(),
                approver: e.approver.clone(),
                reason: Some(e.reason.clone()),
                ticket: Some(e.ticket.clone()),
                from: Some(e.created),
                to: e.expires,
                first_day_in_period: from,
                last_day_in_period: to,
                registers: Vec::new(),
                days_excepted: 0,
            });
            row.first_day_in_period = row.first_day_in_period.min(from);
            row.last_day_in_period = row.last_day_in_period.max(to);
            if !row.registers.contains(&reference.key) {
                row.registers.push(reference.key.clone());
            }
        }
    }
    // Days excepted per row; a label no verified register explains gets a row of its own.
    for e in input.exposures {
        for s in e.windows.iter().flat_map(|w| &w.exceptions) {
            let key = (
                e.rule.clone(),
                e.resource_type.clone(),
                e.resource_id.clone(),
                s.id.clone(),
                s.expires,
                None,
            );
            let mut found = false;
            // Every row of this finding and label, whatever its `created` (None sorts first).
            for (k, row) in rows.range_mut(key.clone()..) {
                if (&k.0, &k.1, &k.2, &k.3, k.4) != (&key.0, &key.1, &key.2, &key.3, key.4) {
                    break;
                }
                row.days_excepted += s.days();
                row.first_day_in_period = row.first_day_in_period.min(s.from);
                row.last_day_in_period = row.last_day_in_period.max(s.to);
                found = true;
            }
            if !found {
                rows.insert(
                    key,
                    ExceptionInForce {
                        id: s.id.clone(),
                        rule: e.rule.clone(),
                        resource_type: e.resource_type.clone(),
                        resource_id: e.resource_id.clone(),
                        approver: s.approver.clone(),
                        reason: None,
                        ticket: None,
                        from: None,
                        to: s.expires,
                        first_day_in_period: s.from,
                        last_day_in_period: s.to,
                        registers: Vec::new(),
                        days_excepted: s.days(),
                    },
                );
            }
        }
    }
    let in_force: Vec<ExceptionInForce> = rows.into_values().collect();
    let expired = expired_while_open(&in_force, input.exposures, input.through);
    (in_force, expired)
}

/// The exceptions of `in_force` that expired before the last day of the series while their
/// finding was open, with the finding's state the day after.
fn expired_while_open(
    in_force: &[ExceptionInForce],
    exposures: &[Exposure],
    through: Option<NaiveDate>,
) -> Vec<ExpiredException> {
    let Some(through) = through else {
        return Vec::new();
    };
    let mut seen: BTreeSet<(&str, &str, &str, &str, NaiveDate)> = BTreeSet::new();
    let mut out = Vec::new();
    for x in in_force.iter().filter(|x| x.to < through) {
        if !seen.insert((&x.rule, &x.resource_type, &x.resource_id, &x.id, x.to)) {
            continue; // the same exception from two registers: one expiry
        }
        let Ok(i) = exposures.binary_search_by(|e| {
            (&e.rule, &e.resource_type, &e.resource_id).cmp(&(
                &x.rule,
                &x.resource_type,
                &x.resource_id,
            ))
        }) else {
            continue; // never open in the period
        };
        let e = &exposures[i];
        if state_on(e, x.to).0 == FindingDayState::Resolved {
            continue;
        }
        let Some(day_after) = x.to.succ_opt() else {
            continue;
        };
        let (state, by) = state_on(e, day_after);
        if by.is_some_and(|s| s.id == x.id) {
            continue; // extended under the same id: it did not expire
        }
        out.push(ExpiredException {
            id: x.id.clone(),
            rule: x.rule.clone(),
            resource_type: x.resource_type.clone(),
            resource_id: x.resource_id.clone(),
            approver: x.approver.clone(),
            ticket: x.ticket.clone(),
            expires: x.to,
            day_after,
            state_day_after: state,
            excepted_by: by.map(|s| s.id.clone()),
        });
    }
    out.sort_by(|a, b| {
        (a.expires, &a.rule, &a.resource_type, &a.resource_id, &a.id).cmp(&(
            b.expires,
            &b.rule,
            &b.resource_type,
            &b.resource_id,
            &b.id,
        ))
    });
    out
}
