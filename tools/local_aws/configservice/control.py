"""Test hooks of the AWS Config extension: the ``/_local_aws/config/*`` control routes.

Kept apart from the AWS operations in ``service.py``, as moto and LocalStack keep their test hooks
apart from the service APIs: these change what the service will answer (injected rule, recorder and
delivery failures, synthetic result populations) and are never
reachable through an AWS API call. Each takes the service lock itself, for as long as it changes state.
The ``config/*`` bodies take optional ``accountId`` and ``region`` (the emulator's defaults).
"""

from __future__ import annotations

import re
from typing import Any

from ..clock import ControlError
from ..control import route
from .service import (
    DEFAULT_ACCOUNT,
    DEFAULT_REGION,
    DELETED_RESOURCE_EVALUATIONS,
    STATUS_CASINGS,
    ConfigService,
    RecorderTimes,
    Scope,
    moto_backend,
)
from .state import Result

MAX_SYNTHETIC = 100_000
PENDING_STATES = ("not-started", "started")
# ResourceId is at most 768 characters (AWS Config API Reference, EvaluationResultQualifier);
# six digits of index follow the prefix.
MAX_ID_PREFIX = 762
_RESOURCE_TYPE = re.compile(r"^[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+$")
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")


class ConfigControl:
    """The ``config/*`` control routes over one ``ConfigService``."""

    def __init__(self, service: ConfigService) -> None:
        self.service = service

    @staticmethod
    def _rule(scope: Scope, name: str) -> Any:
        """moto's rule object named ``ruleName``; call with the service lock held."""
        known = moto_backend(scope).config_rules
        if name not in known:
            raise ControlError(f"ruleName: no Config rule named {name!r} in {scope[0]}/{scope[1]}")
        return known[name]

    @route("POST", "config/rule-failure")
    def set_rule_failure(self, body: Any) -> dict[str, Any]:
        scope, name, failure = _failure_request(body, "ruleName")
        with self.service.lock:
            rule = self._rule(scope, name)
            self.service.record(scope)
            state = self.service.rule_state(scope, rule)
            state.failure = failure
            changes = self.service.evaluate(scope, rule, force=True)
            result = {
                "ruleName": name,
                "failing": failure is not None,
                "lastErrorCode": state.last_error_code,
                "lastErrorMessage": state.last_error_message,
            }
        self.service.publish(changes)
        return result

    @route("POST", "config/rule-evaluation-pending")
    def set_rule_evaluation_pending(self, body: Any) -> dict[str, Any]:
        """Hold a rule before its first evaluation finished, as AWS shows a rule for a while after it
        is created: "not-started" (FirstEvaluationStarted false, no times) or "started" (invoked, no
        LastSuccessfulEvaluationTime); either way no results, so INSUFFICIENT_DATA. ``pending`` null
        lets it evaluate (on the next read, as a new rule)."""
        body = _object(body, {"ruleName", "pending", "accountId", "region"})
        scope, name = _control_scope(body), _required_str(body, "ruleName")
        if "pending" not in body or body["pending"] not in (None, *PENDING_STATES):
            raise ControlError(
                f"pending: required, one of {', '.join(PENDING_STATES)} or null to evaluate"
            )
        pending = body["pending"]
        with self.service.lock:
            state = self.service.rule_state(scope, self._rule(scope, name))
            if pending is None:
                state.pending = state.pending_since = None
                state.first_evaluation_started = False  # the next read runs the first evaluation
            else:
                state.hold_unevaluated(pending, self.service.clock.now())
        return {"ruleName": name, "pending": pending}

    @route("POST", "config/recorder-failure")
    def set_recorder_failure(self, body: Any) -> dict[str, Any]:
        scope, name, failure = _failure_request(body, "recorderName")
        with self.service.lock:
            if name not in moto_backend(scope).recorders:
                raise ControlError(
                    f"recorderName: no configuration recorder named {name!r} "
                    f"in {scope[0]}/{scope[1]}"
                )
            if failure is not None:
                self.service.record(scope)  # what was recorded before the failure stays recorded
            times = self.service.region_state(scope).recorders.setdefault(name, RecorderTimes())
            times.failure = failure
            times.last_status = "Failure" if failure else "Success"
            times.last_status_change = self.service.clock.now()
        return {"recorderName": name, "failing": failure is not None}

    @route("POST", "config/delivery-failure")
    def set_delivery_failure(self, body: Any) -> dict[str, Any]:
        scope, name, failure = _failure_request(body, "channelName")
        with self.service.lock:
            if name not in moto_backend(scope).delivery_channels:
                raise ControlError(
                    f"channelName: no delivery channel named {name!r} in {scope[0]}/{scope[1]}"
                )
            failures = self.service.region_state(scope).delivery_failures
            if failure is None:
                failures.pop(name, None)
            else:
                failures[name] = failure
        return {"channelName": name, "failing": failure is not None}

    @route("GET", "config/status-casing")
    def status_casing(self, _: Any = None) -> dict[str, Any]:
        with self.service.lock:
            return {"casing": self.service.status_casing}

    @route("POST", "config/status-casing")
    def set_status_casing(self, body: Any) -> dict[str, Any]:
        """How recorder and delivery statuses are spelled: "model" (Success, Not_Applicable: the API
        model) or "upper" (SUCCESS, NOT_APPLICABLE: the AWS CLI's examples)."""
        casing = _choice(body, "casing", STATUS_CASINGS)
        with self.service.lock:
            self.service.status_casing = casing
        return self.status_casing()

    @route("GET", "config/deleted-resources")
    def deleted_resources(self, _: Any = None) -> dict[str, Any]:
        with self.service.lock:
            return {"evaluation": self.service.deleted_resources}

    @route("POST", "config/deleted-resources")
    def set_deleted_resources(self, body: Any) -> dict[str, Any]:
        """What a deleted resource's result becomes: "not-applicable" (as AWS documents for managed
        rules) or "removed" (it drops out of the results, as users also see)."""
        evaluation = _choice(body, "evaluation", DELETED_RESOURCE_EVALUATIONS)
        with self.service.lock:
            self.service.deleted_resources = evaluation
        return self.deleted_resources()

    @route("POST", "config/synthetic")
    def load_synthetic(self, body: Any) -> dict[str, Any]:
        """Replace a rule's synthetic results of one resource type; they are never re-evaluated."""
        body = _object(
            body,
            {
                "ruleName",
                "resourceType",
                "nonCompliant",
                "compliant",
                "notApplicable",
                "idPrefix",
                "accountId",
                "region",
            },
        )
        scope = _control_scope(body)
        name = _required_str(body, "ruleName")
        resource_type = _required_str(body, "resourceType")
        if not _RESOURCE_TYPE.match(resource_type):
            raise ControlError(
                "resourceType: must look like AWS::Service::Type, e.g. AWS::S3::Bucket"
            )
        id_prefix = body.get("idPrefix")
        if id_prefix is not None and (
            not isinstance(id_prefix, str) or not 1 <= len(id_prefix) <= MAX_ID_PREFIX
        ):
            raise ControlError(f"idPrefix: must be null or 1-{MAX_ID_PREFIX} characters")
        counts = {}
        for field_name in ("nonCompliant", "compliant", "notApplicable"):
            value = body.get(field_name, 0)
            if (
                not isinstance(value, int)
                or isinstance(value, bool)
                or not 0 <= value <= MAX_SYNTHETIC
            ):
                raise ControlError(f"{field_name}: must be an integer from 0 to {MAX_SYNTHETIC}")
            counts[field_name] = value
        with self.service.lock:
            rule = self._rule(scope, name)
            self.service.record(scope)
            state = self.service.rule_state(scope, rule)
            now = self.service.clock.now()
            kept = {k: r for k, r in state.synthetic.items() if k[0] != resource_type}
            index = 0
            for compliance, field_name in (
                ("NON_COMPLIANT", "nonCompliant"),
                ("COMPLIANT", "compliant"),
                ("NOT_APPLICABLE", "notApplicable"),
            ):
                annotation = (
                    "Synthetic evaluation result." if compliance == "NON_COMPLIANT" else None
                )
                for _ in range(counts[field_name]):
                    kept[(resource_type, _synthetic_id(resource_type, index, id_prefix))] = Result(
                        compliance, annotation, now, now
                    )
                    index += 1
            state.synthetic = kept
            state.first_evaluation_started = True
            state.last_successful_invocation = now
            state.invalidate()
            total = sum(1 for k in kept if k[0] == resource_type)
        return {"ruleName": name, "resourceType": resource_type, "loaded": total, **counts}


def _synthetic_id(resource_type: str, index: int, prefix: str | None = None) -> str:
    if prefix is not None:
        return f"{prefix}{index:06d}"
    if resource_type == "AWS::EC2::Instance":
        return f"i-{index:017x}"
    if resource_type == "AWS::RDS::DBInstance":
        return f"db-SYNTHETIC{index:017d}"
    if resource_type == "AWS::S3::Bucket":
        return f"synthetic-bucket-{index:06d}"
    return f"synthetic-{index:06d}"


def _object(body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ControlError(f"body: must be a JSON object with fields {', '.join(sorted(allowed))}")
    for key in body:
        if key not in allowed:
            raise ControlError(f"{key}: unknown field (allowed: {', '.join(sorted(allowed))})")
    return body


def _choice(body: Any, name: str, choices: tuple[str, ...]) -> str:
    """The one field of a body that picks one of ``choices``."""
    value = _object(body, {name}).get(name)
    if value not in choices:
        raise ControlError(f"{name}: must be one of {', '.join(choices)}")
    return value


def _required_str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ControlError(f"{name}: required, a non-empty string")
    return value


def _failure_request(body: Any, name_field: str) -> tuple[Scope, str, tuple[str, str] | None]:
    """(scope, name, failure) of a ``config/*-failure`` body; failure None ends the failure."""
    body = _object(body, {name_field, "errorCode", "errorMessage", "accountId", "region"})
    return _control_scope(body), _required_str(body, name_field), _failure(body)


def _failure(body: dict[str, Any]) -> tuple[str, str] | None:
    if "errorCode" not in body:
        raise ControlError(
            "errorCode: required, an error code to fail with, or null to stop failing"
        )
    code = body["errorCode"]
    if code is None:
        return None
    if not isinstance(code, str) or not code:
        raise ControlError("errorCode: must be a non-empty string or null")
    message = body.get("errorMessage", f"Injected failure: {code}")
    if not isinstance(message, str):
        raise ControlError("errorMessage: must be a string")
    return code, message


def _control_scope(body: dict[str, Any]) -> Scope:
    account = body.get("accountId", DEFAULT_ACCOUNT)
    region = body.get("region", DEFAULT_REGION)
    if not isinstance(account, str) or not _ACCOUNT.match(account):
        raise ControlError("accountId: must be 12 digits")
    if not isinstance(region, str) or not _REGION.match(region):
        raise ControlError("region: must be an AWS region name such as us-east-1")
    return account, region
