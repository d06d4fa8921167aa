"""The status check: monitoring failures that AWS announces with no event.

Neither AWS Config nor CloudTrail emits an event when a managed rule fails to evaluate or when a
recording recorder fails to record: both show only in the status APIs
(``DescribeConfigRuleEvaluationStatus``: ``LastFailedEvaluationTime``, ``LastErrorCode``;
``DescribeConfigurationRecorderStatus``: ``lastStatus`` Failure, ``lastStatusChangeTime``). The stack's
schedule asks for this check every ``HEALTH_CHECK_MINUTES``; a failure is alerted when its time falls in
the interval the check covers, ``(schedule time - interval, schedule time]``, so each failure is alerted
once without state kept between runs, and a rule that keeps failing is alerted again at each failed
evaluation. A failure older than the last success is over and is not alerted.

What CloudTrail announces (a recorder stopped or deleted, a channel or rule deleted) is left to those
events (see ``events.py``), so nothing is alerted twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

from botocore.exceptions import ClientError

from . import events as ev
from .settings import Settings
from .timefmt import to_datetime, utc_z


def _latest(*values: Any) -> Optional[datetime]:
    moments = [m for m in (to_datetime(v) for v in values) if m is not None]
    return max(moments) if moments else None


def _rule_statuses(config: Any, names: List[str]) -> List[Dict[str, Any]]:
    """Every status of ``names``; a rule that no longer exists is skipped (its deletion is a
    CloudTrail event's to report, and the daily report shows it)."""
    paginator = config.get_paginator("describe_config_rule_evaluation_status")
    try:
        return [
            status
            for page in paginator.paginate(ConfigRuleNames=names)
            for status in page.get("ConfigRulesEvaluationStatus", [])
        ]
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") != "NoSuchConfigRuleException":
            raise
    if len(names) == 1:
        return []
    found: List[Dict[str, Any]] = []
    for name in names:  # one at a time, to learn which ones exist
        found.extend(_rule_statuses(config, [name]))
    return found


def check(config: Any, settings: Settings, request: ev.StatusCheck) -> List[ev.MonitoringEvent]:
    end = to_datetime(request.at)
    if end is None:
        raise ValueError(f"status check time {request.at!r} is not a timestamp")
    start = end - timedelta(minutes=settings.health_check_minutes)
    problems: List[ev.MonitoringEvent] = []

    def new(moment: Optional[datetime]) -> bool:
        return moment is not None and start < moment <= end

    for status in _rule_statuses(config, [r.name for r in settings.rules]):
        failed = _latest(
            status.get("LastFailedEvaluationTime"), status.get("LastFailedInvocationTime")
        )
        succeeded = _latest(status.get("LastSuccessfulEvaluationTime"))
        if new(failed) and (succeeded is None or failed > succeeded):  # type: ignore[operator]
            problems.append(
                ev.MonitoringEvent(
                    event_id=f"{request.event_id}/{status['ConfigRuleName']}",
                    problem=ev.RULE_FAILING,
                    subject=status["ConfigRuleName"],
                    account=request.account,
                    region=request.region,
                    at=utc_z(failed),
                    error_code=status.get("LastErrorCode"),
                    error_message=status.get("LastErrorMessage"),
                )
            )
    answer = config.describe_configuration_recorder_status()
    for recorder in answer.get("ConfigurationRecordersStatus", []):
        # The API model spells it Failure, the AWS CLI's examples FAILURE: both are read.
        if str(recorder.get("lastStatus", "")).upper() != "FAILURE":
            continue
        changed = to_datetime(recorder.get("lastStatusChangeTime"))
        if new(changed):
            problems.append(
                ev.MonitoringEvent(
                    event_id=f"{request.event_id}/{recorder.get('name')}",
                    problem=ev.RECORDER_FAILING,
                    subject=str(recorder.get("name")),
                    account=request.account,
                    region=request.region,
                    at=utc_z(changed),
                    error_code=recorder.get("lastErrorCode"),
                    error_message=recorder.get("lastErrorMessage"),
                )
            )
    return problems
