"""Turn AWS Config status responses into the report's monitoring evidence and its problems.

Pure functions from the response dicts boto3 returns to the report's records (model.py), so they are
tested with recorded responses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import limits
from .model import DeliveryChannel, EvaluationStatus, Problem, Recorder
from .timefmt import optional_utc_z, to_datetime

# Status values, spelled two ways by AWS itself. The API model defines RecorderStatus as
# Pending | Success | Failure | NotApplicable and DeliveryStatus as Success | Failure | Not_Applicable
# (https://docs.aws.amazon.com/config/latest/APIReference/API_ConfigurationRecorderStatus.html,
# https://docs.aws.amazon.com/config/latest/APIReference/API_ConfigExportDeliveryInfo.html), while the
# AWS CLI's own examples print "SUCCESS" and "FAILURE" (aws configservice
# describe-configuration-recorder-status, describe-delivery-channel-status). Both are accepted: a value
# is matched without regard to case or underscores, and stored in the schema's spelling (recorders
# upper case, delivery channels the model's). A value that is neither is not guessed at: it is evidence
# of nothing and a STATUS_UNAVAILABLE problem, so a recorder or channel never reads as healthy on it.
_RECORDER_STATUS = {
    "pending": "PENDING",
    "success": "SUCCESS",
    "failure": "FAILURE",
    "notapplicable": "NOT_APPLICABLE",
}
_DELIVERY_STATUS = {"success": "Success", "failure": "Failure", "notapplicable": "Not_Applicable"}


def _spelling(value: Any) -> str:
    """A status as a key that ignores how it is spelled: "Not_Applicable", "NOT_APPLICABLE" and
    "NotApplicable" are one status."""
    return str(value).replace("_", "").lower()


def _known(value: Any, names: dict[str, str]) -> str | None:
    return names.get(_spelling(value)) if value else None


def _unrecognised(value: Any, names: dict[str, str]) -> bool:
    return bool(value) and _spelling(value) not in names


def recorder_records(statuses: Sequence[dict[str, Any]]) -> list[Recorder]:
    records = []
    for status in statuses:
        records.append(
            Recorder(
                name=limits.text(status.get("name") or "(unnamed)", limits.NAME),
                recording=bool(status.get("recording", False)),
                last_status=_known(status.get("lastStatus"), _RECORDER_STATUS),
                last_status_change_time=optional_utc_z(status.get("lastStatusChangeTime")),
                last_error_code=limits.optional_text(status.get("lastErrorCode"), limits.CODE),
                last_error_message=limits.optional_text(
                    status.get("lastErrorMessage"), limits.MESSAGE
                ),
            )
        )
    return records


def recorder_problems(records: Sequence[Recorder]) -> list[Problem]:
    if not records:
        return [
            Problem(
                "RECORDER_MISSING",
                "(none)",
                "no configuration recorder exists: AWS Config records nothing, "
                "so zero findings prove nothing",
            )
        ]
    found = []
    for record in records:
        if not record.recording:
            found.append(
                Problem(
                    "RECORDER_NOT_RECORDING",
                    record.name,
                    f"configuration recorder {record.name} is not recording: "
                    "findings may be stale or missing",
                )
            )
        if record.last_status == "FAILURE":
            detail = record.last_error_code or "no error code"
            found.append(
                Problem(
                    "RECORDER_FAILURE",
                    record.name,
                    f"configuration recorder {record.name} last status is FAILURE ({detail})",
                )
            )
    return found


def _delivery_status(info: dict[str, Any] | None) -> str | None:
    return _known((info or {}).get("lastStatus"), _DELIVERY_STATUS)


def unrecognised_recorder_statuses(statuses: Sequence[dict[str, Any]]) -> list[Problem]:
    """STATUS_UNAVAILABLE per recorder whose lastStatus is no spelling of a status AWS defines."""
    return [
        _unrecognised_problem(f"configuration recorder {status.get('name') or '(unnamed)'}", value)
        for status in statuses
        for value in [status.get("lastStatus")]
        if _unrecognised(value, _RECORDER_STATUS)
    ]


def unrecognised_channel_statuses(statuses: Sequence[dict[str, Any]]) -> list[Problem]:
    """STATUS_UNAVAILABLE per delivery status (history, snapshot, stream) that is no spelling of a
    status AWS defines."""
    return [
        _unrecognised_problem(f"delivery channel {status.get('name') or '(unnamed)'} {kind}", value)
        for status in statuses
        for kind in ("history", "snapshot", "stream")
        for value in [(status.get(f"config{kind.title()}DeliveryInfo") or {}).get("lastStatus")]
        if _unrecognised(value, _DELIVERY_STATUS)
    ]


def _unrecognised_problem(subject: str, value: Any) -> Problem:
    shown = str(value)[:64]
    return Problem(
        "STATUS_UNAVAILABLE",
        subject,
        f"{subject} reported status {shown!r}, which is no status AWS Config defines: "
        "its health is unknown",
    )


def channel_records(statuses: Sequence[dict[str, Any]]) -> list[DeliveryChannel]:
    records = []
    for status in statuses:
        infos = [
            status.get("configHistoryDeliveryInfo"),
            status.get("configSnapshotDeliveryInfo"),
            status.get("configStreamDeliveryInfo"),
        ]
        error_code = next(
            (i.get("lastErrorCode") for i in infos if i and i.get("lastErrorCode")), None
        )
        records.append(
            DeliveryChannel(
                name=limits.text(status.get("name") or "(unnamed)", limits.NAME),
                config_history_last_status=_delivery_status(infos[0]),
                config_snapshot_last_status=_delivery_status(infos[1]),
                config_stream_last_status=_delivery_status(infos[2]),
                last_error_code=limits.optional_text(error_code, limits.CODE),
            )
        )
    return records


def channel_problems(records: Sequence[DeliveryChannel]) -> list[Problem]:
    if not records:
        return [
            Problem(
                "DELIVERY_CHANNEL_MISSING",
                "(none)",
                "no delivery channel exists: configuration history and snapshots are not delivered",
            )
        ]
    found = []
    for record in records:
        failed = [
            label
            for label, status in (
                ("history", record.config_history_last_status),
                ("snapshot", record.config_snapshot_last_status),
                ("stream", record.config_stream_last_status),
            )
            if status == "Failure"
        ]
        if failed:
            detail = record.last_error_code or "no error code"
            found.append(
                Problem(
                    "DELIVERY_FAILURE",
                    record.name,
                    f"delivery channel {record.name} failed to deliver {', '.join(failed)} ({detail})",
                )
            )
    return found


def evaluation_record(status: dict[str, Any]) -> EvaluationStatus:
    return EvaluationStatus(
        first_evaluation_started=bool(status.get("FirstEvaluationStarted", False)),
        last_successful_evaluation_time=optional_utc_z(status.get("LastSuccessfulEvaluationTime")),
        last_failed_evaluation_time=optional_utc_z(status.get("LastFailedEvaluationTime")),
        last_error_code=limits.optional_text(status.get("LastErrorCode"), limits.CODE),
        last_error_message=limits.optional_text(status.get("LastErrorMessage"), limits.MESSAGE),
    )


def evaluation_problems(rule_name: str, raw: dict[str, Any]) -> list[Problem]:
    """Problems of one rule from its raw DescribeConfigRuleEvaluationStatus entry."""
    succeeded = to_datetime(raw.get("LastSuccessfulEvaluationTime"))
    failed = to_datetime(raw.get("LastFailedEvaluationTime"))
    if (not raw.get("FirstEvaluationStarted") or succeeded is None) and failed is None:
        return [
            Problem(
                "RULE_NOT_EVALUATED",
                rule_name,
                f"rule {rule_name} has never completed an evaluation: its results are not evidence yet",
            )
        ]
    if failed is not None and (succeeded is None or failed > succeeded):
        code = raw.get("LastErrorCode") or "no error code"
        return [
            Problem(
                "RULE_EVALUATION_FAILED",
                rule_name,
                f"rule {rule_name} last evaluation failed ({code}) after its last success",
            )
        ]
    return []
