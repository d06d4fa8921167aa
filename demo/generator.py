"""Run the real report generator Lambda handler in this process, against the emulator, on a simulated day.

The handler, its Lambda context, the scheduled event and the function's environment come from the local
harness (``lib/report_generator/local_harness.py``), as the tests get them. What differs from Lambda is
the wall clock: a report must carry the simulated day, so the handler's ``generate`` is given a clock that
starts at the simulated instant and advances with real time (``generate(..., clock=...)`` is the runtime's
own seam for this). Everything else, including the trigger time, comes from the scheduled event the demo
sends, as EventBridge would.

The handler's structured log lines and EMF metrics (stdout under Lambda) go to a log file.
"""

from __future__ import annotations

import contextlib
import functools
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, TextIO

from lib.report_generator import local_harness as harness

# Namespace of the demo's scheduled-event ids: a rerun of the same day yields the same trigger id.
EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://compliance-audit.invalid/demo/schedule")


class SimulatedSchedule:
    """The daily schedule of the simulated quarter: ``run_day`` is one scheduled invocation of the
    handler, with the function's environment and a clock set to that day."""

    def __init__(
        self,
        env: dict[str, str],
        suffix: str,
        seed: int,
        log: TextIO,
        account: str | None = None,
        region: str = harness.REGION,
    ) -> None:
        """``account`` and ``region``: the member account and region the function runs in (the
        organization demo); default the emulator's account, as the single-account stack."""
        self.env = env
        self.suffix = suffix
        self.seed = seed
        self.log = log
        self.account = account
        self.region = region
        self.module = harness.load_handler("demo_report_generator")
        self._generate = self.module.generate

    def run_day(self, instant: datetime) -> dict[str, Any]:
        """Invoke the handler with the day's scheduled event; returns the handler's result."""
        started = time.monotonic()

        def clock() -> datetime:
            return instant.astimezone(timezone.utc) + timedelta(seconds=time.monotonic() - started)

        text = instant.strftime("%Y-%m-%dT%H:%M:%SZ")
        account = self.account or harness.ACCOUNT
        trail = "" if self.account is None else f"{account}/{self.region}/"
        event_id = str(uuid.uuid5(EVENT_NAMESPACE, f"{self.seed}/{trail}{text}"))
        event = harness.scheduled_event(
            instant, event_id, suffix=self.suffix, account=account, region=self.region
        )
        context = harness.LambdaContext(
            harness.function_name(self.suffix), account=account, region=self.region
        )
        self.module.generate = functools.partial(self._generate, clock=clock)
        try:
            with harness.environment(self.env), contextlib.redirect_stdout(self.log):
                return self.module.handler(event, context)
        finally:
            self.module.generate = self._generate
            self.log.flush()
