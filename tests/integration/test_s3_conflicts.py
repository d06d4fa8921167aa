"""GIVEN S3 answering ``409 ConditionalRequestConflict`` to a write, as S3 documents for a conflicting
operation during the upload ("On a 409 failure you should retry the upload": Amazon S3 API Reference,
PutObject If-None-Match / If-Match) WHEN the real handler claims the chain, writes its report, writes the
trigger record or swaps the head THEN the run retries and stores its report once; a conflict that
outlasts the run's time for AWS calls fails the run cleanly.

The emulator answers the 409s: its conditional-write conflicts (``set_s3_conflicts``: by prefix, after
``skip`` writes, or when a write races another of the same key), and its fault plan for the trigger
record, the one unconditional write.
"""

import threading
import time

import pytest
from compliance_report.errors import ReportWriteFailed

from tools.local_aws.uploads import SlowUpload, wait_in_progress


@pytest.mark.parametrize(
    ("prefix", "skip"),
    [
        pytest.param("chain/claims/", 0, id="claim"),
        pytest.param("reports/", 0, id="report-write"),
        pytest.param("chain/head.json", 0, id="head-swap"),
    ],
)
def test_one_conflict_on_a_conditional_write_is_retried(
    estate,
    emulator,
    handler_module,
    context_factory,
    make_scheduled_event,
    verify_trail,
    prefix,
    skip,
):
    emulator.set_s3_conflicts(prefix=prefix, bucket=estate.BUCKET, skip=skip, count=1)

    result = handler_module.handler(make_scheduled_event(), context_factory())

    assert emulator.s3_conflicts()["inject"]["fired"] == 1, "no 409 was answered: proves nothing"
    (report,) = verify_trail(estate)
    assert result["outcome"] == "stored" and report["chain"]["sequence"] == 0
    assert estate.head()["last"]["key"] == result["reportKey"]


def test_conflicts_on_the_trigger_record_are_retried(
    estate, emulator, handler_module, context_factory, make_scheduled_event, verify_trail
):
    emulator.set_faults(
        [
            {
                "service": "s3",
                "operation": "PutObject",
                "match": {"Key": {"prefix": "chain/triggers/"}},
                "error": "ConditionalRequestConflict",
                "status": 409,
                "count": 2,
            }
        ]
    )

    result = handler_module.handler(make_scheduled_event(), context_factory())

    assert emulator.stats()["faults_fired"] == {"s3.PutObject": 2}
    (report,) = verify_trail(estate)
    assert result["outcome"] == "stored" and report["chain"]["sequence"] == 0
    assert estate.head()["last"]["key"] == result["reportKey"]


def test_a_conflict_that_outlasts_the_run_fails_it_and_releases_the_claim(
    estate, emulator, handler_module, context_factory, make_scheduled_event, verify_trail
):
    emulator.set_s3_conflicts(prefix="reports/", bucket=estate.BUCKET)  # every report write
    context = context_factory(remaining_ms=5_000)

    with pytest.raises(ReportWriteFailed, match="ConditionalRequestConflict"):
        handler_module.handler(make_scheduled_event(), context)

    assert context.get_remaining_time_in_millis() > 0, "the run outlived its Lambda deadline"
    assert emulator.s3_conflicts()["inject"]["fired"] > 2, "the conflict was not retried"
    emulator.clear_s3_conflicts()
    assert verify_trail(estate) == []
    assert estate.claim(0)["released"] is True, "the claim was not released"


def test_a_head_update_racing_another_write_of_the_head_is_retried(
    estate, emulator, handler_module, context_factory, make_scheduled_event, verify_trail
):
    first = handler_module.handler(make_scheduled_event(), context_factory())
    head = estate.s3.get_object(Bucket=estate.BUCKET, Key="chain/head.json")
    body, etag = head["Body"].read(), head["ETag"]
    emulator.set_s3_conflicts(racing=True)
    # Another writer's compare-and-swap of the head (the same bytes) is in progress while the run
    # moves the head; it completes once the run has met the conflict.
    slow = SlowUpload(emulator.endpoint_url, estate.BUCKET, "chain/head.json", body, if_match=etag)
    wait_in_progress(emulator, estate.BUCKET, "chain/head.json")

    def finish_after_the_race():
        deadline = time.monotonic() + 60
        while emulator.s3_conflicts()["raced"] < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        slow.finish()

    other = threading.Thread(target=finish_after_the_race)
    other.start()
    try:
        second = handler_module.handler(make_scheduled_event(), context_factory())
    finally:
        other.join(timeout=90)

    assert emulator.s3_conflicts()["raced"] >= 1, "the head never met the write in progress"
    reports = verify_trail(estate)
    assert [r["chain"]["sequence"] for r in reports] == [0, 1]
    assert second["outcome"] == "stored" and second["sequence"] == first["sequence"] + 1
    assert estate.head()["last"]["key"] == second["reportKey"]
