"""The schema-v1 report as typed records (schema/compliance-report.v1.schema.json, docs/report-format.md).

The generator writes schema 1.1 (the exceptions register's fields: ``exceptionRegister``,
``counts.excepted``, ``nonCompliant[].exception``, ``summary.totalExcepted``/``exceptedByRule``) and reads
1.0 and 1.1 back; a 1.0 report has none of those fields (their members are None here) and every
finding in it is un-excepted.

Each record names its members in Python and says how it reads and writes its JSON object:
``to_json`` gives the object the report stores (the schema's member names), ``from_json`` reads one back
(a stored report, when a retried trigger re-sends its alert). The stored bytes are written by
``report.py``; nothing here decides them beyond the members and their values.

Two members are derived rather than stored: a report is ``complete`` exactly when it has no errors, and
monitoring is ``healthy`` exactly when it found no problems (the schema states both rules).

Findings are the bulk of a large report (100,000 of them in the scale benchmark), so ``Finding`` keeps
its four members in slots instead of a per-object dict: about 64 bytes an object instead of ~250.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

from . import GENERATOR_NAME, GENERATOR_VERSION, READABLE_SCHEMA_VERSIONS, SCHEMA_VERSION
from .exceptions import Label, RegisterRef
from .timefmt import parse_utc_z, utc_z
from .triggers import Trigger

Json = dict[str, Any]  # a JSON object as json.loads gives it


@dataclass(frozen=True)
class Finding:
    """One NON_COMPLIANT resource of a rule."""

    __slots__ = ("resource_type", "resource_id", "annotation", "result_recorded_time")
    resource_type: str
    resource_id: str
    annotation: str | None
    result_recorded_time: str

    def to_json(self) -> Json:
        return {
            "resourceType": self.resource_type,
            "resourceId": self.resource_id,
            "annotation": self.annotation,
            "resultRecordedTime": self.result_recorded_time,
        }

    @property
    def exception(self) -> Optional[Label]:
        """The exception in force that covers the finding (``LabelledFinding``), else None."""
        return None

    def labelled(self, label: Label) -> LabelledFinding:
        return LabelledFinding(
            self.resource_type,
            self.resource_id,
            self.annotation,
            self.result_recorded_time,
            label,
        )

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Finding:
        finding = Finding(
            data["resourceType"], data["resourceId"], data["annotation"], data["resultRecordedTime"]
        )
        label = data.get("exception")
        return finding if label is None else finding.labelled(Label.from_json(label))


@dataclass(frozen=True)
class LabelledFinding(Finding):
    """A finding an exception in force covers (schema 1.1): still a finding, with the label. A subclass
    rather than a fifth member of every finding, so the unlabelled bulk keeps its four slots."""

    __slots__ = ("exception",)
    exception: Label

    def to_json(self) -> Json:
        return dict(super().to_json(), exception=self.exception.to_json())


@dataclass(frozen=True)
class Counts:
    compliant: int
    non_compliant: int  # every NON_COMPLIANT finding, excepted ones included
    not_applicable: int
    excepted: Optional[int] = None  # 1.1: findings with a label; None in a 1.0 report

    def to_json(self) -> Json:
        counts = {
            "compliant": self.compliant,
            "nonCompliant": self.non_compliant,
            "notApplicable": self.not_applicable,
        }
        if self.excepted is not None:
            counts["excepted"] = self.excepted
        return counts

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Counts:
        return Counts(
            data["compliant"], data["nonCompliant"], data["notApplicable"], data.get("excepted")
        )


@dataclass(frozen=True)
class EvaluationStatus:
    """A rule's DescribeConfigRuleEvaluationStatus entry, as evidence."""

    first_evaluation_started: bool
    last_successful_evaluation_time: str | None
    last_failed_evaluation_time: str | None
    last_error_code: str | None
    last_error_message: str | None

    def to_json(self) -> Json:
        return {
            "firstEvaluationStarted": self.first_evaluation_started,
            "lastSuccessfulEvaluationTime": self.last_successful_evaluation_time,
            "lastFailedEvaluationTime": self.last_failed_evaluation_time,
            "lastErrorCode": self.last_error_code,
            "lastErrorMessage": self.last_error_message,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any] | None) -> EvaluationStatus | None:
        if data is None:
            return None
        return EvaluationStatus(
            data["firstEvaluationStarted"],
            data["lastSuccessfulEvaluationTime"],
            data["lastFailedEvaluationTime"],
            data["lastErrorCode"],
            data["lastErrorMessage"],
        )


@dataclass(frozen=True)
class Rule:
    """One monitored rule: its counts, evaluation status and findings (sorted by type, then id)."""

    name: str
    managed_identifier: str
    compliance_type: str
    complete: bool
    counts: Counts
    evaluation_status: EvaluationStatus | None
    findings: tuple[Finding, ...]

    def members(self) -> Json:
        """The rule's JSON members except its findings (``nonCompliant``), which are serialised apart."""
        return {
            "name": self.name,
            "managedIdentifier": self.managed_identifier,
            "complianceType": self.compliance_type,
            "complete": self.complete,
            "counts": self.counts.to_json(),
            "evaluationStatus": (
                None if self.evaluation_status is None else self.evaluation_status.to_json()
            ),
        }

    def to_json(self) -> Json:
        return dict(self.members(), nonCompliant=[f.to_json() for f in self.findings])

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Rule:
        return Rule(
            data["name"],
            data["managedIdentifier"],
            data["complianceType"],
            data["complete"],
            Counts.from_json(data["counts"]),
            EvaluationStatus.from_json(data["evaluationStatus"]),
            tuple(Finding.from_json(f) for f in data["nonCompliant"]),
        )


@dataclass(frozen=True)
class Summary:
    total_non_compliant: int
    rules_non_compliant: int
    by_rule: dict[str, int]  # in rule order
    by_resource_type: dict[str, int]  # sorted by type
    total_excepted: Optional[int] = None  # 1.1 only, as the two below
    excepted_by_rule: Optional[dict[str, int]] = None  # in rule order

    @property
    def total_unexcepted(self) -> int:
        return self.total_non_compliant - (self.total_excepted or 0)

    def to_json(self) -> Json:
        summary: Json = {
            "totalNonCompliant": self.total_non_compliant,
            "rulesNonCompliant": self.rules_non_compliant,
            "byRule": dict(self.by_rule),
            "byResourceType": dict(self.by_resource_type),
        }
        if self.total_excepted is not None and self.excepted_by_rule is not None:
            summary["totalExcepted"] = self.total_excepted
            summary["exceptedByRule"] = dict(self.excepted_by_rule)
        return summary

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Summary:
        excepted = data.get("exceptedByRule")
        return Summary(
            data["totalNonCompliant"],
            data["rulesNonCompliant"],
            dict(data["byRule"]),
            dict(data["byResourceType"]),
            data.get("totalExcepted"),
            None if excepted is None else dict(excepted),
        )


@dataclass(frozen=True)
class Recorder:
    """A configuration recorder's status (DescribeConfigurationRecorderStatus)."""

    name: str
    recording: bool
    last_status: str | None
    last_status_change_time: str | None
    last_error_code: str | None
    last_error_message: str | None

    def to_json(self) -> Json:
        return {
            "name": self.name,
            "recording": self.recording,
            "lastStatus": self.last_status,
            "lastStatusChangeTime": self.last_status_change_time,
            "lastErrorCode": self.last_error_code,
            "lastErrorMessage": self.last_error_message,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Recorder:
        return Recorder(
            data["name"],
            data["recording"],
            data["lastStatus"],
            data["lastStatusChangeTime"],
            data["lastErrorCode"],
            data["lastErrorMessage"],
        )


@dataclass(frozen=True)
class DeliveryChannel:
    """A delivery channel's status (DescribeDeliveryChannelStatus)."""

    name: str
    config_history_last_status: str | None
    config_snapshot_last_status: str | None
    config_stream_last_status: str | None
    last_error_code: str | None

    def to_json(self) -> Json:
        return {
            "name": self.name,
            "configHistoryLastStatus": self.config_history_last_status,
            "configSnapshotLastStatus": self.config_snapshot_last_status,
            "configStreamLastStatus": self.config_stream_last_status,
            "lastErrorCode": self.last_error_code,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> DeliveryChannel:
        return DeliveryChannel(
            data["name"],
            data["configHistoryLastStatus"],
            data["configSnapshotLastStatus"],
            data["configStreamLastStatus"],
            data["lastErrorCode"],
        )


@dataclass(frozen=True)
class Problem:
    """Something wrong with the monitoring itself (recorder, delivery channel, rule evaluation)."""

    code: str
    subject: str
    message: str

    def to_json(self) -> Json:
        return {"code": self.code, "subject": self.subject, "message": self.message}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Problem:
        return Problem(data["code"], data["subject"], data["message"])


@dataclass(frozen=True)
class PartialFailure:
    """A read that failed after retries or was cut off by the deadline (one entry of ``errors``)."""

    scope: str  # "rule" | "monitoring" | "deadline"
    subject: str
    code: str
    message: str

    def to_json(self) -> Json:
        return {
            "scope": self.scope,
            "subject": self.subject,
            "code": self.code,
            "message": self.message,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> PartialFailure:
        return PartialFailure(data["scope"], data["subject"], data["code"], data["message"])


@dataclass(frozen=True)
class Monitoring:
    recorders: tuple[Recorder, ...]
    delivery_channels: tuple[DeliveryChannel, ...]
    problems: tuple[Problem, ...]

    @property
    def healthy(self) -> bool:
        return not self.problems

    def to_json(self) -> Json:
        return {
            "healthy": self.healthy,
            "recorders": [r.to_json() for r in self.recorders],
            "deliveryChannels": [c.to_json() for c in self.delivery_channels],
            "problems": [p.to_json() for p in self.problems],
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Monitoring:
        return Monitoring(
            tuple(Recorder.from_json(r) for r in data["recorders"]),
            tuple(DeliveryChannel.from_json(c) for c in data["deliveryChannels"]),
            tuple(Problem.from_json(p) for p in data["problems"]),
        )


@dataclass(frozen=True)
class ChainPosition:
    """Where the report sits in the hash chain: its sequence and the report before it."""

    sequence: int
    previous_key: str | None
    previous_sha256: str | None

    def to_json(self) -> Json:
        return {
            "sequence": self.sequence,
            "previousKey": self.previous_key,
            "previousSha256": self.previous_sha256,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> ChainPosition:
        return ChainPosition(data["sequence"], data["previousKey"], data["previousSha256"])


def trigger_json(trigger: Trigger) -> Json:
    return {
        "type": trigger.type,
        "id": trigger.id,
        "receivedAt": utc_z(trigger.received_at),
        "note": trigger.note,
    }


def trigger_from_json(data: Mapping[str, Any]) -> Trigger:
    return Trigger(data["type"], data["id"], parse_utc_z(data["receivedAt"]), data["note"])


@dataclass(frozen=True)
class ReportContent:
    """What a run found: every member of a report except the two the chain claim decides."""

    report_id: str
    trigger: Trigger
    account: str
    region: str
    environment_suffix: str
    rules: tuple[Rule, ...]
    summary: Summary
    monitoring: Monitoring
    errors: tuple[PartialFailure, ...]
    # 1.1: the register the findings were labelled from; None when none is configured (and in 1.0).
    exception_register: Optional[RegisterRef] = None
    schema_version: str = SCHEMA_VERSION
    generator_name: str = GENERATOR_NAME
    generator_version: str = GENERATOR_VERSION

    @property
    def complete(self) -> bool:
        return not self.errors

    def members(self) -> Json:
        """The top-level JSON members except ``rules`` (serialised apart: they hold the findings)."""
        return {
            "schemaVersion": self.schema_version,
            "reportId": self.report_id,
            "generator": {"name": self.generator_name, "version": self.generator_version},
            "trigger": trigger_json(self.trigger),
            "account": self.account,
            "region": self.region,
            "environmentSuffix": self.environment_suffix,
            "complete": self.complete,
            "summary": self.summary.to_json(),
            "monitoring": self.monitoring.to_json(),
            "errors": [e.to_json() for e in self.errors],
            **(
                {
                    "exceptionRegister": (
                        None
                        if self.exception_register is None
                        else self.exception_register.to_json()
                    )
                }
                if self.schema_version != "1.0"
                else {}
            ),
        }


@dataclass(frozen=True)
class Report:
    """A whole report: what the run found (``content``), when, and where the chain put it."""

    content: ReportContent
    generated_at: str
    chain: ChainPosition

    def members(self) -> Json:
        """Every top-level JSON member except ``rules``."""
        return dict(
            self.content.members(), generatedAt=self.generated_at, chain=self.chain.to_json()
        )

    def to_json(self) -> Json:
        return dict(self.members(), rules=[rule.to_json() for rule in self.content.rules])

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Report:
        """A stored report read back; raises ValueError for a schema version this code cannot read."""
        version = data.get("schemaVersion")
        if version not in READABLE_SCHEMA_VERSIONS:
            raise ValueError(
                f"report schemaVersion {version!r} is not one of {', '.join(READABLE_SCHEMA_VERSIONS)}"
            )
        content = ReportContent(
            report_id=data["reportId"],
            trigger=trigger_from_json(data["trigger"]),
            account=data["account"],
            region=data["region"],
            environment_suffix=data["environmentSuffix"],
            rules=tuple(Rule.from_json(r) for r in data["rules"]),
            summary=Summary.from_json(data["summary"]),
            monitoring=Monitoring.from_json(data["monitoring"]),
            errors=tuple(PartialFailure.from_json(e) for e in data["errors"]),
            exception_register=RegisterRef.from_json(data.get("exceptionRegister")),
            schema_version=str(version),
            generator_name=data["generator"]["name"],
            generator_version=data["generator"]["version"],
        )
        return Report(content, data["generatedAt"], ChainPosition.from_json(data["chain"]))
