"""Read compliance results and monitoring evidence from AWS Config, concurrently and within a deadline.

NextToken makes each paginated stream sequential, so the run is as fast as its longest stream. Each rule
therefore gets two independent streams — its NON_COMPLIANT evaluations (the findings) and its COMPLIANT +
NOT_APPLICABLE evaluations (only counted) — and every stream and every status call runs in its own thread.
With 6,000 / 3,000 / 1,000 findings the wall time is about the 60 pages of the largest rule, not the sum
of all pages (see benchmarks/bench_report.py).

Pages come from botocore's paginators and retries from botocore's retry mode (see clients.py): a call that
still fails after them is recorded in ``errors`` and the rule is marked incomplete; nothing here loops on
NextToken or on errors by hand. Each read keeps its errors and problems apart, and the report lists them
in the order the reads were started, so the same answers always give the same report bytes.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass, field
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

from . import limits, monitoring
from .model import DeliveryChannel, EvaluationStatus, Finding, PartialFailure, Problem, Recorder
from .settings import MonitoredRule
from .timefmt import utc_z

# GetComplianceDetailsByConfigRule's Limit: "The maximum number of evaluation results returned on each
# page. The default is 10. You cannot specify a number greater than 100."
# https://docs.aws.amazon.com/config/latest/APIReference/API_GetComplianceDetailsByConfigRule.html
PAGE_LIMIT = 100
_NO_SUCH_RULE = "NoSuchConfigRuleException"
# DescribeComplianceByConfigRule and DescribeConfigRuleEvaluationStatus name at most 25 rules a call
# (ConfigRuleNames: "Array Members: Minimum number of 0 items. Maximum number of 25 items."
# https://docs.aws.amazon.com/config/latest/APIReference/API_DescribeComplianceByConfigRule.html,
# https://docs.aws.amazon.com/config/latest/APIReference/API_DescribeConfigRuleEvaluationStatus.html).
RULE_NAMES_PER_CALL = 25

Page = dict[str, Any]


def _error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or "ClientError")
    return type(error).__name__


def _error_text(error: Exception) -> str:
    return str(error).splitlines()[0][:500] if str(error) else type(error).__name__


def _resource_of(evaluation: Page) -> tuple[str, str] | None:
    """(resource type, resource id) of one EvaluationResult; None when AWS left out its identity."""
    # ``or {}``: a member AWS sends as null must read as missing.
    identifier = evaluation.get("EvaluationResultIdentifier") or {}
    qualifier = identifier.get("EvaluationResultQualifier") or {}
    resource_type, resource_id = qualifier.get("ResourceType"), qualifier.get("ResourceId")
    if not resource_type or not resource_id or evaluation.get("ResultRecordedTime") is None:
        return None
    return resource_type, limits.text(resource_id, limits.RESOURCE_ID)


def finding_from(evaluation: Page) -> Finding | None:
    """The finding of one NON_COMPLIANT EvaluationResult; None when AWS left out the resource identity.

    Resource types and annotations repeat across thousands of findings, so one copy of each is kept
    (``sys.intern``); recording times share one string per instant (``timefmt``)."""
    resource = _resource_of(evaluation)
    if resource is None:
        return None
    annotation = evaluation.get("Annotation")
    if annotation is not None:
        annotation = sys.intern(limits.text(annotation, limits.ANNOTATION))
    return Finding(
        sys.intern(limits.text(resource[0], limits.NAME)),
        resource[1],
        annotation,
        utc_z(evaluation["ResultRecordedTime"]),
    )


def _resource_key(finding: Finding) -> tuple[str, str]:
    return finding.resource_type, finding.resource_id


@dataclass
class RuleReads:
    """What has been read of one rule so far; changed only through the collector's ``_publish``."""

    rule: MonitoredRule
    compliance_type: str = "UNKNOWN"
    findings: list[Finding] = field(default_factory=list)  # as read; see unique_findings
    compliant: int = 0
    not_applicable: int = 0
    findings_complete: bool = False
    counts_complete: bool = False
    evaluation_status: EvaluationStatus | None = None

    @property
    def complete(self) -> bool:
        return self.findings_complete and self.counts_complete

    def count(self, compliant: int, not_applicable: int) -> None:
        self.compliant, self.not_applicable = compliant, not_applicable

    def unique_findings(self) -> tuple[Finding, ...]:
        """Sorted by (resource type, resource id), one per resource: the one read last."""
        unique: list[Finding] = []
        for finding in sorted(self.findings, key=_resource_key):  # stable: read order among equals
            if unique and _resource_key(unique[-1]) == _resource_key(finding):
                unique[-1] = finding
            else:
                unique.append(finding)
        return tuple(unique)


@dataclass
class ReadLog:
    """The errors and problems one read found."""

    errors: list[PartialFailure] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Collection:
    rules: list[RuleReads]
    recorders: list[Recorder] = field(default_factory=list)
    channels: list[DeliveryChannel] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    errors: list[PartialFailure] = field(default_factory=list)
    api_calls: int = 0
    # Rules with a read still running at the deadline: reported incomplete even if it ends just after.
    unfinished_rules: list[str] = field(default_factory=list)


class Collector:
    """One run's reads. ``start`` submits every read to the executor; ``finish`` waits up to a timeout."""

    def __init__(self, config: Any, rules: Sequence[MonitoredRule], stop: threading.Event) -> None:
        self._config = config
        self._stop = stop
        self._lock = threading.Lock()
        self.collection = Collection(rules=[RuleReads(rule) for rule in rules])
        self._pending: dict[Future[None], str] = {}
        self._logs: list[ReadLog] = []  # one per read, in the order the reads were started
        # Set by finish(): reads still running after it publish nothing, so the report is a snapshot.
        self._frozen = False

    # -- bookkeeping -------------------------------------------------------------------------------
    def _count(self) -> None:
        with self._lock:
            self.collection.api_calls += 1

    def _call(self, operation: str, **params: Any) -> Page:
        self._count()
        answer: Page = getattr(self._config, operation)(**params)
        return answer

    def _pages(self, operation: str, params: Page, page_size: int | None = None) -> Iterator[Page]:
        """The pages of one botocore paginator; every call is counted, a failed one too."""
        pagination = {"PageSize": page_size} if page_size else {}
        paginator = self._config.get_paginator(operation)
        pages = iter(paginator.paginate(**params, PaginationConfig=pagination))
        while True:
            try:
                page = next(pages)
            except StopIteration:
                return
            except (ClientError, BotoCoreError):
                self._count()
                raise
            self._count()
            yield page

    def _publish(self, apply: Callable[..., object], *args: Any) -> None:
        """``apply(*args)``, unless the collection is already frozen (a snapshot for the report)."""
        with self._lock:
            if not self._frozen:
                apply(*args)

    def _error(self, log: ReadLog, scope: str, subject: str, code: str, message: str) -> None:
        self._publish(log.errors.append, PartialFailure(scope, subject, code, message))

    def _problems(self, log: ReadLog, found: Sequence[Problem]) -> None:
        self._publish(log.problems.extend, found)

    # -- streams -------------------------------------------------------------------------------------
    def _read_findings(self, reads: RuleReads, log: ReadLog) -> None:
        name = reads.rule.name
        params = {"ConfigRuleName": name, "ComplianceTypes": ["NON_COMPLIANT"]}
        try:
            if self._stop.is_set():
                return
            for page in self._pages("get_compliance_details_by_config_rule", params, PAGE_LIMIT):
                evaluations = page.get("EvaluationResults", [])
                found = [f for f in map(finding_from, evaluations) if f is not None]
                self._publish(reads.findings.extend, found)
                if self._stop.is_set():
                    return
            self._publish(setattr, reads, "findings_complete", True)
        except (ClientError, BotoCoreError) as e:
            self._rule_failed(log, name, "GetComplianceDetailsByConfigRule(NON_COMPLIANT)", e)

    def _read_counts(self, reads: RuleReads, log: ReadLog) -> None:
        name = reads.rule.name
        params = {"ConfigRuleName": name, "ComplianceTypes": ["COMPLIANT", "NOT_APPLICABLE"]}
        seen: dict[str, set[tuple[str, str]]] = {"COMPLIANT": set(), "NOT_APPLICABLE": set()}
        try:
            if self._stop.is_set():
                return
            for page in self._pages("get_compliance_details_by_config_rule", params, PAGE_LIMIT):
                for evaluation in page.get("EvaluationResults", []):
                    bucket = seen.get(evaluation.get("ComplianceType") or "")
                    resource = _resource_of(evaluation)
                    if bucket is not None and resource is not None:
                        bucket.add(resource)
                self._publish(reads.count, len(seen["COMPLIANT"]), len(seen["NOT_APPLICABLE"]))
                if self._stop.is_set():
                    return
            self._publish(setattr, reads, "counts_complete", True)
        except (ClientError, BotoCoreError) as e:
            what = "GetComplianceDetailsByConfigRule(COMPLIANT,NOT_APPLICABLE)"
            self._rule_failed(log, name, what, e)

    def _rule_failed(self, log: ReadLog, rule: str, what: str, error: Exception) -> None:
        code = _error_code(error)
        self._error(log, "rule", rule, code, f"{what} failed after retries: {_error_text(error)}")
        if code == _NO_SUCH_RULE:
            self._problems(log, [_rule_missing(rule)])

    def _per_rule(self, operation: str, result_key: str) -> list[Page]:
        """Every page item for all rule names, 25 names a call; when one name is unknown AWS fails the
        whole call, so that call is then made once per rule and the unknown ones are left out."""

        def call(names: list[str]) -> list[Page]:
            items: list[Page] = []
            for page in self._pages(operation, {"ConfigRuleNames": names}):
                items.extend(page.get(result_key, []))
            return items

        names = [r.rule.name for r in self.collection.rules]
        items: list[Page] = []
        for start in range(0, len(names), RULE_NAMES_PER_CALL):
            batch = names[start : start + RULE_NAMES_PER_CALL]
            try:
                items.extend(call(batch))
                continue
            except ClientError as e:
                if _error_code(e) != _NO_SUCH_RULE:
                    raise
            for name in batch:
                try:
                    items.extend(call([name]))
                except ClientError as e:
                    if _error_code(e) != _NO_SUCH_RULE:
                        raise
        return items

    def _read_compliance(self, log: ReadLog) -> None:
        try:
            items = self._per_rule("describe_compliance_by_config_rule", "ComplianceByConfigRules")
        except (ClientError, BotoCoreError) as e:
            self._error(
                log,
                "rule",
                "DescribeComplianceByConfigRule",
                _error_code(e),
                f"overall rule compliance unknown: {_error_text(e)}",
            )
            return
        by_name = {i.get("ConfigRuleName"): i.get("Compliance", {}) for i in items}

        def apply() -> None:
            for reads in self.collection.rules:
                compliance = by_name.get(reads.rule.name)
                if compliance is not None:
                    reads.compliance_type = compliance.get("ComplianceType") or "INSUFFICIENT_DATA"

        self._publish(apply)

    def _read_evaluation_status(self, log: ReadLog) -> None:
        operation = "describe_config_rule_evaluation_status"
        try:
            items = self._per_rule(operation, "ConfigRulesEvaluationStatus")
        except (ClientError, BotoCoreError) as e:
            self._status_failed(log, "DescribeConfigRuleEvaluationStatus", e)
            return
        by_name = {i.get("ConfigRuleName"): i for i in items}
        for reads in self.collection.rules:
            raw = by_name.get(reads.rule.name)
            if raw is None:
                self._problems(log, [_rule_missing(reads.rule.name)])
                continue
            record = monitoring.evaluation_record(raw)
            self._publish(setattr, reads, "evaluation_status", record)
            self._problems(log, monitoring.evaluation_problems(reads.rule.name, raw))

    def _read_recorders(self, log: ReadLog) -> None:
        try:
            page = self._call("describe_configuration_recorder_status")
        except (ClientError, BotoCoreError) as e:
            self._status_failed(log, "DescribeConfigurationRecorderStatus", e)
            return
        raw = page.get("ConfigurationRecordersStatus", [])
        records = monitoring.recorder_records(raw)
        self._publish(setattr, self.collection, "recorders", records)
        self._problems(log, monitoring.recorder_problems(records))
        self._problems(log, monitoring.unrecognised_recorder_statuses(raw))

    def _read_channels(self, log: ReadLog) -> None:
        try:
            page = self._call("describe_delivery_channel_status")
        except (ClientError, BotoCoreError) as e:
            self._status_failed(log, "DescribeDeliveryChannelStatus", e)
            return
        raw = page.get("DeliveryChannelsStatus", [])
        records = monitoring.channel_records(raw)
        self._publish(setattr, self.collection, "channels", records)
        self._problems(log, monitoring.channel_problems(records))
        self._problems(log, monitoring.unrecognised_channel_statuses(raw))

    def _status_failed(self, log: ReadLog, operation: str, error: Exception) -> None:
        text = _error_text(error)
        self._error(
            log, "monitoring", operation, _error_code(error), f"failed after retries: {text}"
        )
        problem = Problem("STATUS_UNAVAILABLE", operation, f"{operation} could not be read: {text}")
        self._problems(log, [problem])

    # -- orchestration -------------------------------------------------------------------------------
    def start(self, executor: Executor) -> None:
        jobs: list[tuple[Callable[[ReadLog], None], str]] = []
        for reads in self.collection.rules:
            label = f"rule:{reads.rule.name}"
            jobs.append((functools.partial(self._read_findings, reads), label))
            jobs.append((functools.partial(self._read_counts, reads), label))
        jobs.append((self._read_compliance, "op:DescribeComplianceByConfigRule"))
        jobs.append((self._read_evaluation_status, "op:DescribeConfigRuleEvaluationStatus"))
        jobs.append((self._read_recorders, "op:DescribeConfigurationRecorderStatus"))
        jobs.append((self._read_channels, "op:DescribeDeliveryChannelStatus"))
        for job, label in jobs:
            log = ReadLog()
            self._logs.append(log)
            self._pending[executor.submit(job, log)] = label

    def finish(self, timeout_s: float, budget_ms: int) -> Collection:
        """Wait up to ``timeout_s``; unfinished reads are told to stop and recorded as deadline errors."""
        _, not_done = wait(list(self._pending), timeout=max(0.0, timeout_s))
        with self._lock:
            self._frozen = True
        collection = self.collection
        collection.errors = [e for log in self._logs for e in log.errors]
        collection.problems = [p for log in self._logs for p in log.problems]
        if not_done:
            self._stop.set()
            subjects = sorted({self._pending[f] for f in not_done})
            collection.unfinished_rules = [
                s.split(":", 1)[1] for s in subjects if s.startswith("rule:")
            ]
            for subject in subjects:
                kind, name = subject.split(":", 1)
                what = f"rule {name} results" if kind == "rule" else name
                collection.errors.append(
                    PartialFailure(
                        "deadline",
                        name,
                        "DeadlineApproaching",
                        f"stopped reading {what} after {budget_ms} ms to store the report "
                        "before the Lambda timeout; what was read is kept",
                    )
                )
        for future in self._pending:
            error = future.exception() if future.done() else None
            if error is not None:
                # A bug, not an AWS failure: surface it rather than write a report that hides it.
                raise error
        return collection


def _rule_missing(rule: str) -> Problem:
    return Problem("RULE_MISSING", rule, f"rule {rule} does not exist in AWS Config")
