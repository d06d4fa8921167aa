//! The rows of the timeline's exceptions section: the sentence that opens it, the exceptions in
//! force during the period, those that expired while their finding was open, and the registers
//! the reports name (see [`crate::excepted`] for the rules).

use super::{Cell, Columns, Rows, Table, count, id, text};
use crate::excepted::{ExceptionInForce, ExpiredException, FindingDayState};
use crate::register::RegisterState;

impl<'t> Rows<'t> {
    /// The sentence that opens the exceptions section: what the period's reports record, and
    /// where the reasons and tickets come from.
    pub fn exceptions_summary(&self) -> String {
        let x = &self.t.exceptions;
        let total = x.reports_with_exceptions + x.reports_without_exceptions;
        if x.reports_with_exceptions == 0 {
            return format!(
                "Not recorded: the {total} report(s) of the period are of schema 1.0, which predates exceptions, so every finding in them counts as non-compliant and none as excepted."
            );
        }
        let mut s = format!(
            "{} of {total} report(s) of the period record exceptions (schema 1.1)",
            x.reports_with_exceptions
        );
        if x.reports_without_exceptions > 0 {
            s.push_str(&format!(
                "; the other {} are of schema 1.0, which predates exceptions, and every finding in them counts as non-compliant",
                x.reports_without_exceptions
            ));
        }
        let verified = x.registers.iter().filter(|r| r.state == "verified").count();
        s.push_str(&format!(
            ". {} exception(s) were in force during the period and {} expired while their finding was still open. Approver, reason, ticket and dates come from the register objects the reports name ({verified} of {} verified: found with the SHA-256 the reports give).",
            x.in_force.len(),
            x.expired_while_open.len(),
            x.registers.len()
        ));
        if x.in_force.iter().any(|e| e.reason.is_none()) {
            s.push_str(" An exception without a reason was labelled by a report whose register could not be verified (see the trail check); only the report's label (id, approver, expiry) is known.");
        }
        s
    }

    /// Every exception in force on some day of the period.
    pub fn exceptions_in_force(&self) -> Table<'_, 't, &'t ExceptionInForce> {
        let columns = Columns::new()
            .col("Id", "id", |e: &'t ExceptionInForce| id(&e.id))
            .col("Rule", "rule", |e| text(&e.rule))
            .col("Resource type", "resource_type", |e| text(&e.resource_type))
            .col("Resource id", "resource_id", |e| id(&e.resource_id))
            .col("Approver", "approver", |e| text(&e.approver))
            .col("Reason", "reason", |e| {
                e.reason.as_deref().map_or(Cell::Unknown, text)
            })
            .prose()
            .col("Ticket", "ticket", |e| {
                e.ticket.as_deref().map_or(Cell::Unknown, text)
            })
            .col("From", "from", |e| e.from.map_or(Cell::Unknown, Cell::Date))
            .col("To", "to", |e| Cell::Date(e.to))
            .col("Days excepted", "days_excepted", |e| count(e.days_excepted))
            .numeric()
            .data("first_day_in_period", |e| Cell::Date(e.first_day_in_period))
            .data("last_day_in_period", |e| Cell::Date(e.last_day_in_period))
            .data("registers", |e| text(e.registers.join(" ")));
        let table = Table::build(
            "exceptions_in_force",
            "Exceptions in force during the period",
            columns,
            self.t.exceptions.in_force.iter(),
            usize::MAX,
        );
        // Without a 1.1 report, the section's opening sentence says all there is to say.
        if self.recorded {
            table.when_empty("No exception was in force during the period.")
        } else {
            table
        }
    }

    /// The exceptions that expired while their finding was still open, with its state the day
    /// after.
    pub fn exceptions_expired(&self) -> Table<'_, 't, &'t ExpiredException> {
        let columns = Columns::new()
            .col("Id", "id", |e: &'t ExpiredException| id(&e.id))
            .col("Rule", "rule", |e| text(&e.rule))
            .col("Resource type", "resource_type", |e| text(&e.resource_type))
            .col("Resource id", "resource_id", |e| id(&e.resource_id))
            .col("Expired after", "expires", |e| Cell::Date(e.expires))
            .col("Day after", "day_after", |e| Cell::Date(e.day_after))
            .people("State the day after", |e| match e.state_day_after {
                FindingDayState::NonCompliant => text("non-compliant"),
                FindingDayState::Resolved => text("resolved"),
                FindingDayState::Excepted => text(format!(
                    "excepted under {}",
                    e.excepted_by.as_deref().unwrap_or("another exception")
                )),
            })
            .data("state_day_after", |e| {
                text(match e.state_day_after {
                    FindingDayState::NonCompliant => "nonCompliant",
                    FindingDayState::Resolved => "resolved",
                    FindingDayState::Excepted => "excepted",
                })
            })
            .data("excepted_by", |e| {
                text(e.excepted_by.as_deref().unwrap_or(""))
            })
            .col("Approver", "approver", |e| text(&e.approver))
            .col("Ticket", "ticket", |e| {
                e.ticket.as_deref().map_or(Cell::Unknown, text)
            });
        let table = Table::build(
            "exceptions_expired",
            "Exceptions that expired while their finding was still open",
            columns,
            self.t.exceptions.expired_while_open.iter(),
            usize::MAX,
        );
        if self.recorded {
            table.when_empty("No exception expired in the period while its finding was open.")
        } else {
            table
        }
    }

    /// The register objects the reports name, and whether each was verified.
    pub fn exception_registers(&self) -> Table<'_, 't, &'t RegisterState> {
        let columns = Columns::new()
            .col("Register", "key", |r: &'t RegisterState| id(&r.key))
            .col("Version", "version_id", |r| {
                r.version_id.as_deref().map_or(Cell::Unknown, id)
            })
            .data("sha256", |r| id(&r.sha256))
            .col("Exceptions", "entries", |r| count(r.entries))
            .numeric()
            .col("Reports", "referenced_by", |r| count(r.referenced_by))
            .numeric()
            .col("State", "state", |r| text(r.state))
            .col("Note", "note", |r| text(r.note.as_deref().unwrap_or("")))
            .prose()
            .data("location", |r| text(r.location.as_deref().unwrap_or("")));
        Table::build(
            "exception_registers",
            "Exceptions registers the reports name",
            columns,
            self.t.exceptions.registers.iter(),
            usize::MAX,
        )
    }
}
