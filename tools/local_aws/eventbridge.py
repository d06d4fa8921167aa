"""Events AWS services put on a region's default EventBridge bus, delivered by moto's EventBridge.

In AWS two services announce what the platform's alerts are made of:

* **AWS Config** sends "Config Rules Compliance Change" (source ``aws.config``) whenever a rule's result
  for a resource changes, including a resource's first result ("AWS Config events", Amazon EventBridge
  Events Reference). The detail is AWS Config's compliance-change notification (AWS Config Developer
  Guide, "Example Compliance Change Notification"): ``configRuleName``, ``configRuleARN``,
  ``resourceType``, ``resourceId``, ``awsAccountId``, ``awsRegion``, ``newEvaluationResult`` and, after an
  earlier result, ``oldEvaluationResult``, ``notificationCreationTime``, ``messageType``
  ComplianceChangeNotification, ``recordVersion``.
* **CloudTrail** sends "AWS API Call via CloudTrail" for write management events, with the service's
  own source (``aws.config`` for AWS Config's API), only when a trail logs management events in the
  region ("AWS service events delivered via AWS CloudTrail", Amazon EventBridge User Guide; read-only
  calls need a rule of their own). The detail is the CloudTrail record ("Logging AWS Config API Calls
  with AWS CloudTrail", Example Log Files): the caller (``userIdentity``), ``eventTime``,
  ``eventSource`` config.amazonaws.com, ``eventName``, ``requestParameters`` with the request's member
  names starting in lower case (``configurationRecorderName``), and ``errorCode`` / ``errorMessage``
  when the call failed.

The emulator does both. Every compliance change the Config extension evaluates
(``configservice/service.py``) becomes such an event. With a trail (``POST /_local_aws/events/trail``
``{"managementEvents": true}``; off by default, as in an account without one) every write call to AWS
Config (an operation named Put..., Delete..., Start..., Stop..., Deliver..., Tag..., Untag...) becomes a
CloudTrail event, answered or refused. Each event is put on the default bus of its account and region in
moto's EventBridge, whose rules (``PutRule`` with an ``EventPattern``, ``PutTargets``: what
``deployment.deploy`` creates from the template) match it with moto's pattern matcher and send it to
their targets (SQS queues here).

Deviations: moto adds an ``ingestion-time`` field to the delivered event; the target queue's resource
policy is not evaluated (moto sends in-process); delivery happens inside the API call that caused it,
never later; failed deliveries are counted (``GET /_local_aws/events``), not retried.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from datetime import datetime
from typing import Any, Callable, Mapping, Optional

from .calls import AwsCall
from .clock import Clock, ControlError, format_instant
from .configservice.state import ComplianceChange, Result
from .control import route

COMPLIANCE_CHANGE = "Config Rules Compliance Change"
API_CALL = "AWS API Call via CloudTrail"
# Write operations of AWS Config, by the verb their names start with; everything else (Describe, Get,
# List, Select, BatchGet) is a read-only management event, which a default rule does not receive.
WRITE_VERBS = ("Put", "Delete", "Start", "Stop", "Deliver", "Tag", "Untag")


def _lower_first(node: Any) -> Any:
    """Request members as CloudTrail records them: ``ConfigurationRecorderName`` ->
    ``configurationRecorderName``, at every level."""
    if isinstance(node, list):
        return [_lower_first(item) for item in node]
    if isinstance(node, dict):
        return {k[:1].lower() + k[1:]: _lower_first(v) for k, v in node.items()}
    return node


def _result(change: ComplianceChange, result: Optional[Result], compliance: str) -> dict[str, Any]:
    recorded = result.recorded if result is not None else change.when
    invoked = result.invoked if result is not None else change.when
    return {
        "evaluationResultIdentifier": {
            "evaluationResultQualifier": {
                "configRuleName": change.rule_name,
                "resourceType": change.resource_type,
                "resourceId": change.resource_id,
            },
            "orderingTimestamp": format_instant(recorded),
        },
        "complianceType": compliance,
        "resultRecordedTime": format_instant(recorded),
        "configRuleInvokedTime": format_instant(invoked),
        "annotation": result.annotation if result is not None else change.annotation,
        "resultToken": None,
    }


def compliance_change_detail(change: ComplianceChange) -> dict[str, Any]:
    """The event's detail, in the shape of AWS Config's compliance-change notification."""
    detail: dict[str, Any] = {
        "resourceId": change.resource_id,
        "awsRegion": change.region,
        "awsAccountId": change.account_id,
        "configRuleName": change.rule_name,
        "recordVersion": "1.0",
        "configRuleARN": change.rule_arn,
        "messageType": "ComplianceChangeNotification",
        "newEvaluationResult": _result(change, None, change.compliance),
        "notificationCreationTime": format_instant(change.when),
        "resourceType": change.resource_type,
    }
    if change.previous is not None:
        detail["oldEvaluationResult"] = _result(change, change.previous, change.previous.compliance)
    return detail


class EventBridgeDelivery:
    """Puts the events AWS Config and CloudTrail would send on moto's default event buses."""

    def __init__(self, clock: Clock, caller_arn: Callable[[Optional[str]], Optional[str]]) -> None:
        self.clock = clock
        self.caller_arn = caller_arn  # the role session an access key signs as (IAM enforcement)
        self.lock = threading.Lock()
        self.trail = False
        self.delivered: Counter[str] = Counter()
        self.failed = 0
        self.last_error: Optional[str] = None

    def reset(self) -> None:
        with self.lock:
            self.trail = False
            self.delivered.clear()
            self.failed, self.last_error = 0, None

    def describe(self) -> dict[str, Any]:
        with self.lock:
            return {
                "trail": {"managementEvents": self.trail},
                "delivered": dict(self.delivered),
                "failed": self.failed,
                "lastError": self.last_error,
            }

    # -- what AWS Config sends ------------------------------------------------------------------------
    def compliance_changes(self, changes: list[ComplianceChange]) -> None:
        for change in changes:
            self.put(
                change.account_id,
                change.region,
                "aws.config",
                COMPLIANCE_CHANGE,
                compliance_change_detail(change),
                change.when,
            )

    # -- what CloudTrail sends ----------------------------------------------------------------------
    def records(self, call: AwsCall) -> bool:
        """Whether ``call`` is a management event a trail would send to EventBridge now."""
        with self.lock:
            trail = self.trail
        return trail and call.service == "config" and call.operation.startswith(WRITE_VERBS)

    def api_call(
        self,
        call: AwsCall,
        account: str,
        status: int,
        body: bytes,
        environ: Mapping[str, Any],
    ) -> None:
        """The CloudTrail event of an AWS Config write call answered ``status`` / ``body``."""
        if not self.records(call):
            return
        now = self.clock.now()
        role_session = self.caller_arn(call.access_key)
        if role_session:
            identity = {
                "type": "AssumedRole",
                "arn": role_session,
                "accountId": account,
                "accessKeyId": call.access_key,
            }
        else:
            identity = {
                "type": "IAMUser",
                "arn": f"arn:aws:iam::{account}:user/local-aws-admin",
                "accountId": account,
                "accessKeyId": call.access_key,
                "userName": "local-aws-admin",
            }
        detail: dict[str, Any] = {
            "eventVersion": "1.09",
            "userIdentity": identity,
            "eventTime": format_instant(now.replace(microsecond=0)),
            "eventSource": "config.amazonaws.com",
            "eventName": call.operation,
            "awsRegion": call.region,
            "sourceIPAddress": environ.get("REMOTE_ADDR") or "127.0.0.1",
            "userAgent": environ.get("HTTP_USER_AGENT", ""),
            "requestParameters": _lower_first(call.params) or None,
            "responseElements": None,
            "requestID": str(uuid.uuid4()),
            "eventID": str(uuid.uuid4()),
            "readOnly": False,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": account,
            "eventCategory": "Management",
        }
        if status >= 400:
            code, message = _error(body)
            detail["errorCode"] = code
            detail["errorMessage"] = message
        self.put(account, call.region, "aws.config", API_CALL, detail, now)

    # -- delivery -------------------------------------------------------------------------------------
    def put(
        self,
        account: str,
        region: str,
        source: str,
        detail_type: str,
        detail: dict[str, Any],
        when: datetime,
    ) -> None:
        """Put one event on the default bus; moto matches the bus's rules and sends to targets. A
        failure never fails the API call that caused it: it is counted and its error kept."""
        from moto.events.models import events_backends

        entry = {
            "Source": source,
            "DetailType": detail_type,
            "Detail": json.dumps(detail),
            "Time": when.timestamp(),
        }
        try:
            (answer,) = events_backends[account][region].put_events([entry])
            if "ErrorCode" in answer:
                raise RuntimeError(f"{answer['ErrorCode']}: {answer.get('ErrorMessage')}")
        except Exception as e:  # noqa: BLE001 (a target that is gone must not break the caller)
            with self.lock:
                self.failed += 1
                self.last_error = f"{detail_type}: {type(e).__name__}: {e}"
            return
        with self.lock:
            self.delivered[detail_type] += 1


def _error(body: bytes) -> tuple[str, str]:
    """An AWS JSON 1.1 error answer's code and message."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return "InternalFailure", ""
    code = str(data.get("__type") or data.get("code") or "InternalFailure").rsplit("#", 1)[-1]
    return code, str(data.get("message") or data.get("Message") or "")


class EventsControl:
    """``/_local_aws/events``: what was delivered, and whether the account has a trail."""

    def __init__(self, delivery: EventBridgeDelivery) -> None:
        self.delivery = delivery

    @route("GET", "events")
    def events(self, _: Any = None) -> dict[str, Any]:
        return self.delivery.describe()

    @route("POST", "events/trail")
    def set_trail(self, body: Any) -> dict[str, Any]:
        """``{"managementEvents": true}``: the account has a trail logging management events, so
        CloudTrail sends AWS Config's write calls to EventBridge; false: no trail (the default)."""
        if not isinstance(body, dict) or set(body) != {"managementEvents"}:
            raise ControlError("managementEvents: required, and the only field: true or false")
        value = body["managementEvents"]
        if not isinstance(value, bool):
            raise ControlError("managementEvents: must be true or false")
        with self.delivery.lock:
            self.delivery.trail = value
        return self.delivery.describe()
