"""What arrives: the EventBridge events the stack's rules send to the function's queues, as records.

Three kinds, each recognised by its ``source`` and ``detail-type`` (the patterns in
``lib/alerting/infrastructure.py`` decide which reach the function; ``tests/unit/test_alert_patterns.py``
checks them against AWS's documented sample events):

* **Compliance change** — ``aws.config`` / "Config Rules Compliance Change": AWS Config recorded a new
  evaluation result for a (rule, resource). The detail is the compliance-change notification of the
  AWS Config Developer Guide ("Example Compliance Change Notification"): ``configRuleName``,
  ``resourceType``, ``resourceId``, ``awsAccountId``, ``awsRegion``, ``newEvaluationResult`` and, unless
  the resource was never evaluated before, ``oldEvaluationResult``.
* **Monitoring change** — ``aws.config`` / "AWS API Call via CloudTrail": a write call to AWS Config
  that turns monitoring off (or back on), with the caller. Fields as in the AWS Config Developer
  Guide's CloudTrail examples ("Logging AWS Config API Calls with AWS CloudTrail", Example Log Files):
  ``eventName``, ``requestParameters.configurationRecorderName`` / ``deliveryChannelName`` /
  ``configRuleName``, ``userIdentity.arn``, ``eventTime``, ``sourceIPAddress``; a failed call carries
  ``errorCode`` and changed nothing.
* **Status check** — ``aws.events`` / "Scheduled Event": the stack's schedule asking the function to
  read the rules' and the recorder's status (failures AWS emits no event for; see ``health.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Union

from .timefmt import utc_z

COMPLIANCE_CHANGE = "Config Rules Compliance Change"
API_CALL = "AWS API Call via CloudTrail"
SCHEDULED = "Scheduled Event"
NON_COMPLIANT = "NON_COMPLIANT"

# Monitoring problems, named as the alert and its ``problem`` attribute name them.
RECORDER_STOPPED = "RECORDER_STOPPED"
RECORDER_DELETED = "RECORDER_DELETED"
RECORDER_STARTED = "RECORDER_STARTED"
CHANNEL_DELETED = "DELIVERY_CHANNEL_DELETED"
RULE_DELETED = "RULE_DELETED"
RULE_FAILING = "RULE_EVALUATION_FAILING"
RECORDER_FAILING = "RECORDER_FAILING"

# The Config API calls that change whether anything is watched: the call's name, the problem it is,
# and which request parameter names the thing it acted on.
MONITORING_CALLS: Mapping[str, tuple[str, str]] = {
    "StopConfigurationRecorder": (RECORDER_STOPPED, "configurationRecorderName"),
    "DeleteConfigurationRecorder": (RECORDER_DELETED, "configurationRecorderName"),
    "DeleteDeliveryChannel": (CHANNEL_DELETED, "deliveryChannelName"),
    "DeleteConfigRule": (RULE_DELETED, "configRuleName"),
    "StartConfigurationRecorder": (RECORDER_STARTED, "configurationRecorderName"),
}


class UnrecognisedEvent(ValueError):
    """Not an event the function alerts on; the reason is one line."""


@dataclass(frozen=True)
class ComplianceChange:
    event_id: str
    rule_name: str
    resource_type: str
    resource_id: str
    account: str
    region: str
    new_compliance: str
    old_compliance: Optional[str]  # None: the resource had no result before
    recorded_at: str  # when Config recorded the new result (UTC, Z)
    annotation: Optional[str]

    @property
    def non_compliant(self) -> bool:
        return self.new_compliance == NON_COMPLIANT

    @property
    def resolved(self) -> bool:
        """Out of NON_COMPLIANT: fixed (COMPLIANT) or gone (NOT_APPLICABLE, e.g. deleted)."""
        return self.old_compliance == NON_COMPLIANT and not self.non_compliant


@dataclass(frozen=True)
class MonitoringEvent:
    event_id: str
    problem: str  # one of the problem names above
    subject: str  # the recorder, channel or rule concerned
    account: str
    region: str
    at: str  # UTC, Z
    actor: Optional[str] = None  # who made the call (an ARN), for CloudTrail events
    source_ip: Optional[str] = None
    error_code: Optional[str] = None  # for failures read from the status APIs
    error_message: Optional[str] = None

    @property
    def restored(self) -> bool:
        return self.problem == RECORDER_STARTED


@dataclass(frozen=True)
class StatusCheck:
    event_id: str
    at: str  # the schedule's time (UTC, Z): the check looks back from here
    account: str
    region: str


Event = Union[ComplianceChange, MonitoringEvent, StatusCheck]


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def _required(mapping: Mapping[str, Any], key: str, where: str) -> str:
    value = _text(mapping.get(key))
    if value is None:
        raise UnrecognisedEvent(f"{where}.{key} is missing or not a string")
    return value


def _compliance_change(event: Mapping[str, Any]) -> ComplianceChange:
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise UnrecognisedEvent("detail is missing")
    new = detail.get("newEvaluationResult")
    if not isinstance(new, Mapping):
        raise UnrecognisedEvent("detail.newEvaluationResult is missing")
    old = detail.get("oldEvaluationResult")
    qualifier = (new.get("evaluationResultIdentifier") or {}).get("evaluationResultQualifier") or {}
    resource_type = _text(detail.get("resourceType")) or _text(qualifier.get("resourceType"))
    resource_id = _text(detail.get("resourceId")) or _text(qualifier.get("resourceId"))
    if resource_type is None or resource_id is None:
        raise UnrecognisedEvent("detail names no resourceType and resourceId")
    return ComplianceChange(
        event_id=_required(event, "id", "event"),
        rule_name=_required(detail, "configRuleName", "detail"),
        resource_type=resource_type,
        resource_id=resource_id,
        account=_text(detail.get("awsAccountId")) or _required(event, "account", "event"),
        region=_text(detail.get("awsRegion")) or _required(event, "region", "event"),
        new_compliance=_required(new, "complianceType", "detail.newEvaluationResult"),
        old_compliance=_text(old.get("complianceType")) if isinstance(old, Mapping) else None,
        recorded_at=utc_z(new.get("resultRecordedTime") or event.get("time")),
        annotation=_text(new.get("annotation")),
    )


def _monitoring_call(event: Mapping[str, Any]) -> MonitoringEvent:
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise UnrecognisedEvent("detail is missing")
    name = _required(detail, "eventName", "detail")
    if name not in MONITORING_CALLS:
        raise UnrecognisedEvent(f"detail.eventName {name!r} does not change what is monitored")
    if detail.get("errorCode"):
        raise UnrecognisedEvent(f"{name} failed ({detail['errorCode']}) and changed nothing")
    problem, parameter = MONITORING_CALLS[name]
    request = detail.get("requestParameters")
    subject = _text(request.get(parameter)) if isinstance(request, Mapping) else None
    identity = detail.get("userIdentity")
    actor = None
    if isinstance(identity, Mapping):
        actor = _text(identity.get("arn")) or _text(identity.get("invokedBy"))
    return MonitoringEvent(
        event_id=_required(event, "id", "event"),
        problem=problem,
        subject=subject or "(unnamed)",
        account=_text(detail.get("recipientAccountId")) or _required(event, "account", "event"),
        region=_text(detail.get("awsRegion")) or _required(event, "region", "event"),
        at=utc_z(detail.get("eventTime") or event.get("time")),
        actor=actor,
        source_ip=_text(detail.get("sourceIPAddress")),
    )


def parse_event(event: Any) -> Event:
    """The alert-worthy content of one EventBridge event; UnrecognisedEvent says why not."""
    if not isinstance(event, Mapping):
        raise UnrecognisedEvent("the event is not a JSON object")
    source, kind = event.get("source"), event.get("detail-type")
    if source == "aws.config" and kind == COMPLIANCE_CHANGE:
        return _compliance_change(event)
    if source == "aws.config" and kind == API_CALL:
        return _monitoring_call(event)
    if source == "aws.events" and kind == SCHEDULED:
        return StatusCheck(
            event_id=_required(event, "id", "event"),
            at=utc_z(_required(event, "time", "event")),
            account=_required(event, "account", "event"),
            region=_required(event, "region", "event"),
        )
    raise UnrecognisedEvent(f"source {source!r} with detail-type {kind!r} is not alerted on")
