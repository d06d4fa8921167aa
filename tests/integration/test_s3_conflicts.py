"""GIVEN S3 answering ``409 ConditionalRequestConflict`` to a write (a concurrent operation on the same
key; S3's documented answer is "retry") WHEN it hits the claim, the report, the trigger record or the
head swap THEN the run retries with backoff and stores its report once; a conflict that outlasts the
run's time fails the run cleanly.

The emulator's fault plan answers any error for ``s3.PutObject`` by key, which reaches the claim, the
report and the trigger record. The commit's head swap writes the same key as the claim, so it is reached
with a botocore hook instead (the nth write of the head answers 409), on the real clients and the
emulator behind them.
"""

import os
from datetime import datetime, timezone

import pytest
from botocore.awsrequest import AWSResponse
from compliance_report.clients import Clients
from compliance_report.errors import ReportWriteFailed
from compliance_report.generator import Deadline, generate
from compliance_report.settings import load_settings
from compliance_report.triggers import parse_invocation

from lib.report_generator import local_harness as harness

HEAD_KEY = "chain/head.json"
CONFLICT = {"error": "ConditionalRequestConflict", "status": 409}


@pytest.mark.parametrize(
    "write, match",
    [
        ("the claim (first write of the head)", {"Key": HEAD_KEY}),
        ("the report", {"Key": {"prefix": "reports/"}}),
        ("the trigger record", {"Key": {"prefix": "chain/triggers/"}}),
    ],
)
def test_a_409_on_a_write_is_retried_and_the_report_is_stored_once(
    estate,
    emulator,
    handler_module,
    context_factory,
    make_scheduled_event,
    verify_trail,
    write,
    match,
):
    estate.bucket("ledger-unencrypted", encrypted=False)
    emulator.set_faults(
        [{"service": "s3", "operation": "PutObject", "match": match, "count": 2, **CONFLICT}]
    )

    result = handler_module.handler(make_scheduled_event(), context_factory())

    fired = emulator.stats()["faults_fired"]
    assert sum(fired.values()) == 2, f"{write}: the conflict never reached it ({fired})"
    (report,) = verify_trail(estate)
    assert result["outcome"] == "stored" and report["chain"]["sequence"] == 0
    head = estate.head()
    assert head["pending"] is None and head["last"]["key"] == result["reportKey"]


def _conflict(request):
    class Raw:
        def stream(self, **_):
            yield (
                b"<Error><Code>ConditionalRequestConflict</Code><Message>A conflicting conditional "
                b"operation is currently in progress against this resource.</Message></Error>"
            )

    return AWSResponse(request.url, 409, {}, Raw())


class _Conflicts:
    """botocore ``before-send`` hook: answers 409 to the ``answered`` writes (1-based) of the keys
    ``path_part`` names; every other request goes to the emulator."""

    def __init__(self, path_part, answered):
        self.path_part, self.answered, self.writes = path_part, answered, 0

    def __call__(self, request, **_):
        if request.method != "PUT" or self.path_part not in request.url.split("?")[0]:
            return None
        self.writes += 1
        return _conflict(request) if self.writes in self.answered else None


def _generate(remaining_ms, conflicts):
    """One run through generate() on fresh clients carrying the hook (the handler's are cached)."""
    settings = load_settings(os.environ)
    clients = Clients(settings.region, settings.max_attempts)
    clients.s3.meta.events.register("before-send.s3.PutObject", conflicts)
    event = harness.scheduled_event("2026-11-26T06:00:00Z", suffix="test")
    trigger = parse_invocation(event, "req-1", datetime.now(timezone.utc)).trigger
    return generate(
        trigger, settings, clients, harness.ACCOUNT, Deadline.from_remaining(remaining_ms)
    )


def test_a_409_on_the_commits_head_swap_is_retried(estate, verify_trail):
    conflicts = _Conflicts("/" + HEAD_KEY, answered={2, 3})  # write 1 claims, 2 and 3 commit

    result = _generate(60_000, conflicts)

    assert conflicts.writes == 4
    (report,) = verify_trail(estate)
    assert result.outcome == "stored" and report["chain"]["sequence"] == 0
    head = estate.head()
    assert head["last"]["key"] == result.key and head["pending"] is None


def test_a_conflict_that_outlasts_the_run_fails_it_and_releases_the_claim(estate, verify_trail):
    conflicts = _Conflicts("/reports/", answered=range(1, 1_000_000))

    with pytest.raises(ReportWriteFailed, match="ConditionalRequestConflict"):
        _generate(5_000, conflicts)

    assert conflicts.writes > 2, "the conflict was not retried"
    assert verify_trail(estate) == []
    assert estate.head()["pending"] is None, "the claim was not released"
