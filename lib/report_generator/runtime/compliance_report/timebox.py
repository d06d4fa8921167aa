"""Time limits for the AWS calls of a run: none may outlast the time Lambda gives the function.

botocore bounds one attempt by its socket timeouts (clients.py: 3 s to connect, 15 s to read) and a call
by its attempts; neither knows how long the function has left. Near the deadline a slow S3 would keep a
PUT, or its retries, running until Lambda stops the function mid-commit: no log line, no metric, and
the claim left to its lease. So each call of the chain store and the alert runs in a window that ends
before the deadline (``generator.Deadline``):

* the call runs on a worker thread, and the run waits for it at most until its window ends. A call still
  running then is abandoned and the run fails with ``OutOfTime``. Its outcome is unknown, which the
  chain already tolerates: every head write is a compare-and-swap, a trigger record only ever says what
  is true of a stored report, and a claim whose report may have landed is left to its lease (chain.py);
* a botocore hook (``request-created``, which precedes every attempt) refuses to start an attempt on a
  thread whose window is over, so an abandoned call stops at its next attempt instead of retrying on.
"""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import Executor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Callable, TypeVar

from .errors import OutOfTime

T = TypeVar("T")
_window = threading.local()  # .until: the window of the call running on this thread, if any


def refuse_late_attempts(request: Any, **_: Any) -> None:
    """botocore ``request-created`` hook: no attempt starts after the calling thread's window."""
    until = getattr(_window, "until", None)
    if until is not None and time.monotonic() >= until:
        late_ms = (time.monotonic() - until) * 1000
        raise OutOfTime(
            f"{request.method} {request.url.split('?')[0][:200]} not sent: the run's time for AWS "
            f"calls ended {late_ms:.0f} ms ago"
        )


class Timebox:
    """Runs AWS calls so that none outlasts ``until`` (``time.monotonic()``).

    With an ``executor`` a call that is still running at ``until`` is abandoned; without one (tests
    that need no deadline) calls run on the caller's thread and only the attempt hook applies.
    """

    def __init__(self, until: float, executor: Executor | None = None) -> None:
        self.until = until
        self._executor = executor

    @staticmethod
    def unlimited() -> Timebox:
        return Timebox(math.inf)

    def remaining_s(self) -> float:
        return self.until - time.monotonic()

    def run(self, what: str, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``call(*args, **kwargs)`` within the window; OutOfTime (naming ``what``) otherwise."""
        left = self.remaining_s()
        if left <= 0:
            raise OutOfTime(f"{what} not started: the run's time for AWS calls is over")
        if self._executor is None or math.isinf(left):
            return self._within(call, args, kwargs)
        future = self._executor.submit(self._within, call, args, kwargs)
        try:
            return future.result(timeout=left)
        except FutureTimeout:
            raise OutOfTime(
                f"{what} did not answer within the {left:.1f} s left for AWS calls"
            ) from None

    def _within(self, call: Callable[..., T], args: Any, kwargs: Any) -> T:
        previous = getattr(_window, "until", None)
        _window.until = self.until
        try:
            return call(*args, **kwargs)
        finally:
            _window.until = previous
