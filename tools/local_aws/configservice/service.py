"""AWS Config compliance APIs on top of moto's Config backend, speaking AWS JSON 1.1.

moto keeps the rules, recorders and delivery channels (PutConfigRule, PutConfigurationRecorder, ...
pass straight through to it). This module answers the operations moto lacks or answers without a
clock: compliance reads, rule evaluation status, on-demand evaluation, recorder and delivery channel
status, and BatchGetResourceConfig from the recorded configuration items. Evaluation is lazy:
every compliance or status read of a rule first re-records the account's resources (if the recorder
is on) and re-evaluates the rule; see ``state.py`` for when that counts
as an invocation. Every compliance change is handed to ``on_changes`` (the emulator sends it to
EventBridge as AWS Config does: ``eventbridge.py``). The test hooks that steer this service (injected
failures, synthetic results) are in ``control.py``; they use the service's lock and its ``record``,
``rule_state``, ``evaluate`` and ``publish``.
"""

from __future__ import annotations

import base64
import bisect
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from ..calls import AwsCall, error_response
from ..clock import Clock
from .resources import RECORDED_TYPES, ConfigurationItem, base_configuration_item, capture
from .rules import MANAGED_RULES
from .state import ComplianceChange, Result, RuleState

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
DETAILS_DEFAULT_LIMIT = (
    10  # AWS: "The default is 10. You cannot specify a number greater than 100."
)
DETAILS_MAX_LIMIT = 100
STATUS_MAX_LIMIT = 50
MAX_RULE_NAMES = 25
CONTRIBUTOR_CAP = 100
SUMMARY_RULE_CAP = 25
DETAIL_TYPES = ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE")
RULE_TYPES = ("COMPLIANT", "NON_COMPLIANT", "INSUFFICIENT_DATA")
# BatchGetResourceConfig: resourceKeys 1-100 (AWS Config API Reference).
BATCH_GET_MAX_KEYS = 100

# Status values. The API model (botocore's config/2014-11-12/service-2.json) defines RecorderStatus as
# Pending | Success | Failure | NotApplicable and DeliveryStatus as Success | Failure | Not_Applicable;
# the AWS CLI's own examples (awscli/examples/configservice/describe-configuration-recorder-status.rst
# and describe-delivery-channel-status.rst) show "SUCCESS". AWS's documentation and its examples
# disagree, so the emulator answers either (``config/status-casing``: "model", the default, or
# "upper") and a consumer must read both.
STATUS_CASINGS = ("model", "upper")
_UPPER_STATUS = {
    "Pending": "PENDING",
    "Success": "SUCCESS",
    "Failure": "FAILURE",
    "NotApplicable": "NOT_APPLICABLE",
    "Not_Applicable": "NOT_APPLICABLE",
}

# A deleted resource's result. The AWS Config Developer Guide ("Managing Deleted Resources for AWS
# Config Custom Lambda Rules") says rules should report a deleted resource as NOT_APPLICABLE and that
# "AWS Config managed rules ... handle this behavior by default"; users also report deleted resources
# vanishing from a rule's results (awslabs/aws-config-rules#219: deleted IAM users "remain for some
# time in the evaluation scope" before they go; aws-quickstart/quickstart-compliance-cis-benchmark#15).
# Both are seen, so the emulator does either (``config/deleted-resources``): "not-applicable", the
# documented one and the default, or "removed".
DELETED_RESOURCE_EVALUATIONS = ("not-applicable", "removed")

Response = tuple[int, list[tuple[str, str]], bytes]
# Operations that take the service lock themselves, for only as long as they must.
_SELF_LOCKING = {"GetComplianceDetailsByConfigRule"}
Scope = tuple[str, str]  # (account, region)


@dataclass(frozen=True)
class EncodedJson:
    """A response body already encoded as JSON."""

    body: bytes


class ConfigApiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class RecorderTimes:
    last_start: datetime | None = None
    last_stop: datetime | None = None
    last_status: str | None = None
    last_status_change: datetime | None = None
    failure: tuple[str, str] | None = None


@dataclass
class RegionState:
    """Extension state for one (account, region)."""

    recorded: dict[tuple[str, str], ConfigurationItem] = field(default_factory=dict)
    rules: dict[str, RuleState] = field(default_factory=dict)
    recorders: dict[str, RecorderTimes] = field(default_factory=dict)
    delivery_failures: dict[str, tuple[str, str]] = field(default_factory=dict)


def _ts(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _drop_none(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v is not None}


def moto_backend(scope: Scope) -> Any:
    from moto.config.models import config_backends

    return config_backends[scope[0]][scope[1]]


class ConfigService:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self._regions: dict[Scope, RegionState] = {}
        # Called, unlocked, with every compliance change (EmulatorApp sends them to EventBridge).
        self.on_changes: Callable[[list[ComplianceChange]], None] | None = None
        self.status_casing = "model"
        self.deleted_resources = "not-applicable"
        self._ops: dict[str, Callable[[Scope, dict[str, Any]], Any]] = {
            "GetComplianceDetailsByConfigRule": self._get_compliance_details,
            "DescribeComplianceByConfigRule": self._describe_compliance,
            "DescribeConfigRuleEvaluationStatus": self._describe_evaluation_status,
            "StartConfigRulesEvaluation": self._start_evaluation,
            "GetComplianceSummaryByConfigRule": self._compliance_summary,
            "StartConfigurationRecorder": self._start_recorder,
            "StopConfigurationRecorder": self._stop_recorder,
            "DescribeConfigurationRecorderStatus": self._describe_recorder_status,
            "DescribeDeliveryChannelStatus": self._describe_delivery_status,
            "BatchGetResourceConfig": self._batch_get_resource_config,
        }

    # -- dispatch ----------------------------------------------------------------------------------
    def handles(self, operation: str) -> bool:
        return operation in self._ops

    def handle(self, call: AwsCall) -> Response:
        from moto.core.exceptions import JsonRESTError

        scope = (_account_of(call.access_key), call.region)
        changes: list[ComplianceChange] = []
        try:
            operation = self._ops[call.operation]
            if call.operation in _SELF_LOCKING:
                result = operation(scope, call.params)
            else:
                with self.lock:
                    result = operation(scope, call.params)
            if isinstance(result, tuple):
                result, changes = result
        except ConfigApiError as e:
            return error_response(call, e.code, 400, e.message)
        except (
            JsonRESTError
        ) as e:  # moto's own validation, e.g. NoSuchConfigurationRecorderException
            return error_response(call, e.error_type, e.code, e.message)
        self.publish(changes)
        body = result.body if isinstance(result, EncodedJson) else json.dumps(result).encode()
        return 200, [("Content-Type", "application/x-amz-json-1.1")], body

    def reset(self) -> None:
        with self.lock:
            self._regions.clear()
            self.status_casing = "model"
            self.deleted_resources = "not-applicable"

    def cased(self, status: str | None) -> str | None:
        """A status value (model spelling) in the casing the emulator answers with."""
        if status is None or self.status_casing == "model":
            return status
        return _UPPER_STATUS[status]

    # -- recording and evaluation ------------------------------------------------------------------
    def region_state(self, scope: Scope) -> RegionState:
        state = self._regions.get(scope)
        if state is None:
            state = self._regions[scope] = RegionState()
        return state

    def record(self, scope: Scope) -> None:
        """Re-capture resources while a recorder records (and is not failing); else keep them."""
        backend = moto_backend(scope)
        account = self.region_state(scope)
        for name, recorder in list(backend.recorders.items()):
            times = account.recorders.get(name)
            if not recorder.status.recording or (times and times.failure):
                continue
            group = recorder.recording_group
            types: set[str] | None = None
            if not group.all_supported:
                if group.resource_types:
                    types = set(group.resource_types)
                else:
                    excluded = set(
                        (group.exclusion_by_resource_types or {}).get("resourceTypes", [])
                    )
                    types = set(RECORDED_TYPES) - excluded
            account.recorded = capture(scope[0], scope[1], types)
            return

    def rule_state(self, scope: Scope, rule: Any) -> RuleState:
        account = self.region_state(scope)
        state = account.rules.get(rule.config_rule_name)
        if state is None or state.rule_arn != rule.config_rule_arn:
            state = RuleState(rule.config_rule_name, rule.config_rule_arn, self.clock.now())
            account.rules[rule.config_rule_name] = state
        return state

    def _verdicts(self, scope: Scope, rule: Any) -> dict[tuple[str, str], tuple[str, str | None]]:
        source = rule.source
        if source.owner != "AWS" or source.source_identifier not in MANAGED_RULES:
            return {}  # stored, but the emulator cannot evaluate it: INSUFFICIENT_DATA
        resource_type, evaluate = MANAGED_RULES[source.source_identifier]
        only_id = None
        if rule.scope is not None:
            types = rule.scope.compliance_resource_types
            if types and resource_type not in types:
                return {}
            only_id = rule.scope.compliance_resource_id
        params = rule.input_parameters_dict or {}
        verdicts = {}
        for key, item in self.region_state(scope).recorded.items():
            if key[0] != resource_type or (only_id and key[1] != only_id):
                continue
            verdicts[key] = evaluate(item, params)
        return verdicts

    def evaluate(self, scope: Scope, rule: Any, force: bool) -> list[ComplianceChange]:
        state = self.rule_state(scope, rule)
        if state.pending is not None:
            return []  # its first evaluation has not finished: nothing to invoke or record
        verdicts = self._verdicts(scope, rule)
        if self.deleted_resources == "not-applicable":
            # Results of resources no longer recorded (deleted, or out of the rule's scope).
            for key in state.results:
                verdicts.setdefault(key, ("NOT_APPLICABLE", None))
        if not (force or not state.first_evaluation_started or state.differs(verdicts)):
            return []
        now = self.clock.now()
        return [
            ComplianceChange(
                rule.config_rule_name,
                key[0],
                key[1],
                scope[0],
                scope[1],
                now,
                compliance=result.compliance,
                annotation=result.annotation,
                rule_arn=rule.config_rule_arn,
                previous=previous,
            )
            for key, previous, result in state.invoke(verdicts, now)
        ]

    def _rules(self, scope: Scope, names: list[str] | None) -> list[Any]:
        """moto's rule objects for ``names`` (all when None), by name; unknown names are errors."""
        backend = moto_backend(scope)
        known = backend.config_rules
        account = self.region_state(scope)
        for gone in [n for n in account.rules if n not in known]:
            del account.rules[gone]
        if names is None:
            return [known[n] for n in sorted(known)]
        for name in names:
            if name not in known:
                raise ConfigApiError(
                    "NoSuchConfigRuleException",
                    f"The ConfigRule '{name}' provided in the request is invalid. "
                    "Please check the configRule name",
                )
        return [known[n] for n in sorted(set(names))]

    def _refresh(
        self, scope: Scope, rules: list[Any], force: bool = False
    ) -> list[ComplianceChange]:
        self.record(scope)
        changes: list[ComplianceChange] = []
        for rule in rules:
            changes.extend(self.evaluate(scope, rule, force))
        return changes

    # -- operations --------------------------------------------------------------------------------
    def _get_compliance_details(self, scope: Scope, params: dict[str, Any]) -> Any:
        name = params.get("ConfigRuleName")
        if not isinstance(name, str) or not name:
            raise ConfigApiError("InvalidParameterValueException", "ConfigRuleName is required.")
        types = _compliance_types(params, DETAIL_TYPES, "GetComplianceDetailsByConfigRule") or list(
            DETAIL_TYPES
        )
        limit = _limit(params, DETAILS_MAX_LIMIT) or DETAILS_DEFAULT_LIMIT
        wanted = frozenset(types)
        token = params.get("NextToken")
        with self.lock:
            [rule] = self._rules(scope, [name])
            # A continuation page reads the results the first page evaluated: AWS evaluates on its
            # own schedule, not per read, and re-recording for each of 100 pages only costs time.
            changes = [] if token else self._refresh(scope, [rule])
            keys, found = self.rule_state(scope, rule).filtered(wanted)
        # The page is built outside the lock: the cached lists are replaced, never changed in place,
        # so parallel readers of different rules do not queue behind each other.
        start = 0
        token_scope = {"op": "details", "rule": name, "types": sorted(wanted)}
        after = _decode_token(params.get("NextToken"), token_scope)
        if after is not None:
            start = bisect.bisect_right(keys, tuple(after))
        end = min(start + limit, len(keys))
        parts = []
        for i in range(start, end):
            result = found[i]
            encoded = result.encoded
            if encoded is None:
                encoded = json.dumps(_evaluation_result(name, keys[i], result)).encode()
                result.encoded = encoded
            parts.append(encoded)
        body = b'{"EvaluationResults":[' + b",".join(parts) + b"]"
        if end < len(keys):
            next_token = _encode_token(token_scope, list(keys[end - 1]))
            body += b',"NextToken":' + json.dumps(next_token).encode()
        return EncodedJson(body + b"}"), changes

    def _describe_compliance(self, scope: Scope, params: dict[str, Any]) -> Any:
        names = _rule_names(params, "ConfigRuleNames")
        types = set(
            _compliance_types(params, RULE_TYPES, "DescribeComplianceByConfigRule") or RULE_TYPES
        )
        rules = self._rules(scope, names)
        changes = self._refresh(scope, rules)
        rows = []
        for rule in rules:
            state = self.rule_state(scope, rule)
            compliance = state.rule_compliance()
            if compliance not in types:
                continue
            entry: dict[str, Any] = {"ComplianceType": compliance}
            if compliance == "NON_COMPLIANT":
                count = state.counts()["NON_COMPLIANT"]
                entry["ComplianceContributorCount"] = {
                    "CappedCount": min(count, CONTRIBUTOR_CAP),
                    "CapExceeded": count > CONTRIBUTOR_CAP,
                }
            rows.append(
                (
                    rule.config_rule_name,
                    {"ConfigRuleName": rule.config_rule_name, "Compliance": entry},
                )
            )
        token_scope = {"op": "compliance", "names": names, "types": sorted(types)}
        return _paginate(
            rows, params, token_scope, MAX_RULE_NAMES, "ComplianceByConfigRules"
        ), changes

    def _describe_evaluation_status(self, scope: Scope, params: dict[str, Any]) -> Any:
        names = _rule_names(params, "ConfigRuleNames")
        limit = _limit(params, STATUS_MAX_LIMIT) or STATUS_MAX_LIMIT
        rules = self._rules(scope, names)
        changes = self._refresh(scope, rules)
        rows = []
        for rule in rules:
            s = self.rule_state(scope, rule)
            invoked = evaluated = s.last_successful_invocation
            if s.pending == "started":  # invoked, but no evaluation has finished yet
                invoked, evaluated = s.pending_since, None
            rows.append(
                (
                    rule.config_rule_name,
                    _drop_none(
                        {
                            "ConfigRuleName": rule.config_rule_name,
                            "ConfigRuleArn": rule.config_rule_arn,
                            "ConfigRuleId": rule.config_rule_id,
                            "LastSuccessfulInvocationTime": _ts(invoked),
                            "LastFailedInvocationTime": _ts(s.last_failed_invocation),
                            "LastSuccessfulEvaluationTime": _ts(evaluated),
                            "LastFailedEvaluationTime": _ts(s.last_failed_invocation),
                            "FirstActivatedTime": _ts(s.first_activated),
                            "LastErrorCode": s.last_error_code,
                            "LastErrorMessage": s.last_error_message,
                            "FirstEvaluationStarted": s.first_evaluation_started,
                        }
                    ),
                )
            )
        token_scope = {"op": "status", "names": names}
        return _paginate(rows, params, token_scope, limit, "ConfigRulesEvaluationStatus"), changes

    def _start_evaluation(self, scope: Scope, params: dict[str, Any]) -> Any:
        names = params.get("ConfigRuleNames")
        if names is not None:
            names = _rule_names(params, "ConfigRuleNames")
            if not names:
                raise ConfigApiError(
                    "InvalidParameterValueException",
                    "ConfigRuleNames must name between 1 and 25 rules.",
                )
        rules = self._rules(scope, names)
        return {}, self._refresh(scope, rules, force=True)

    def _compliance_summary(self, scope: Scope, params: dict[str, Any]) -> Any:
        rules = self._rules(scope, None)
        changes = self._refresh(scope, rules)
        tally = {"COMPLIANT": 0, "NON_COMPLIANT": 0}
        for rule in rules:
            compliance = self.rule_state(scope, rule).rule_compliance()
            if compliance in tally:
                tally[compliance] += 1
        summary = {
            "CompliantResourceCount": _capped(tally["COMPLIANT"], SUMMARY_RULE_CAP),
            "NonCompliantResourceCount": _capped(tally["NON_COMPLIANT"], SUMMARY_RULE_CAP),
            "ComplianceSummaryTimestamp": _ts(self.clock.now()),
        }
        return {"ComplianceSummary": summary}, changes

    def _start_recorder(self, scope: Scope, params: dict[str, Any]) -> Any:
        name = params.get("ConfigurationRecorderName")
        moto_backend(scope).start_configuration_recorder(name)
        now = self.clock.now()
        times = self.region_state(scope).recorders.setdefault(name, RecorderTimes())
        times.last_start = now
        if times.failure is None:
            times.last_status = "Success"
        times.last_status_change = now
        self.record(scope)
        return {}

    def _stop_recorder(self, scope: Scope, params: dict[str, Any]) -> Any:
        name = params.get("ConfigurationRecorderName")
        backend = moto_backend(scope)
        if name in backend.recorders and backend.recorders[name].status.recording:
            self.record(scope)  # changes made before the stop are recorded
        backend.stop_configuration_recorder(name)
        now = self.clock.now()
        times = self.region_state(scope).recorders.setdefault(name, RecorderTimes())
        times.last_stop = now
        times.last_status_change = now
        return {}

    def _describe_recorder_status(self, scope: Scope, params: dict[str, Any]) -> Any:
        backend = moto_backend(scope)
        names = params.get("ConfigurationRecorderNames") or sorted(backend.recorders)
        out = []
        for name in names:
            if name not in backend.recorders:
                raise ConfigApiError(
                    "NoSuchConfigurationRecorderException",
                    f"Cannot find configuration recorder with the specified name '{name}'.",
                )
            times = self.region_state(scope).recorders.get(name, RecorderTimes())
            failure = times.failure
            out.append(
                _drop_none(
                    {
                        "name": name,
                        "lastStartTime": _ts(times.last_start),
                        "lastStopTime": _ts(times.last_stop),
                        "recording": bool(backend.recorders[name].status.recording),
                        "lastStatus": self.cased(times.last_status),
                        "lastErrorCode": failure[0] if failure else None,
                        "lastErrorMessage": failure[1] if failure else None,
                        "lastStatusChangeTime": _ts(times.last_status_change),
                    }
                )
            )
        return {"ConfigurationRecordersStatus": out}

    def _describe_delivery_status(self, scope: Scope, params: dict[str, Any]) -> Any:
        backend = moto_backend(scope)
        account = self.region_state(scope)
        names = params.get("DeliveryChannelNames") or sorted(backend.delivery_channels)
        started = [t.last_start for t in account.recorders.values() if t.last_start is not None]
        first_start = min(started) if started else None
        out = []
        for name in names:
            channel = backend.delivery_channels.get(name)
            if channel is None:
                raise ConfigApiError(
                    "NoSuchDeliveryChannelException",
                    f"Cannot find delivery channel with specified name '{name}'.",
                )
            failure = account.delivery_failures.get(name)
            out.append(
                _channel_status(name, channel, failure, first_start, self.clock.now(), self.cased)
            )
        return {"DeliveryChannelsStatus": out}

    def _batch_get_resource_config(self, scope: Scope, params: dict[str, Any]) -> Any:
        """The recorded configuration item of each key, as BaseConfigurationItem (AWS Config API
        Reference). Deleted resources are left out ("The API does not return results for deleted
        resources"), as are unknown ones; no key is left unprocessed."""
        keys = params.get("resourceKeys")
        if not isinstance(keys, list) or not 1 <= len(keys) <= BATCH_GET_MAX_KEYS:
            raise ConfigApiError(
                "ValidationException",
                f"resourceKeys must name between 1 and {BATCH_GET_MAX_KEYS} resources.",
            )
        self.record(scope)
        recorded = self.region_state(scope).recorded
        items = []
        for key in keys:
            if not isinstance(key, dict):
                raise ConfigApiError("ValidationException", "resourceKeys must be objects.")
            item = recorded.get((str(key.get("resourceType")), str(key.get("resourceId"))))
            if item is not None:
                items.append(base_configuration_item(item, scope, self.clock.now()))
        return {"baseConfigurationItems": items}

    # -- compliance changes --------------------------------------------------------------------------
    def publish(self, changes: list[ComplianceChange]) -> None:
        """Hand the changes to ``on_changes`` (EventBridge, as AWS Config sends them); call unlocked."""
        if changes and self.on_changes is not None:
            self.on_changes(changes)


# -- helpers ---------------------------------------------------------------------------------------
def _account_of(access_key: str | None) -> str:
    from ..accounts import account_of

    return account_of(access_key)


def _compliance_types(
    params: dict[str, Any], allowed: tuple[str, ...], operation: str
) -> list[str]:
    types = params.get("ComplianceTypes") or []
    if not isinstance(types, list):
        raise ConfigApiError("InvalidParameterValueException", "ComplianceTypes must be a list.")
    for value in types:
        if value not in allowed:
            raise ConfigApiError(
                "InvalidParameterValueException",
                f"{value} is not a valid ComplianceType for {operation}; "
                f"allowed: {', '.join(allowed)}.",
            )
    return types


def _limit(params: dict[str, Any], maximum: int) -> int:
    limit = params.get("Limit", 0)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= maximum:
        raise ConfigApiError(
            "InvalidParameterValueException",
            f"Value '{limit}' at 'limit' failed to satisfy constraint: "
            f"Member must have value less than or equal to {maximum}",
        )
    return limit


def _rule_names(params: dict[str, Any], field_name: str) -> list[str] | None:
    names = params.get(field_name)
    if names is None or names == []:
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise ConfigApiError(
            "InvalidParameterValueException", f"{field_name} must be a list of rule names."
        )
    if len(names) > MAX_RULE_NAMES:
        raise ConfigApiError(
            "InvalidParameterValueException",
            f"Value at '{field_name[0].lower() + field_name[1:]}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_RULE_NAMES}",
        )
    return names


def _encode_token(scope: dict[str, Any], after: Any) -> str:
    raw = json.dumps({"s": scope, "a": after}, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: Any, scope: dict[str, Any]) -> Any:
    """The position after which the next page starts; None without a token.

    Tokens are keyset positions, so they stay valid however many readers page at once and whatever
    changes between pages."""
    if token in (None, ""):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        if data["s"] != json.loads(json.dumps(scope, sort_keys=True)):
            raise ValueError("token belongs to another request")
        return data["a"]
    except (ValueError, KeyError, TypeError):
        raise ConfigApiError(
            "InvalidNextTokenException", "The nextToken provided is invalid"
        ) from None


def _paginate(
    rows: list[tuple[str, Any]], params: dict[str, Any], scope: dict[str, Any], size: int, key: str
) -> dict[str, Any]:
    after = _decode_token(params.get("NextToken"), scope)
    start = 0 if after is None else bisect.bisect_right([name for name, _ in rows], after)
    page = rows[start : start + size]
    out: dict[str, Any] = {key: [item for _, item in page]}
    if start + size < len(rows):
        out["NextToken"] = _encode_token(scope, page[-1][0])
    return out


def _evaluation_result(rule_name: str, key: tuple[str, str], r: Result) -> dict[str, Any]:
    return _drop_none(
        {
            "EvaluationResultIdentifier": {
                "EvaluationResultQualifier": {
                    "ConfigRuleName": rule_name,
                    "ResourceType": key[0],
                    "ResourceId": key[1],
                    "EvaluationMode": "DETECTIVE",
                },
                "OrderingTimestamp": _ts(r.recorded),
            },
            "ComplianceType": r.compliance,
            "ResultRecordedTime": _ts(r.recorded),
            "ConfigRuleInvokedTime": _ts(r.invoked),
            "Annotation": r.annotation,
        }
    )


def _capped(count: int, cap: int) -> dict[str, Any]:
    return {"CappedCount": min(count, cap), "CapExceeded": count > cap}


def _channel_status(
    name: str,
    channel: Any,
    failure: tuple[str, str] | None,
    first_start: datetime | None,
    now: datetime,
    cased: Callable[[str], str | None],
) -> dict[str, Any]:
    def export(applicable: bool) -> dict[str, Any]:
        if not applicable or first_start is None:
            return {"lastStatus": cased("Not_Applicable")}
        if failure:
            return {
                "lastStatus": cased("Failure"),
                "lastErrorCode": failure[0],
                "lastErrorMessage": failure[1],
                "lastAttemptTime": _ts(now),
            }
        return {
            "lastStatus": cased("Success"),
            "lastAttemptTime": _ts(now),
            "lastSuccessfulTime": _ts(now),
        }

    stream: dict[str, Any] = {"lastStatus": cased("Not_Applicable")}
    if channel.sns_topic_arn and first_start is not None:
        stream = {
            "lastStatus": cased("Failure" if failure else "Success"),
            "lastStatusChangeTime": _ts(first_start),
        }
        if failure:
            stream.update({"lastErrorCode": failure[0], "lastErrorMessage": failure[1]})
    return {
        "name": name,
        "configSnapshotDeliveryInfo": export(
            channel.config_snapshot_delivery_properties is not None
        ),
        "configHistoryDeliveryInfo": export(True),
        "configStreamDeliveryInfo": stream,
    }
