"""The simulated quarter: which resources exist, which drift and which are fixed on which day, the day the
configuration recorder is off and the two days without a report, and what all that must produce.

A ``Scenario`` is a pure value, fully determined by (first day, number of days, seed). ``expect()`` plays
it against a model of the emulator's AWS Config semantics (tools/local_aws/README.md, "When rules are
evaluated") and returns what the trail must say: the open findings per rule on every day, every exposure
window, and how many alerts reach the security team's inbox. The demo prints these next to what the
auditor computed from the bucket, and the end-to-end test requires them to be equal.

The model, per simulated day, in the order the demo acts:

1. On the recorder-off day the recorder is stopped first; stopping records the estate as it is then.
   ``recorder_off_days`` later (the next day unless set) it is started again before anything else
   happens.
2. The day's drifts and fixes are applied to the estate.
3. Unless the day is skipped, the report generator runs. Its AWS Config reads make the emulator capture
   the estate (only while the recorder is recording) and evaluate the three rules over the last captured
   state. Every (rule, resource) that becomes NON_COMPLIANT in that evaluation is one compliance-change
   event for the alert formatter; the report lists every NON_COMPLIANT result. A report with a finding,
   a monitoring problem (the recorder off), or a finding fixed since the report before also sends one
   report alert.
4. The alert formatter then takes the day's events as one batch (the demo's stand-in for the queue's
   batching window): more changes than the digest threshold are one digest e-mail, fewer one e-mail
   each. Stopping the recorder is one CRITICAL monitoring alert that day, starting it again one
   RESOLVED monitoring alert the next (the account has a trail, so CloudTrail reports both calls).

Two findings are accepted risks (the exceptions register, docs/report-format.md "Exceptions"): two
resources non-compliant from the start, accepted on the third day, one until after the period and one
until a day within it. A report labels a finding its exception covers on the report's date; the model
counts those per rule on every reported day, and on a day without a report carries the last report's
labels while their exception lasts (the auditor's reading).

Storage encryption of a DB instance cannot be changed in place, so drifting or fixing one replaces it
(``tools.local_aws.estate``): AWS Config then sees a new resource id. A finding is therefore identified by
(kind, name, generation), where the generation of a DB instance counts its replacements.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

KINDS = ("s3", "rds", "ec2")
RESOURCE_TYPES = {
    "s3": "AWS::S3::Bucket",
    "rds": "AWS::RDS::DBInstance",
    "ec2": "AWS::EC2::Instance",
}
MANAGED_RULES = {
    "s3": "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
    "rds": "RDS_STORAGE_ENCRYPTED",
    "ec2": "EC2_IMDSV2_CHECK",
}
MIN_DAYS = 8
# Why the demo's two accepted risks were accepted, by the resource's kind.
REASONS = {
    "s3": "Legacy data, being copied to an encrypted bucket; the old bucket is deleted after the copy",
    "ec2": "Vendor appliance without IMDSv2 support; the vendor's next release adds it",
}

# The estate of a small financial-services workload. False = non-compliant from the start.
ESTATE: tuple[tuple[str, str, bool], ...] = (
    ("s3", "payments-ledger", True),
    ("s3", "customer-statements", True),
    ("s3", "trade-confirmations", True),
    ("s3", "kyc-documents", True),
    ("s3", "risk-models", True),
    ("s3", "treasury-exports", False),
    ("s3", "marketing-assets", False),
    ("s3", "audit-evidence", True),
    ("rds", "core-banking", True),
    ("rds", "card-ledger", True),
    ("rds", "reporting-warehouse", False),
    ("rds", "crm", True),
    ("ec2", "trading-gateway", True),
    ("ec2", "batch-settlement", True),
    ("ec2", "kyc-ocr-worker", True),
    ("ec2", "bastion", False),
    ("ec2", "fraud-scoring", True),
    ("ec2", "report-renderer", False),
    # Legacy resources that were never compliant: with the five above, twelve NON_COMPLIANT results on
    # the first day, more than the digest threshold (10), as a first deploy into an old account finds.
    ("s3", "legacy-backups", False),
    ("s3", "sftp-drop", False),
    ("s3", "data-science-scratch", False),
    ("rds", "legacy-reporting", False),
    ("ec2", "jenkins-agent", False),
    ("ec2", "legacy-ftp", False),
    ("ec2", "grafana", False),
)
# Days until a fix, drawn per drift; None = still open when the period ends.
FIX_DELAYS: tuple[int | None, ...] = (1, 2, 2, 3, 4, 6, 9, 14, 21, None)
DRIFT_PROBABILITY = 0.45


@dataclass(frozen=True)
class DemoException:
    """An accepted risk of the demo's register: a finding (kind, name; generation 0) from day
    ``created`` through day ``expires`` (0-based day indexes; ``expires`` may lie after the period)."""

    id: str
    kind: str
    name: str
    created: int
    expires: int
    reason: str
    approver: str
    ticket: str


@dataclass(frozen=True)
class Resource:
    kind: str  # "s3" | "rds" | "ec2"
    name: str
    initially_compliant: bool


@dataclass(frozen=True)
class Change:
    day: int  # 0-based index of the simulated day
    kind: str
    name: str
    action: str  # "drift" | "fix"


FindingId = tuple[str, str, int]  # (kind, name, generation)


@dataclass(frozen=True)
class Window:
    finding: FindingId
    opened: date
    resolved: date | None


@dataclass
class DayExpectation:
    date: date
    reported: bool
    recorder_on: bool
    by_kind: dict[str, int]  # open findings per kind (= per rule) in that day's state
    realtime_alerts: int  # compliance changes to NON_COMPLIANT in that day's evaluation
    report_alert: bool  # the report generator alerted about that day's report
    changes: list[Change] = field(default_factory=list)
    monitoring_alerts: int = 0  # the recorder stopped (that day) or started again (the next)
    excepted_by_kind: dict[str, int] = field(default_factory=dict)  # open under an exception
    open_findings: frozenset[FindingId] = frozenset()  # that day's state

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())

    def change_emails(self, digest_threshold: int) -> tuple[int, int]:
        """(single e-mails, digests) the day's compliance changes become."""
        if self.realtime_alerts > digest_threshold:
            return 0, 1
        return self.realtime_alerts, 0


@dataclass
class Expectation:
    days: list[DayExpectation]
    windows: list[Window]
    generations: dict[tuple[str, str], int]  # final generation of each DB instance (others stay 0)

    @property
    def reports(self) -> int:
        return sum(1 for d in self.days if d.reported)

    @property
    def realtime_alerts(self) -> int:
        return sum(d.realtime_alerts for d in self.days)

    @property
    def report_alerts(self) -> int:
        return sum(1 for d in self.days if d.report_alert)

    @property
    def monitoring_alerts(self) -> int:
        return sum(d.monitoring_alerts for d in self.days)

    def inbox(self, digest_threshold: int) -> dict[str, int]:
        """The e-mails the team gets: one per change, digests (and the changes they list),
        monitoring alerts and report alerts."""
        singles = sum(d.change_emails(digest_threshold)[0] for d in self.days)
        digests = [d.realtime_alerts for d in self.days if d.change_emails(digest_threshold)[1]]
        return {
            "changes": singles,
            "digests": len(digests),
            "digestChanges": sum(digests),
            "monitoring": self.monitoring_alerts,
            "report": self.report_alerts,
        }

    def opened(self, kind: str | None = None) -> int:
        return sum(1 for w in self.windows if kind is None or w.finding[0] == kind)

    def resolved(self, kind: str | None = None) -> int:
        return sum(
            1
            for w in self.windows
            if w.resolved is not None and (kind is None or w.finding[0] == kind)
        )


@dataclass(frozen=True)
class Scenario:
    start: date
    days: int
    seed: int
    resources: tuple[Resource, ...]
    changes: tuple[Change, ...]
    recorder_off_day: int
    skipped_days: tuple[int, ...]
    exceptions: tuple[DemoException, ...] = ()
    # How many days the recorder stays off from ``recorder_off_day`` (the single demo: one; the
    # organization demo: a week in one account, none in the others).
    recorder_off_days: int = 1

    # -- building ------------------------------------------------------------------------------------
    @classmethod
    def build(cls, start: date, days: int, seed: int) -> Scenario:
        """The seeded plan. Raises ValueError naming the rule a bad argument broke."""
        if days < MIN_DAYS:
            raise ValueError(f"days {days}: must be at least {MIN_DAYS}")
        edge = max(2, days * 2 // 9)
        skipped = (edge, days - edge)
        recorder_off = days // 2
        resources = tuple(Resource(k, n, c) for k, n, c in ESTATE)
        rng = random.Random(seed)  # noqa: S311 (a reproducible simulation, not security)

        compliant = {r.name: r.initially_compliant for r in resources}
        kind_of = {r.name: r.kind for r in resources}
        fixes: dict[int, list[str]] = {}
        for r in resources:
            if not r.initially_compliant:
                delay = rng.choice(FIX_DELAYS)
                if delay is not None:
                    fixes.setdefault(min(3 + delay, days), []).append(r.name)
        changes: list[Change] = []
        for day in range(1, days):
            for name in sorted(fixes.pop(day, [])):
                compliant[name] = True
                changes.append(Change(day, kind_of[name], name, "fix"))
            # Something always drifts on the recorder-off day and on the skipped days, so the demo shows
            # what a gap in monitoring hides until the next report.
            forced = day == recorder_off or day in skipped
            if forced or rng.random() < DRIFT_PROBABILITY:
                touched = {c.name for c in changes if c.day == day}
                candidates = sorted(n for n, ok in compliant.items() if ok and n not in touched)
                if not candidates:
                    continue
                name = rng.choice(candidates)
                delay = rng.choice(FIX_DELAYS)
                if forced:
                    delay = max(delay or 0, 2) if delay is not None else None
                compliant[name] = False
                changes.append(Change(day, kind_of[name], name, "drift"))
                if delay is not None and day + delay < days:
                    fixes.setdefault(day + delay, []).append(name)
        exceptions = _accepted_risks(resources, changes, days)
        return cls(start, days, seed, resources, tuple(changes), recorder_off, skipped, exceptions)

    # -- reading -------------------------------------------------------------------------------------
    def date_of(self, day: int) -> date:
        return self.start + timedelta(days=day)

    @property
    def end(self) -> date:
        return self.date_of(self.days - 1)

    def recorder_stops_on(self, day: int) -> bool:
        return self.recorder_off_days > 0 and day == self.recorder_off_day

    def recorder_starts_on(self, day: int) -> bool:
        """The recorder is started again first thing this day."""
        return self.recorder_off_days > 0 and day == self.recorder_off_day + self.recorder_off_days

    def changes_on(self, day: int) -> list[Change]:
        return [c for c in self.changes if c.day == day]

    def _labels(self, day: int, open_findings: set[FindingId]) -> dict[FindingId, int]:
        """The findings a report on ``day`` labels, with the last day (index) of their exception."""
        return {
            (x.kind, x.name, 0): x.expires
            for x in self.exceptions
            if x.created <= day <= x.expires and (x.kind, x.name, 0) in open_findings
        }

    def expect(self) -> Expectation:
        """Play the plan against the model of the emulator described in the module docstring."""
        compliant = {(r.kind, r.name): r.initially_compliant for r in self.resources}
        generation = {key: 0 for key in compliant}
        recording = True
        captured: dict[
            FindingId, bool
        ] = {}  # what the recorder last captured: finding id -> compliant
        evaluated: set[FindingId] = set()  # NON_COMPLIANT results of the last evaluation
        opened_on: dict[FindingId, date] = {}
        windows: list[Window] = []
        days: list[DayExpectation] = []
        labels: dict[FindingId, int] = {}  # the last report's labels: finding -> last day in force

        def snapshot() -> dict[FindingId, bool]:
            return {(k, n, generation[(k, n)]): ok for (k, n), ok in compliant.items()}

        for day in range(self.days):
            today = self.date_of(day)
            if self.recorder_stops_on(day):
                captured = snapshot()
                recording = False
            elif self.recorder_starts_on(day):
                recording = True
            todays = self.changes_on(day)
            for change in todays:
                key = (change.kind, change.name)
                compliant[key] = change.action == "fix"
                if change.kind == "rds":
                    generation[key] += 1  # the instance is replaced: a new resource id
            reported = day not in self.skipped_days
            realtime = 0
            fixed = False
            if reported:
                if recording:
                    captured = snapshot()
                now_open = {f for f, ok in captured.items() if not ok}
                new = now_open - evaluated
                realtime = len(new)
                for finding in sorted(new):
                    opened_on[finding] = today
                for finding in sorted(evaluated - now_open):
                    windows.append(Window(finding, opened_on.pop(finding), today))
                fixed = bool(evaluated - now_open)
                evaluated = now_open
                labels = self._labels(day, evaluated)
            by_kind = {k: sum(1 for f in evaluated if f[0] == k) for k in KINDS}
            # A day without a report carries the last report's labels, never past their expiry.
            excepted = {
                k: sum(1 for f, last in labels.items() if f[0] == k and day <= last) for k in KINDS
            }
            report_alert = reported and (sum(by_kind.values()) > 0 or not recording or fixed)
            monitoring = int(self.recorder_stops_on(day) or self.recorder_starts_on(day))
            days.append(
                DayExpectation(
                    today,
                    reported,
                    recording,
                    by_kind,
                    realtime,
                    report_alert,
                    todays,
                    monitoring,
                    excepted,
                    frozenset(evaluated),
                )
            )
        for finding, opened in opened_on.items():
            windows.append(Window(finding, opened, None))
        windows.sort(key=lambda w: (w.finding, w.opened))
        final_generations = {key: g for key, g in generation.items() if key[0] == "rds"}
        return Expectation(days, windows, final_generations)


def _accepted_risks(
    resources: tuple[Resource, ...], changes: list[Change], days: int
) -> tuple[DemoException, ...]:
    """Two resources non-compliant from the start (S3 or EC2, whose resource ids never change),
    preferring those fixed last or never, accepted on the third day: one until 30 days after the
    period, one until a day within it, so the period shows an exception expiring while its finding
    is open (it pages again the next day)."""
    fixed_on = {c.name: c.day for c in changes if c.action == "fix"}
    candidates = sorted(
        (r for r in resources if not r.initially_compliant and r.kind in ("s3", "ec2")),
        key=lambda r: (-fixed_on.get(r.name, days), r.name),
    )
    first, second = candidates[0], candidates[1]
    return (
        DemoException(
            "EXC-DEMO-001",
            first.kind,
            first.name,
            2,
            days - 1 + 30,
            REASONS[first.kind],
            "ciso@example.com",
            "RISK-2041",
        ),
        DemoException(
            "EXC-DEMO-002",
            second.kind,
            second.name,
            2,
            max(3, days // 3),
            REASONS[second.kind],
            "head.of.risk@example.com",
            "RISK-2042",
        ),
    )
