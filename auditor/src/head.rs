//! The generator's `chain/head.json`, read as evidence about the trail's newest reports.
//!
//! The head is bookkeeping (docs/report-format.md, "Objects besides the reports"): `{"format":
//! "compliance-chain-head/1", "last": {sequence, key, sha256} | null, "pending": … | null}`, and
//! the writer may add fields, which are ignored. It is a cache, never trusted alone: the auditor
//! compares the `last` report named by the current version and by every stored version with the
//! trail, as it compares a witness (see [`crate::witness`]). A head that names a sequence beyond
//! the newest report shows that the newest reports were deleted; a head naming a report whose
//! stored bytes hash differently shows a rewrite. Its absence is not a finding (deleting it is an
//! ordinary operation) but is stated.

use serde::Serialize;
use serde_json::Value;

use crate::chain::Problem;
use crate::source::{HeadCopy, HeadLookup};
use crate::witness::{Origin, Witness, head_fields};

/// The head format this auditor compares.
pub const HEAD_FORMAT: &str = "compliance-chain-head/1";

/// What was found of the head, for the output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeadSummary {
    /// Where it was looked for; null when the source is not rooted where a head can be.
    pub location: Option<String>,
    /// `notLookedFor`, `absent`, `present`, or `deleted` (a delete marker is current).
    pub state: &'static str,
    /// Stored versions read (one for a folder).
    pub versions: usize,
    /// What could not be compared, and why.
    pub notes: Vec<String>,
}

impl HeadSummary {
    /// One sentence for people.
    pub fn sentence(&self) -> String {
        let at = self.location.as_deref().unwrap_or_default();
        let mut s = match self.state {
            "notLookedFor" => format!("not looked for: {}", self.notes.join("; ")),
            "absent" => format!(
                "{at} is absent (bookkeeping, not a finding: nothing to compare the trail with)"
            ),
            "deleted" => format!(
                "{at} was deleted (a delete marker is current); {} earlier version(s) compared",
                self.versions
            ),
            _ => format!("{at}: {} version(s) compared with the trail", self.versions),
        };
        if self.state != "notLookedFor" && !self.notes.is_empty() {
            s.push_str("; ");
            s.push_str(&self.notes.join("; "));
        }
        s
    }
}

/// The witnesses the head's versions give, the problems of malformed versions, and the summary.
pub fn read_head(lookup: HeadLookup) -> (Vec<Witness>, Vec<Problem>, HeadSummary) {
    let (location, copies, deleted) = match lookup {
        HeadLookup::NotLookedFor(why) => {
            let summary = HeadSummary {
                location: None,
                state: "notLookedFor",
                versions: 0,
                notes: vec![why],
            };
            return (Vec::new(), Vec::new(), summary);
        }
        HeadLookup::Looked {
            location,
            copies,
            deleted,
        } => (location, copies, deleted),
    };
    let mut witnesses = Vec::new();
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    for copy in &copies {
        match one_version(&location, copy) {
            Ok(Some(w)) => witnesses.push(w),
            Ok(None) => {}
            Err(Reading::Note(n)) => notes.push(n),
            Err(Reading::Malformed(detail)) => problems.push(Problem {
                code: "head-malformed",
                key: location.clone(),
                detail,
            }),
        }
    }
    let state = match (copies.is_empty(), deleted) {
        (_, true) => "deleted",
        (true, false) => "absent",
        (false, false) => "present",
    };
    let summary = HeadSummary {
        location: Some(location),
        state,
        versions: copies.len(),
        notes,
    };
    (witnesses, problems, summary)
}

enum Reading {
    /// Cannot be compared, for a reason that is not evidence of tampering.
    Note(String),
    /// Not what the generator writes: the writer replaces the head only with its own
    /// serialisation, so a malformed version was written by something else.
    Malformed(String),
}

fn one_version(location: &str, copy: &HeadCopy) -> Result<Option<Witness>, Reading> {
    let which = if copy.latest {
        format!("the current version ({})", copy.version)
    } else {
        format!("version {}", copy.version)
    };
    let bytes = copy
        .bytes
        .as_ref()
        .map_err(|e| Reading::Note(format!("{which} could not be read: {e}")))?;
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| Reading::Malformed(format!("{which} is not JSON: {e}")))?;
    let Value::Object(head) = &value else {
        return Err(Reading::Malformed(format!("{which} is not a JSON object")));
    };
    match head.get("format").and_then(Value::as_str) {
        Some(HEAD_FORMAT) => {}
        other => {
            return Err(Reading::Note(format!(
                "{which} has format {}, not {HEAD_FORMAT}; not compared",
                other.map_or_else(|| "(none)".to_owned(), |f| format!("{f:?}"))
            )));
        }
    }
    let last = match head.get("last") {
        None | Some(Value::Null) => return Ok(None), // no report committed yet
        Some(Value::Object(last)) => last,
        Some(_) => {
            return Err(Reading::Malformed(format!(
                "{which}: last is not an object"
            )));
        }
    };
    let field = |name: &str| last.get(name).unwrap_or(&Value::Null);
    let (sequence, key, sha256) = head_fields(field("sequence"), field("key"), field("sha256"))
        .map_err(|rule| Reading::Malformed(format!("{which}: last: {rule}")))?;
    Ok(Some(Witness {
        sequence,
        key,
        sha256,
        origin: Origin::Head {
            location: location.to_owned(),
            version: copy.version.clone(),
        },
    }))
}
