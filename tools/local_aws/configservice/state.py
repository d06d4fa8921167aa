"""Evaluation state of one Config rule: its results and its evaluation status.

A result keeps the time of its last compliance *change* as ResultRecordedTime, so a finding's time
stays put while the finding stays the same. The rule is "invoked" when it is first seen, when
StartConfigRulesEvaluation names it, and when a read finds that the recorded resources in its scope
would now evaluate differently; a rule with an injected failure records a failed invocation instead
and keeps its previous results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Result:
    compliance: str
    annotation: str | None
    recorded: datetime  # ResultRecordedTime and OrderingTimestamp: last change of compliance
    invoked: datetime  # ConfigRuleInvokedTime: last invocation that produced this result
    # The result's EvaluationResult JSON, kept because encoding dominates the cost of a page.
    encoded: bytes | None = field(default=None, compare=False, repr=False)


@dataclass
class ComplianceChange:
    """A (rule, resource) whose compliance just changed (including its first result): what AWS
    Config announces as a "Config Rules Compliance Change" event, and what the emulator delivers to
    EventBridge (``eventbridge.py``)."""

    rule_name: str
    resource_type: str
    resource_id: str
    account_id: str
    region: str
    when: datetime
    compliance: str = "NON_COMPLIANT"
    annotation: str | None = None
    rule_arn: str = ""
    previous: Result | None = None  # the result before; None for a resource's first result


@dataclass
class RuleState:
    rule_name: str
    rule_arn: str
    first_activated: datetime
    results: dict[tuple[str, str], Result] = field(default_factory=dict)
    synthetic: dict[tuple[str, str], Result] = field(default_factory=dict)
    first_evaluation_started: bool = False
    last_successful_invocation: datetime | None = None
    last_failed_invocation: datetime | None = None
    last_error_code: str | None = None
    last_error_message: str | None = None
    failure: tuple[str, str] | None = None
    # Held before its first evaluation finished (config/rule-evaluation-pending): "not-started"
    # or "started" (since ``pending_since``); None once the rule evaluates as usual.
    pending: str | None = None
    pending_since: datetime | None = None
    _sorted: list[tuple[tuple[str, str], Result]] | None = None
    _by_types: dict[frozenset[str], tuple[list[tuple[str, str]], list[Result]]] = field(
        default_factory=dict
    )

    def all_results(self) -> list[tuple[tuple[str, str], Result]]:
        """Real and synthetic results by (ResourceType, ResourceId); cached until they change."""
        if self._sorted is None:
            merged = dict(self.synthetic)
            merged.update(self.results)
            self._sorted = sorted(merged.items(), key=lambda kv: kv[0])
        return self._sorted

    def filtered(self, types: frozenset[str]) -> tuple[list[tuple[str, str]], list[Result]]:
        """(keys, results) of the given compliance types, in key order; cached until they change,
        so paging through 10,000 results does not re-filter them for every page."""
        cached = self._by_types.get(types)
        if cached is None:
            rows = [(k, r) for k, r in self.all_results() if r.compliance in types]
            cached = ([k for k, _ in rows], [r for _, r in rows])
            self._by_types[types] = cached
        return cached

    def hold_unevaluated(self, pending: str, now: datetime) -> None:
        """Forget every evaluation: the rule is as AWS shows it before its first evaluation ended
        (no results, so INSUFFICIENT_DATA; no evaluation times), started or not."""
        self.pending, self.pending_since = pending, now
        self.results, self.synthetic = {}, {}
        self.first_evaluation_started = pending == "started"
        self.last_successful_invocation = self.last_failed_invocation = None
        self.last_error_code = self.last_error_message = None
        self.invalidate()

    def invalidate(self) -> None:
        self._sorted = None
        self._by_types = {}

    def differs(self, verdicts: dict[tuple[str, str], tuple[str, str | None]]) -> bool:
        if verdicts.keys() != self.results.keys():
            return True
        return any((r.compliance, r.annotation) != verdicts[key] for key, r in self.results.items())

    def invoke(
        self,
        verdicts: dict[tuple[str, str], tuple[str, str | None]],
        now: datetime,
    ) -> list[tuple[tuple[str, str], Result | None, Result]]:
        """Run one invocation; returns (resource, result before or None, new result) for every
        resource whose compliance changed."""
        self.first_evaluation_started = True
        if self.failure is not None:
            self.last_failed_invocation = now
            self.last_error_code, self.last_error_message = self.failure
            return []
        changed: list[tuple[tuple[str, str], Result | None, Result]] = []
        updated: dict[tuple[str, str], Result] = {}
        for key, (compliance, annotation) in verdicts.items():
            previous = self.results.get(key)
            if previous is not None and previous.compliance == compliance:
                previous.annotation = annotation
                previous.invoked = now
                previous.encoded = None
                updated[key] = previous
                continue
            updated[key] = Result(compliance, annotation, now, now)
            changed.append((key, previous, updated[key]))
        self.results = updated
        self.last_successful_invocation = now
        self.invalidate()
        return changed

    def counts(self) -> dict[str, int]:
        return {
            kind: len(self.filtered(frozenset({kind}))[0])
            for kind in ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE")
        }

    def rule_compliance(self) -> str:
        """NON_COMPLIANT if any resource is; COMPLIANT if any is and none is not; else
        INSUFFICIENT_DATA."""
        tally = self.counts()
        if tally["NON_COMPLIANT"]:
            return "NON_COMPLIANT"
        if tally["COMPLIANT"]:
            return "COMPLIANT"
        return "INSUFFICIENT_DATA"
