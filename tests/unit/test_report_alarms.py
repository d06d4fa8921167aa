"""The alarms on missing reports, replayed over days of synthetic runs with CloudWatch's evaluation rules.

A fresh deploy must not page for a report that cannot exist yet (the first scheduled one is up to a day
away); a day whose runs failed must page, and so must a day with no run at all once reports have begun. The
alarms under test are every alarm of the synthesized template on the runtime's metrics except the
incomplete-report alarm, which pages on a report's errors by design. Each is read from the template (metric
or metric math, statistic, period, evaluation periods, threshold, missing-data treatment, actions) and
replayed by ``tests.unit.cloudwatch_alarms``, whose rules are checked here against CloudWatch's own
examples. The evaluation range CloudWatch uses is not published per period, so each scenario runs with the
range equal to the evaluation periods and with a few periods more.

The runtime's ReportsStored is modelled both ways a run can emit it: 1 per stored report and nothing
otherwise (the metric as specified), or a 1 or a 0 on every run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lib.defaults import physical_name
from lib.report_generator.infrastructure import MAX_RECEIVES, METRICS_NAMESPACE, QUEUE_VISIBILITY
from lib.report_generator.runtime.compliance_report.metrics import REPORTS_STORED
from tests.unit.cloudwatch_alarms import (
    ALARM,
    INSUFFICIENT,
    TREATMENTS,
    Alarm,
    Page,
    Sample,
    Samples,
    documented_tables,
    next_state,
    parse_points,
    replay,
)

SUFFIX = "dev"
DIMENSIONS = frozenset({("Environment", SUFFIX)})
INCOMPLETE_ALARM = physical_name("compliance-report-incomplete", SUFFIX)
UTC = dt.timezone.utc
DEPLOYED = dt.datetime(
    2026, 7, 1, 14, 20, tzinfo=UTC
)  # the first scheduled report is 06:00 tomorrow
FIRST_DAY = DEPLOYED.date() + dt.timedelta(days=1)
SCHEDULE = dt.time(6, 0)
RETRY_AFTER = dt.timedelta(seconds=QUEUE_VISIBILITY.to_seconds())

STORED_ONLY = "1 per stored report"
EVERY_RUN = "1 or 0 every run"

NORMAL, RETRIED, FAILED, NO_RUN = "normal", "first attempt failed", "every attempt failed", "no run"


# ---- the model against CloudWatch's documented examples ----------------------------------------------


@pytest.mark.parametrize(
    ("table", "row"), [(key, row) for key, rows in documented_tables.items() for row in rows]
)
def test_the_model_gives_the_states_cloudwatch_documents(table, row):
    n, m = table
    points, expected = row
    for treatment, state in zip(TREATMENTS, expected):
        for previous in ("OK", ALARM):
            want = previous if state == "retain" else state
            got = next_state(parse_points(points), n, m, treatment, previous)
            assert got == want, f"{points} N={n} M={m} {treatment} from {previous}"


# ---- the alarms of the template ----------------------------------------------------------------------


def report_gap_alarms(template) -> list[Alarm]:
    alarms = []
    for resource in template.find_resources("AWS::CloudWatch::Alarm").values():
        props = resource["Properties"]
        namespaces = [props.get("Namespace")] + [
            q["MetricStat"]["Metric"]["Namespace"]
            for q in props.get("Metrics", [])
            if "MetricStat" in q
        ]
        if METRICS_NAMESPACE in namespaces and props["AlarmName"] != INCOMPLETE_ALARM:
            alarms.append(Alarm.from_properties(props))
    return alarms


def run(at: dt.datetime, *, stored: bool, flavor: str) -> list[Sample]:
    """What one run emits: its duration and error count always, ReportsStored per ``flavor``."""

    def sample(name: str, value: float) -> Sample:
        return Sample(at, METRICS_NAMESPACE, name, DIMENSIONS, value)

    emitted = [
        sample("ReportDurationMs", 95_000.0),
        sample("ReportGenerationErrors", 0.0 if stored else 1.0),
    ]
    if stored or flavor == EVERY_RUN:
        emitted.append(sample(REPORTS_STORED, 1.0 if stored else 0.0))
    return emitted


def timeline(days: list[str], flavor: str) -> tuple[list[Sample], list[dt.datetime]]:
    """Samples of one run a day from FIRST_DAY at 06:00 (a few minutes late, varying by day, so the
    alarms' windows slide past yesterday's report before today's lands), and the times reports were
    stored."""
    samples: list[Sample] = []
    stored_at: list[dt.datetime] = []
    for i, outcome in enumerate(days):
        start = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=i), SCHEDULE, UTC)
        finish = start + dt.timedelta(minutes=1 + (i * 3) % 5)
        attempts = {NORMAL: [True], RETRIED: [False, True], FAILED: [False] * MAX_RECEIVES}.get(
            outcome, []
        )
        for n, stored in enumerate(attempts):
            at = finish + n * RETRY_AFTER
            samples += run(at, stored=stored, flavor=flavor)
            if stored:
                stored_at.append(at)
    return samples, stored_at


def pages(template, days: list[str], flavor: str, extra_range: int) -> list[Page]:
    samples, _ = timeline(days, flavor)
    until = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=len(days)), dt.time(0), UTC)
    found = []
    for alarm in report_gap_alarms(template):
        found += replay(
            alarm,
            Samples(samples),
            DEPLOYED,
            until,
            evaluation_range=alarm.evaluation_periods + extra_range,
        )
    return sorted(found, key=lambda p: p.at)


SCENARIO_PARAMS = pytest.mark.parametrize(
    ("flavor", "extra_range"),
    [(flavor, extra) for flavor in (STORED_ONLY, EVERY_RUN) for extra in (0, 3)],
)


@SCENARIO_PARAMS
def test_a_fresh_deploy_and_normal_days_never_page(template, flavor, extra_range):
    assert report_gap_alarms(template), "the stack alarms on missing reports"
    days = [NORMAL, NORMAL, RETRIED, NORMAL, NORMAL]
    assert pages(template, days, flavor, extra_range) == []


@SCENARIO_PARAMS
def test_a_day_whose_runs_all_failed_pages_that_day(template, flavor, extra_range):
    failed_day = FIRST_DAY + dt.timedelta(days=2)
    found = pages(template, [NORMAL, NORMAL, FAILED, NORMAL], flavor, extra_range)
    first_failure = dt.datetime.combine(failed_day, SCHEDULE, UTC)
    next_schedule = first_failure + dt.timedelta(days=1)
    assert [p for p in found if first_failure <= p.at < next_schedule], found
    assert [p for p in found if p.at < first_failure] == []


@SCENARIO_PARAMS
def test_the_first_scheduled_report_failing_pages(template, flavor, extra_range):
    """No report has ever been stored, but the runs that failed say one was expected."""
    found = pages(template, [FAILED, NORMAL], flavor, extra_range)
    first_schedule = dt.datetime.combine(FIRST_DAY, SCHEDULE, UTC)
    assert [p for p in found if first_schedule <= p.at < first_schedule + dt.timedelta(days=1)]


@SCENARIO_PARAMS
def test_a_day_without_any_run_pages_that_day(template, flavor, extra_range):
    quiet_day = FIRST_DAY + dt.timedelta(days=2)
    found = pages(template, [NORMAL, NORMAL, NO_RUN, NORMAL], flavor, extra_range)
    quiet = dt.datetime.combine(quiet_day, SCHEDULE, UTC)
    assert [p for p in found if quiet <= p.at < quiet + dt.timedelta(days=1)], found
    assert [p for p in found if p.at < quiet] == []


@SCENARIO_PARAMS
def test_a_stack_that_never_ran_since_deploy_is_not_caught_by_these_alarms(
    template, flavor, extra_range
):
    """The limit of the design, kept visible: with no run and no report since deploy, nothing tells these
    alarms a report was due (the errors and dead-letter alarms watch the function and its queue; the
    README's deploy steps run a first report at once, which arms the overdue alarm)."""
    assert pages(template, [NO_RUN, NO_RUN, NO_RUN], flavor, extra_range) == []


def test_overdue_alarm_is_a_heartbeat_on_stored_reports(template):
    """The definition the scenarios above depend on, pinned."""
    props = alarm_named(template, "compliance-report-overdue-dev")
    assert (props["Namespace"], props["MetricName"], props["Statistic"]) == (
        METRICS_NAMESPACE,
        REPORTS_STORED,
        "Sum",
    )
    assert props["Dimensions"] == [{"Name": "Environment", "Value": SUFFIX}]
    # 24 hours plus the redeliveries of one day's request plus a run, rounded up to whole hours.
    hours = props["EvaluationPeriods"] * props["Period"] / 3600
    assert props["Period"] == 3600 and hours == 26
    assert props["TreatMissingData"] == "missing"
    assert props["ComparisonOperator"] == "LessThanThreshold" and props["Threshold"] == 1
    assert props["InsufficientDataActions"] == props["AlarmActions"] != []
    # PutMetricAlarm: for periods of an hour or more, Period x EvaluationPeriods <= 7 days.
    assert props["Period"] * props["EvaluationPeriods"] <= 7 * 86400


def test_not_stored_alarm_counts_runs_against_stored_reports(template):
    props = alarm_named(template, "compliance-report-not-stored-dev")
    queries = {q["Id"]: q for q in props["Metrics"]}
    (expression,) = [q for q in queries.values() if q.get("ReturnData", True)]
    assert expression["Expression"] == (
        f"IF(FILL(runs, 0) >= {MAX_RECEIVES} AND FILL(stored, 0) < 1, 1, 0)"
    )
    stats = {
        i: (
            q["MetricStat"]["Metric"]["MetricName"],
            q["MetricStat"]["Stat"],
            q["MetricStat"]["Period"],
        )
        for i, q in queries.items()
        if "MetricStat" in q
    }
    assert stats == {
        "runs": ("ReportDurationMs", "SampleCount", 86400),
        "stored": (REPORTS_STORED, "Sum", 86400),
    }
    assert props["TreatMissingData"] == "notBreaching"
    assert props["AlarmActions"] != [] and "InsufficientDataActions" not in props


def alarm_named(template, name: str) -> dict[str, Any]:
    (props,) = [
        a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmName"] == name
    ]
    return props


def test_no_alarm_pages_while_insufficient_from_creation():
    """The property the overdue alarm rests on: created in INSUFFICIENT_DATA with nothing to read, it
    stays there and runs no action (a transition is needed)."""
    alarm = Alarm(
        name="heartbeat",
        period=dt.timedelta(hours=1),
        evaluation_periods=3,
        datapoints_to_alarm=3,
        threshold=1,
        comparison="LessThanThreshold",
        treat_missing="missing",
        actions={ALARM: ["team"], "OK": [], INSUFFICIENT: ["team"]},
        value=lambda samples, start, end: None,
    )
    assert (
        replay(alarm, Samples([]), DEPLOYED, DEPLOYED + dt.timedelta(days=2), evaluation_range=5)
        == []
    )
