"""GIVEN the demo's seeded drift plan WHEN it is built and played against the Config model THEN it is
reproducible, keeps its own rules, and its expectation follows the emulator's semantics."""

from datetime import date, timedelta

import pytest

from demo.run import last_complete_quarter, quarter_bounds
from demo.scenario import ESTATE, MIN_DAYS, Scenario

START = date(2026, 7, 1)


def test_the_same_seed_gives_the_same_plan_and_another_seed_another():
    first = Scenario.build(START, 92, 7)

    assert Scenario.build(START, 92, 7) == first
    assert Scenario.build(START, 92, 8).changes != first.changes


def test_too_few_days_is_refused_with_the_rule():
    with pytest.raises(ValueError, match=f"days 5: must be at least {MIN_DAYS}"):
        Scenario.build(START, 5, 1)


@pytest.mark.parametrize("days", [MIN_DAYS, 10, 31, 90, 92])
def test_the_plan_keeps_its_rules(days):
    s = Scenario.build(START, days, 2026)
    special = {s.recorder_off_day, *s.skipped_days}

    assert len(special) == 3 and 0 not in special and max(special) < days
    assert (
        s.recorder_off_day - 1 not in s.skipped_days
    )  # the recorder stops on a day after a report
    touched = [(c.day, c.name) for c in s.changes]
    assert len(touched) == len(set(touched)), "a resource changes at most once a day"
    for day in special:
        assert any(c.action == "drift" for c in s.changes_on(day)), day
    state = {r.name: r.initially_compliant for r in s.resources}
    for change in s.changes:
        assert state[change.name] == (change.action == "drift"), change
        state[change.name] = change.action == "fix"


def test_the_expectation_follows_the_recorder_and_the_skipped_days():
    s = Scenario.build(START, 92, 2026)
    e = s.expect()
    off, after = e.days[s.recorder_off_day], e.days[s.recorder_off_day + 1]
    before = e.days[s.recorder_off_day - 1]

    # Recorder off: the report shows the findings captured when it stopped (the day before's state),
    # publishes no compliance-change alert, and still alerts because monitoring is off.
    assert off.by_kind == before.by_kind and off.realtime_alerts == 0
    assert off.report_alert and not off.recorder_on
    # The next day catches up with everything that drifted meanwhile.
    drifted = sum(1 for c in off.changes + after.changes if c.action == "drift")
    assert after.realtime_alerts == drifted
    for skipped in s.skipped_days:
        day = e.days[skipped]
        assert not day.reported and day.realtime_alerts == 0 and not day.report_alert
        assert day.by_kind == e.days[skipped - 1].by_kind  # carried, not re-evaluated
    assert e.reports == 90
    assert e.opened() == e.realtime_alerts  # every opened window began with one alert
    assert all(w.resolved is None or w.resolved > w.opened for w in e.windows)


def test_a_db_instance_that_drifts_becomes_a_new_finding():
    s = Scenario.build(START, 92, 2026)
    e = s.expect()
    rds_drifts = [c for c in s.changes if c.kind == "rds" and c.action == "drift"]

    assert rds_drifts, "the plan should exercise the DB replacement"
    generations = {w.finding[2] for w in e.windows if w.finding[0] == "rds"}
    assert len(generations) > 1


@pytest.mark.parametrize(
    ("today", "quarter", "first", "last"),
    [
        (date(2026, 11, 26), "2026-Q3", date(2026, 7, 1), date(2026, 9, 30)),
        (date(2026, 1, 1), "2025-Q4", date(2025, 10, 1), date(2025, 12, 31)),
        (date(2026, 4, 1), "2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
    ],
)
def test_the_default_quarter_is_the_last_complete_one(today, quarter, first, last):
    assert last_complete_quarter(today) == quarter
    assert quarter_bounds(quarter) == (first, last)
    assert last < today and (today - timedelta(days=92)) <= last


@pytest.mark.parametrize("threshold", [5, 10, 20])
def test_the_inbox_expectation_turns_a_day_above_the_threshold_into_one_digest(threshold):
    e = Scenario.build(START, 30, 2026).expect()

    inbox = e.inbox(threshold)

    first = e.days[0].realtime_alerts
    above = [d.realtime_alerts for d in e.days if d.realtime_alerts > threshold]
    assert inbox["digests"] == len(above) and inbox["digestChanges"] == sum(above)
    assert inbox["changes"] + inbox["digestChanges"] == e.realtime_alerts
    assert (first > threshold) == (inbox["digests"] >= 1)


def test_the_estate_starts_with_more_findings_than_the_default_digest_threshold():
    e = Scenario.build(START, 10, 2026).expect()
    assert e.days[0].realtime_alerts == sum(1 for r in ESTATE if not r[2]) > 10


def test_monitoring_alerts_fall_on_the_recorder_off_day_and_the_day_after():
    s = Scenario.build(START, 20, 7)
    days = s.expect().days
    assert [i for i, d in enumerate(days) if d.monitoring_alerts] == [
        s.recorder_off_day,
        s.recorder_off_day + 1,
    ]


@pytest.mark.parametrize("days", [MIN_DAYS, 20, 92])
def test_two_accepted_risks_one_expiring_within_the_period(days):
    s = Scenario.build(START, days, 2026)
    e = s.expect()
    first, second = s.exceptions
    initially_open = {r.name for r in s.resources if not r.initially_compliant}

    assert {first.name, second.name} <= initially_open and first.name != second.name
    assert {first.kind, second.kind} <= {"s3", "ec2"}
    assert first.expires >= days and second.created < second.expires < days - 1
    for day, want in enumerate(e.days):
        in_force = [x for x in s.exceptions if x.created <= day <= x.expires]
        assert sum(want.excepted_by_kind.values()) <= len(in_force), want.date
        if not in_force:
            assert sum(want.excepted_by_kind.values()) == 0, want.date


def test_a_day_without_a_report_carries_the_labels_but_not_past_their_expiry():
    s = Scenario.build(START, 92, 2026)
    e = s.expect()
    for skipped in s.skipped_days:
        before, day = e.days[skipped - 1], e.days[skipped]
        for kind in ("s3", "ec2"):
            ended = [x for x in s.exceptions if x.kind == kind and x.expires == skipped - 1]
            if not ended:
                assert day.excepted_by_kind[kind] == before.excepted_by_kind[kind]
