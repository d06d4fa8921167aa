"""Typed exceptions of the report generator. Each message is one line naming the input and the rule broken."""

from __future__ import annotations


class ReportGeneratorError(Exception):
    """Base class: anything the generator raises on purpose.

    ``stored_key``: the key of the report object this run wrote before it failed (its alert or commit
    failed afterwards), None when it wrote none; the handler's ReportsStored metric reads it."""

    stored_key: str | None = None


class SettingsError(ReportGeneratorError):
    """An environment variable set by the stack is missing or malformed."""


class UnrecognisedEvent(ReportGeneratorError):
    """The invocation event is not a trigger the generator knows; no report is made for it."""


class ChainBusy(ReportGeneratorError):
    """Another run holds the chain and did not finish before this run's deadline; the platform retries."""


class ReportWriteFailed(ReportGeneratorError):
    """The report object could not be stored; nothing was written and the invocation must fail."""


class AlertPublishFailed(ReportGeneratorError):
    """The report is stored but the alert could not be published; the invocation fails so it is retried."""


class ChainCorrupted(ReportGeneratorError):
    """The trail, or what witnesses it, shows that reports were deleted or rewritten (the newest report
    gone or overwritten, two reports of one sequence, a head or witness beyond the trail or naming other
    bytes), or a claim cannot be read. No report is written until someone looks: writing on could reuse a
    sequence or chain onto rewritten bytes. The handler counts it in the ``ChainCorrupted`` metric."""


class OutOfTime(ReportGeneratorError):
    """An AWS call after collection could not start, or end, before the run's time for AWS calls was over;
    the run fails before Lambda would stop it."""


class RegisterUnusable(ReportGeneratorError):
    """The exceptions register the function was deployed with cannot be used: its file is unreadable,
    its bytes are not those its key names, or the object stored under that key holds other bytes. No
    report is written: one labelled from another register, or not labelled at all, would be wrong."""
