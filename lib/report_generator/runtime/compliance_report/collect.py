"""Read compliance results and monitoring evidence from AWS Config, concurrently and within a deadline.

NextToken makes each paginated stream sequential, so the run is as fast as its longest stream. Each rule
therefore gets two independent streams — its NON_COMPLIANT evaluations (the findings) and its COMPLIANT +
NOT_APPLICABLE evaluations (only counted) — and every stream and every status call runs in its own thread.
With 6,000 / 3,000 / 1,000 findings the wall time is about the 60 pages of the largest rule, not the sum
of all pages (see benchmarks/bench_report.py).

Retries are botocore's (see clients.py): a call that still fails after them is recorded in ``errors`` and
the rule is marked incomplete; nothing here loops on errors by hand.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass, field
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

from . import monitoring
from .settings import MonitoredRule
from .timefmt import utc_z

PAGE_LIMIT = 100  # GetComplianceDetailsByConfigRule's maximum Limit
ANNOTATION_MAX = 256
_NO_SUCH_RULE = "NoSuchConfigRuleException"


def _error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code") or "ClientError"
    return type(error).__name__


def _error_text(error: Exception) -> str:
    return str(error).splitlines()[0][:500] if str(error) else type(error).__name__


@dataclass
class RuleResult:
    rule: MonitoredRule
    compliance_type: str = "UNKNOWN"
    findings: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    compliant: int = 0
    not_applicable: int = 0
    findings_complete: bool = False
    counts_complete: bool = False
    evaluation_status: dict[str, Any] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def complete(self) -> bool:
        return self.findings_complete and self.counts_complete

    def sorted_findings(self) -> list[dict[str, Any]]:
        with self.lock:
            return [self.findings[k] for k in sorted(self.findings)]


@dataclass
class Collection:
    rules: list[RuleResult]
    recorders: list[dict[str, Any]] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    api_calls: int = 0
    # Rules with a read still running at the deadline: reported incomplete even if it ends just after.
    unfinished_rules: list[str] = field(default_factory=list)


def finding_from(evaluation: dict[str, Any]) -> dict[str, Any] | None:
    """Schema finding from one EvaluationResult; None when AWS left out the resource identity."""
    # ``or {}``: GetComplianceDetailsByConfigRule pages are read as sent (clients.PLAIN_JSON_OUTPUTS),
    # so a member AWS sends as null is None here rather than left out.
    identifier = evaluation.get("EvaluationResultIdentifier") or {}
    qualifier = identifier.get("EvaluationResultQualifier") or {}
    resource_type, resource_id = qualifier.get("ResourceType"), qualifier.get("ResourceId")
    recorded = evaluation.get("ResultRecordedTime")
    if not resource_type or not resource_id or recorded is None:
        return None
    annotation = evaluation.get("Annotation")
    if annotation is not None:
        annotation = annotation[:ANNOTATION_MAX]
    return {
        "resourceType": resource_type,
        "resourceId": resource_id[:768],
        "annotation": annotation,
        "resultRecordedTime": utc_z(recorded),
    }


class Collector:
    """One run's reads. ``start`` submits every call to the executor; ``finish`` waits up to a timeout."""

    def __init__(self, config: Any, rules: Sequence[MonitoredRule], stop: threading.Event) -> None:
        self._config = config
        self._stop = stop
        self._lock = threading.Lock()
        self.collection = Collection(rules=[RuleResult(rule) for rule in rules])
        self._pending: dict[Future, str] = {}
        # Set by finish(): reads still running after it publish nothing, so the report is a snapshot.
        self._frozen = False

    # -- bookkeeping -------------------------------------------------------------------------------
    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        with self._lock:
            self.collection.api_calls += 1
        return getattr(self._config, operation)(**params)

    def _publish(self, apply: Callable[[], None]) -> None:
        with self._lock:
            if not self._frozen:
                apply()

    def _error(self, scope: str, subject: str, code: str, message: str) -> None:
        entry = {"scope": scope, "subject": subject, "code": code, "message": message}
        self._publish(lambda: self.collection.errors.append(entry))

    def _problem(self, code: str, subject: str, message: str) -> None:
        entry = monitoring.problem(code, subject, message)
        self._publish(lambda: self.collection.problems.append(entry))

    # -- streams -------------------------------------------------------------------------------------
    def _pages(self, rule: str, compliance_types: list[str], finished: list[bool]):
        """Yield pages until NextToken runs out (then ``finished[0]`` is True) or the run is stopped."""
        token = None
        while not self._stop.is_set():
            params: dict[str, Any] = {
                "ConfigRuleName": rule,
                "ComplianceTypes": compliance_types,
                "Limit": PAGE_LIMIT,
            }
            if token:
                params["NextToken"] = token
            page = self._call("get_compliance_details_by_config_rule", **params)
            yield page.get("EvaluationResults", [])
            token = page.get("NextToken")
            if not token:
                finished[0] = True
                return

    def _read_findings(self, result: RuleResult) -> None:
        name = result.rule.name
        finished = [False]
        try:
            for evaluations in self._pages(name, ["NON_COMPLIANT"], finished):
                page = {}
                for evaluation in evaluations:
                    finding = finding_from(evaluation)
                    if finding is not None:
                        page[(finding["resourceType"], finding["resourceId"])] = finding
                self._publish(lambda page=page: result.findings.update(page))
            self._publish(lambda: setattr(result, "findings_complete", finished[0]))
        except (ClientError, BotoCoreError) as e:
            self._rule_failed(name, "GetComplianceDetailsByConfigRule(NON_COMPLIANT)", e)

    def _read_counts(self, result: RuleResult) -> None:
        name = result.rule.name
        seen: dict[str, set] = {"COMPLIANT": set(), "NOT_APPLICABLE": set()}
        finished = [False]
        try:
            for evaluations in self._pages(name, ["COMPLIANT", "NOT_APPLICABLE"], finished):
                for evaluation in evaluations:
                    bucket = seen.get(evaluation.get("ComplianceType", ""))
                    finding = finding_from(evaluation)
                    if bucket is not None and finding is not None:
                        bucket.add((finding["resourceType"], finding["resourceId"]))
                compliant, not_applicable = len(seen["COMPLIANT"]), len(seen["NOT_APPLICABLE"])
                self._publish(
                    lambda c=compliant, n=not_applicable: (
                        setattr(result, "compliant", c),
                        setattr(result, "not_applicable", n),
                    )
                )
            self._publish(lambda: setattr(result, "counts_complete", finished[0]))
        except (ClientError, BotoCoreError) as e:
            self._rule_failed(name, "GetComplianceDetailsByConfigRule(COMPLIANT,NOT_APPLICABLE)", e)

    def _rule_failed(self, rule: str, what: str, error: Exception) -> None:
        code = _error_code(error)
        self._error("rule", rule, code, f"{what} failed after retries: {_error_text(error)}")
        if code == _NO_SUCH_RULE:
            self._problem("RULE_MISSING", rule, f"rule {rule} does not exist in AWS Config")

    def _per_rule(self, call: Callable[[list[str]], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        """Call with every rule name; when one name is unknown AWS fails the whole call, so retry per rule."""
        names = [r.rule.name for r in self.collection.rules]
        try:
            return call(names)
        except ClientError as e:
            if _error_code(e) != _NO_SUCH_RULE:
                raise
        items: list[dict[str, Any]] = []
        for name in names:
            try:
                items.extend(call([name]))
            except ClientError as e:
                if _error_code(e) != _NO_SUCH_RULE:
                    raise
        return items

    def _describe_compliance(self, names: list[str]) -> list[dict[str, Any]]:
        items, token = [], None
        while True:
            params: dict[str, Any] = {"ConfigRuleNames": names}
            if token:
                params["NextToken"] = token
            page = self._call("describe_compliance_by_config_rule", **params)
            items.extend(page.get("ComplianceByConfigRules", []))
            token = page.get("NextToken")
            if not token:
                return items

    def _read_compliance(self) -> None:
        try:
            items = self._per_rule(self._describe_compliance)
        except (ClientError, BotoCoreError) as e:
            self._error(
                "rule",
                "DescribeComplianceByConfigRule",
                _error_code(e),
                f"overall rule compliance unknown: {_error_text(e)}",
            )
            return
        by_name = {i.get("ConfigRuleName"): i.get("Compliance", {}) for i in items}

        def apply() -> None:
            for result in self.collection.rules:
                compliance = by_name.get(result.rule.name)
                if compliance is not None:
                    result.compliance_type = compliance.get("ComplianceType") or "INSUFFICIENT_DATA"

        self._publish(apply)

    def _describe_status(self, names: list[str]) -> list[dict[str, Any]]:
        items, token = [], None
        while True:
            params: dict[str, Any] = {"ConfigRuleNames": names}
            if token:
                params["NextToken"] = token
            page = self._call("describe_config_rule_evaluation_status", **params)
            items.extend(page.get("ConfigRulesEvaluationStatus", []))
            token = page.get("NextToken")
            if not token:
                return items

    def _read_evaluation_status(self) -> None:
        try:
            items = self._per_rule(self._describe_status)
        except (ClientError, BotoCoreError) as e:
            self._status_failed("DescribeConfigRuleEvaluationStatus", e)
            return
        by_name = {i.get("ConfigRuleName"): i for i in items}
        for result in self.collection.rules:
            raw = by_name.get(result.rule.name)
            if raw is None:
                self._problem(
                    "RULE_MISSING",
                    result.rule.name,
                    f"rule {result.rule.name} does not exist in AWS Config",
                )
                continue
            record = monitoring.evaluation_record(raw)
            self._publish(lambda r=result, rec=record: setattr(r, "evaluation_status", rec))
            for found in monitoring.evaluation_problems(result.rule.name, raw):
                self._problem(found["code"], found["subject"], found["message"])

    def _read_recorders(self) -> None:
        try:
            page = self._call("describe_configuration_recorder_status")
        except (ClientError, BotoCoreError) as e:
            self._status_failed("DescribeConfigurationRecorderStatus", e)
            return
        records = monitoring.recorder_records(page.get("ConfigurationRecordersStatus", []))
        self._publish(lambda: setattr(self.collection, "recorders", records))
        for found in monitoring.recorder_problems(records):
            self._problem(found["code"], found["subject"], found["message"])

    def _read_channels(self) -> None:
        try:
            page = self._call("describe_delivery_channel_status")
        except (ClientError, BotoCoreError) as e:
            self._status_failed("DescribeDeliveryChannelStatus", e)
            return
        records = monitoring.channel_records(page.get("DeliveryChannelsStatus", []))
        self._publish(lambda: setattr(self.collection, "channels", records))
        for found in monitoring.channel_problems(records):
            self._problem(found["code"], found["subject"], found["message"])

    def _status_failed(self, operation: str, error: Exception) -> None:
        text = _error_text(error)
        self._error("monitoring", operation, _error_code(error), f"failed after retries: {text}")
        self._problem("STATUS_UNAVAILABLE", operation, f"{operation} could not be read: {text}")

    # -- orchestration -------------------------------------------------------------------------------
    def start(self, executor: Executor) -> None:
        jobs: list[tuple[Callable[[], None], str]] = []
        for result in self.collection.rules:
            jobs.append((lambda r=result: self._read_findings(r), f"rule:{result.rule.name}"))
            jobs.append((lambda r=result: self._read_counts(r), f"rule:{result.rule.name}"))
        jobs.append((self._read_compliance, "op:DescribeComplianceByConfigRule"))
        jobs.append((self._read_evaluation_status, "op:DescribeConfigRuleEvaluationStatus"))
        jobs.append((self._read_recorders, "op:DescribeConfigurationRecorderStatus"))
        jobs.append((self._read_channels, "op:DescribeDeliveryChannelStatus"))
        for job, label in jobs:
            self._pending[executor.submit(job)] = label

    def finish(self, timeout_s: float, budget_ms: int) -> Collection:
        """Wait up to ``timeout_s``; unfinished reads are told to stop and recorded as deadline errors."""
        _, not_done = wait(list(self._pending), timeout=max(0.0, timeout_s))
        with self._lock:
            self._frozen = True
        if not_done:
            self._stop.set()
            subjects = sorted({self._pending[f] for f in not_done})
            self.collection.unfinished_rules = [
                s.split(":", 1)[1] for s in subjects if s.startswith("rule:")
            ]
            for subject in subjects:
                kind, name = subject.split(":", 1)
                what = f"rule {name} results" if kind == "rule" else name
                self.collection.errors.append(
                    {
                        "scope": "deadline",
                        "subject": name,
                        "code": "DeadlineApproaching",
                        "message": f"stopped reading {what} after {budget_ms} ms to store the report "
                        "before the Lambda timeout; what was read is kept",
                    }
                )
        for future in self._pending:
            if future.done() and future.exception() is not None:
                # A bug, not an AWS failure: surface it rather than write a report that hides it.
                raise future.exception()  # type: ignore[misc]
        return self.collection
