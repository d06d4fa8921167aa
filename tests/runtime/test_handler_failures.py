"""GIVEN odd invocation events (recorded events with values replaced at random, seeded) WHEN the
function is invoked THEN each either makes a trigger whose report can be built, or is refused with a
reason; and every run, whatever fails, ends in the handler's one structured line and its error metric.

Runs without AWS: the runs that get past the event go to an endpoint nothing listens on, with one
attempt per call, so they fail fast in the generator and show what the handler does with a failure.
"""

import json
import random
from datetime import datetime, timezone

import pytest
from compliance_report.collect import Collection
from compliance_report.errors import ReportGeneratorError, UnrecognisedEvent
from compliance_report.model import ChainPosition
from compliance_report.report import Draft, report_content
from compliance_report.triggers import parse_invocation

from lib.report_generator import local_harness as harness
from tests.runtime.offline import function_environment

NOW = datetime(2026, 11, 26, 6, 0, 1, tzinfo=timezone.utc)
EVENTS = [
    "scheduled_event.json",
    "on_demand.json",
    "on_demand_with_id.json",
    "sqs_on_demand.json",
    "sqs_scheduled.json",
    "sqs_unrecognised_body.json",
    "s3_put_event.json",
]
# Values an event can carry that a well-formed one never does: wrong types, out-of-range numbers and
# dates, text that is not UTF-8 (a lone surrogate, which JSON can encode), JSON inside strings.
ODD_VALUES = [
    None,
    True,
    0,
    -1,
    2**64,
    10**30,
    -(10**30),
    1.5,
    "",
    " ",
    "x" * 300,
    "\ud800",
    "é\udfff",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "2026-13-01T00:00:00Z",
    "99999999999999999999",
    "-99999999999999",
    "1e12",
    [],
    [1, "a"],
    {},
    {"a": None},
    "{}",
    '{"action": "generate-report", "note": "\\ud800"}',
    '{"action": "generate-report", "id": 7}',
    "null",
    "generate-report",
    "aws:sqs",
    "Scheduled Event",
]


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _mutated(event, rng):
    """A copy of ``event`` with one to three values replaced, keys removed or bodies re-encoded."""
    event = json.loads(json.dumps(event))
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(event) if p]
        if not paths:
            return rng.choice(ODD_VALUES)
        path = rng.choice(paths)
        parent = event
        for step in path[:-1]:
            parent = parent[step]
        choice = rng.random()
        if choice < 0.15 and isinstance(parent, dict):
            del parent[path[-1]]
        elif choice < 0.3 and path[-1] == "body" and isinstance(parent[path[-1]], str):
            inner = json.loads(parent[path[-1]]) if parent[path[-1]].startswith("{") else {}
            parent[path[-1]] = json.dumps(_mutated(inner, rng) if inner else rng.choice(ODD_VALUES))
        else:
            parent[path[-1]] = rng.choice(ODD_VALUES)
    return event


def _fuzzed(load_event, count, seed):
    rng = random.Random(seed)
    bases = [load_event(name) for name in EVENTS]
    return [_mutated(rng.choice(bases), rng) for _ in range(count)]


def _buildable(trigger, report_validator):
    """The trigger's report can be built, stored as UTF-8 and passes the schema."""
    content = report_content(
        report_id=trigger.report_id,
        trigger=trigger,
        account="123456789012",
        region="eu-west-1",
        environment_suffix="dev",
        collection=Collection(rules=[]),
    )
    _, body = Draft(content).finish("2026-11-26T06:00:01Z", ChainPosition(0, None, None))
    errors = list(report_validator.iter_errors(json.loads(body.decode("utf-8"))))
    assert not errors, errors[0].message


@pytest.mark.parametrize(
    "record_change, reason",
    [
        ({"attributes": {"SentTimestamp": "99999999999999999999"}}, "SentTimestamp"),
        ({"attributes": {"SentTimestamp": str(10**30)}}, "SentTimestamp"),
        ({"attributes": {"SentTimestamp": "-99999999999999"}}, "SentTimestamp"),
        ({"attributes": []}, "SentTimestamp"),
        ({"body": {"action": "generate-report"}}, "body is not JSON text"),
        ({"body": 5}, "body is not JSON text"),
        ({"messageId": "\ud800"}, "messageId"),
    ],
)
def test_an_odd_queue_record_is_refused_with_its_reason(load_event, record_change, reason):
    event = load_event("sqs_on_demand.json")
    event["Records"][0].update(record_change)

    invocation = parse_invocation(event, "req-1", NOW)

    (record,) = invocation.records
    assert record.trigger is None
    assert reason in record.rejection


@pytest.mark.parametrize(
    "event, reason",
    [
        (
            {"detail-type": "Scheduled Event", "source": "aws.events", "id": "e-1", "time": t},
            "scheduled event 'time'",
        )
        for t in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00")
    ]
    + [
        ({"action": "generate-report", "note": "\ud800"}, "on-demand 'note'"),
        ({"action": "generate-report", "id": "ticket-\udfff"}, "on-demand 'id'"),
    ],
)
def test_an_odd_direct_event_is_refused_with_its_reason(event, reason):
    with pytest.raises(UnrecognisedEvent, match=reason):
        parse_invocation(event, "req-1", NOW)


def test_fuzzed_events_make_a_buildable_trigger_or_are_refused(load_event, report_validator):
    triggers = refused = 0
    for event in _fuzzed(load_event, 400, seed=20261126):
        try:
            invocation = parse_invocation(event, "req-1", NOW)
        except UnrecognisedEvent as e:
            assert "\n" not in str(e)
            refused += 1
            continue
        found = [invocation.trigger] if invocation.trigger else []
        found += [r.trigger for r in invocation.records if r.trigger is not None]
        for record in invocation.records:
            assert (record.trigger is None) != (record.rejection is None)
        for trigger in found:
            _buildable(trigger, report_validator)
            triggers += 1
    assert triggers > 20 and refused > 20, (triggers, refused)  # the fuzzing reached both sides


# -- the handler -------------------------------------------------------------------------------------
ENV = function_environment(endpoint_url="http://127.0.0.1:9")


@pytest.fixture
def offline_handler(monkeypatch, tmp_path):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    for name in harness.NOT_IN_LAMBDA:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    return harness.load_handler("report_generator_handler_failures")


def _split(out):
    lines = [json.loads(line) for line in out.splitlines()]
    emf = [line for line in lines if "_aws" in line]
    return [line for line in lines if "_aws" not in line], emf


def _error_metric(emf):
    return [doc["ReportGenerationErrors"] for doc in emf if "ReportGenerationErrors" in doc]


def test_every_fuzzed_invocation_ends_in_one_line_per_run_and_a_failure_in_its_error_metric(
    offline_handler, load_event, capsys
):
    outcomes = set()
    for event in _fuzzed(load_event, 100, seed=3):
        context = harness.LambdaContext(
            harness.function_name("dev"), remaining_ms=20_000, region="eu-west-1"
        )
        try:
            offline_handler.handler(event, context)
            raised = None
        except ReportGeneratorError as e:
            raised = e
        logs, emf = _split(capsys.readouterr().out)

        runs = [line for line in logs if line["outcome"] not in ("ignored",)]
        records = event.get("Records") if isinstance(event, dict) else None
        assert logs, f"no log line for {event!r:.300}"
        if not isinstance(records, list) or not records:
            assert len(logs) == 1, logs  # a direct invocation: one line
        failed = [line for line in runs if line["level"] == "ERROR"]
        for line in failed:
            assert line["outcome"] == "failed" and line["errorType"] and line["error"]
        assert _error_metric(emf) == [1] * len(failed)
        assert (raised is not None) == bool(failed)
        outcomes.update(line["outcome"] for line in logs)
    assert {"ignored", "failed"} <= outcomes, outcomes


def test_a_misconfigured_function_also_counts_the_failure_in_its_error_metric(
    offline_handler, monkeypatch, capsys
):
    monkeypatch.setenv("ALERT_MAX_RESOURCES", "lots")

    with pytest.raises(ReportGeneratorError, match="ALERT_MAX_RESOURCES"):
        offline_handler.handler({"action": "generate-report"}, harness.LambdaContext())

    (line,), emf = _split(capsys.readouterr().out)
    assert line["level"] == "ERROR" and line["outcome"] == "failed"
    assert _error_metric(emf) == [1]
    assert emf[0]["Environment"] == "dev"
