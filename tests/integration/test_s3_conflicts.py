"""GIVEN S3 answering ``409 ConditionalRequestConflict`` to a conditional write, as S3 documents for a
conflicting operation during the upload ("On a 409 failure you should retry the upload": Amazon S3 API
Reference, PutObject If-None-Match / If-Match) WHEN the real handler claims the chain, writes its report or
swaps the head THEN the run retries and stores its report once.

The runtime does not retry a 409 today (issue 9 §3); these tests state the behaviour the fix must give and
are marked strict xfail until then.
"""

import threading
import time

import pytest

from tools.local_aws.uploads import SlowUpload, wait_in_progress

NOT_RETRIED = "issue 9 §3: S3 409 ConditionalRequestConflict on {} fails the run; it is not retried"


@pytest.mark.parametrize(
    ("prefix", "skip"),
    [
        pytest.param(
            "chain/head.json",
            0,
            id="claim",
            marks=pytest.mark.xfail(strict=True, reason=NOT_RETRIED.format("the claim")),
        ),
        pytest.param(
            "reports/",
            0,
            id="report-write",
            marks=pytest.mark.xfail(strict=True, reason=NOT_RETRIED.format("the report write")),
        ),
        pytest.param(
            "chain/head.json",
            1,
            id="head-swap",
            marks=pytest.mark.xfail(strict=True, reason=NOT_RETRIED.format("the head swap")),
        ),
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
    assert estate.head()["pending"] is None


@pytest.mark.xfail(
    strict=True,
    reason="issue 9 §3: a claim racing another write of chain/head.json gets 409 "
    "ConditionalRequestConflict, which fails the run; it is not retried",
)
def test_a_claim_racing_another_write_of_the_head_is_retried(
    estate, emulator, handler_module, context_factory, make_scheduled_event, verify_trail
):
    first = handler_module.handler(make_scheduled_event(), context_factory())
    head = estate.s3.get_object(Bucket=estate.BUCKET, Key="chain/head.json")
    body, etag = head["Body"].read(), head["ETag"]
    emulator.set_s3_conflicts(racing=True)
    # Another writer's compare-and-swap of the head (the same bytes) is in progress while the run
    # claims; it completes once the run has met the conflict.
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

    assert emulator.s3_conflicts()["raced"] >= 1, "the claim never met the write in progress"
    reports = verify_trail(estate)
    assert [r["chain"]["sequence"] for r in reports] == [0, 1]
    assert second["outcome"] == "stored" and second["sequence"] == first["sequence"] + 1
