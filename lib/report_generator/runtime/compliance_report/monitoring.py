"""Turn AWS Config status responses into the report's monitoring evidence and its problems.

Pure functions over the response dicts boto3 returns, so they are tested with recorded responses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .timefmt import optional_utc_z, to_datetime

# DescribeConfigurationRecorderStatus answers Pending/Success/Failure/NotApplicable; the schema uses the
# upper-case spelling.
_RECORDER_STATUS = {
    "Pending": "PENDING",
    "Success": "SUCCESS",
    "Failure": "FAILURE",
    "NotApplicable": "NOT_APPLICABLE",
}
_DELIVERY_STATUS = {"Success", "Failure", "Not_Applicable"}


def problem(code: str, subject: str, message: str) -> dict[str, str]:
    return {"code": code, "subject": subject, "message": message}


def recorder_records(statuses: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    records = []
    for status in statuses:
        last = status.get("lastStatus")
        records.append(
            {
                "name": status.get("name") or "(unnamed)",
                "recording": bool(status.get("recording", False)),
                "lastStatus": _RECORDER_STATUS.get(last) if last else None,
                "lastStatusChangeTime": optional_utc_z(status.get("lastStatusChangeTime")),
                "lastErrorCode": status.get("lastErrorCode"),
                "lastErrorMessage": status.get("lastErrorMessage"),
            }
        )
    return records


def recorder_problems(records: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    if not records:
        return [
            problem(
                "RECORDER_MISSING",
                "(none)",
                "no configuration recorder exists: AWS Config records nothing, "
                "so zero findings prove nothing",
            )
        ]
    found = []
    for record in records:
        if not record["recording"]:
            found.append(
                problem(
                    "RECORDER_NOT_RECORDING",
                    record["name"],
                    f"configuration recorder {record['name']} is not recording: "
                    "findings may be stale or missing",
                )
            )
        if record["lastStatus"] == "FAILURE":
            detail = record["lastErrorCode"] or "no error code"
            found.append(
                problem(
                    "RECORDER_FAILURE",
                    record["name"],
                    f"configuration recorder {record['name']} last status is FAILURE ({detail})",
                )
            )
    return found


def _delivery_status(info: dict[str, Any] | None) -> str | None:
    status = (info or {}).get("lastStatus")
    return status if status in _DELIVERY_STATUS else None


def channel_records(statuses: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
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
            {
                "name": status.get("name") or "(unnamed)",
                "configHistoryLastStatus": _delivery_status(infos[0]),
                "configSnapshotLastStatus": _delivery_status(infos[1]),
                "configStreamLastStatus": _delivery_status(infos[2]),
                "lastErrorCode": error_code,
            }
        )
    return records


def channel_problems(records: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    if not records:
        return [
            problem(
                "DELIVERY_CHANNEL_MISSING",
                "(none)",
                "no delivery channel exists: configuration history and snapshots are not delivered",
            )
        ]
    found = []
    for record in records:
        failed = [
            label
            for label, field in (
                ("history", "configHistoryLastStatus"),
                ("snapshot", "configSnapshotLastStatus"),
                ("stream", "configStreamLastStatus"),
            )
            if record[field] == "Failure"
        ]
        if failed:
            detail = record["lastErrorCode"] or "no error code"
            found.append(
                problem(
                    "DELIVERY_FAILURE",
                    record["name"],
                    f"delivery channel {record['name']} failed to deliver {', '.join(failed)} ({detail})",
                )
            )
    return found


def evaluation_record(status: dict[str, Any]) -> dict[str, Any]:
    return {
        "firstEvaluationStarted": bool(status.get("FirstEvaluationStarted", False)),
        "lastSuccessfulEvaluationTime": optional_utc_z(status.get("LastSuccessfulEvaluationTime")),
        "lastFailedEvaluationTime": optional_utc_z(status.get("LastFailedEvaluationTime")),
        "lastErrorCode": status.get("LastErrorCode"),
        "lastErrorMessage": status.get("LastErrorMessage"),
    }


def evaluation_problems(rule_name: str, raw: dict[str, Any]) -> list[dict[str, str]]:
    """Problems of one rule from its raw DescribeConfigRuleEvaluationStatus entry."""
    succeeded = to_datetime(raw.get("LastSuccessfulEvaluationTime"))
    failed = to_datetime(raw.get("LastFailedEvaluationTime"))
    if (not raw.get("FirstEvaluationStarted") or succeeded is None) and failed is None:
        return [
            problem(
                "RULE_NOT_EVALUATED",
                rule_name,
                f"rule {rule_name} has never completed an evaluation: its results are not evidence yet",
            )
        ]
    if failed is not None and (succeeded is None or failed > succeeded):
        code = raw.get("LastErrorCode") or "no error code"
        return [
            problem(
                "RULE_EVALUATION_FAILED",
                rule_name,
                f"rule {rule_name} last evaluation failed ({code}) after its last success",
            )
        ]
    return []
