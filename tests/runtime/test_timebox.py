"""GIVEN a window for AWS calls WHEN a call is slow, late or retried past it THEN the run stops waiting at
the window's end and botocore starts no attempt after it."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from compliance_report.errors import OutOfTime
from compliance_report.timebox import Timebox, refuse_late_attempts

from tests.runtime.offline import INTERNAL_ERROR, offline_s3, response


@pytest.fixture
def executor():
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield pool


def test_a_call_within_its_window_returns_its_answer(executor):
    box = Timebox(time.monotonic() + 30, executor)

    assert box.run("GetObject k", lambda a, b=0: a + b, 2, b=3) == 5


def test_no_call_starts_once_the_window_is_over(executor):
    box = Timebox(time.monotonic() - 0.001, executor)
    called = []

    with pytest.raises(OutOfTime, match="PutObject s3://b/k not started"):
        box.run("PutObject s3://b/k", called.append, 1)

    assert called == []


def test_a_call_still_running_at_the_windows_end_is_abandoned(executor):
    release = threading.Event()
    box = Timebox(time.monotonic() + 0.2, executor)

    with pytest.raises(OutOfTime, match="PutObject s3://b/k did not answer"):
        box.run("PutObject s3://b/k", release.wait, 30)

    assert not release.is_set(), "the run waited for the call instead of its window"
    release.set()


def _s3(max_attempts, answer):
    s3 = offline_s3(max_attempts, answer)
    s3.meta.events.register("request-created", refuse_late_attempts)
    return s3


def test_botocore_starts_no_retry_after_the_window():
    """The first attempt's 500 arrives after the window: the retry is refused before it is sent."""
    sent, boxes = [], []

    def answer(request, **_):
        sent.append(request.url)
        time.sleep(max(0.0, boxes[0].remaining_s()) + 0.01)
        return response(request, 500, INTERNAL_ERROR)

    s3 = _s3(10, answer)
    box = Timebox(time.monotonic() + 0.05)
    boxes.append(box)

    with pytest.raises(OutOfTime, match="not sent: the run's time for AWS calls ended"):
        box.run("GetObject s3://b/k", s3.get_object, Bucket="b", Key="k")

    assert len(sent) == 1


def test_a_call_outside_any_window_is_not_limited(executor):
    """The collection's reads run outside windows; a window that ended on another thread is not theirs."""
    s3 = _s3(1, lambda request, **_: response(request, 204))
    ended = Timebox(time.monotonic() + 0.01, executor)
    ended.run("HeadBucket", time.sleep, 0.0)
    time.sleep(0.02)

    answer = s3.delete_object(Bucket="b", Key="k")

    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
