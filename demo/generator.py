"""Run the real report generator Lambda handler in this process, against the emulator, on a simulated day.

The handler is loaded from ``lib/report_generator/runtime/handler.py`` exactly as Lambda loads it, with the
environment variables the stack sets on the function and a Lambda context whose function ARN names the
emulator's account. What differs from Lambda is the wall clock: a report must carry the simulated day, so
the handler's ``generate`` is given a clock that starts at the simulated instant and advances with real
time (``generate(..., clock=...)`` is the runtime's own seam for this). Everything else, including the
trigger time, comes from the scheduled event the demo sends, as EventBridge would.

The handler's structured log lines and EMF metrics (stdout under Lambda) go to a log file.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

REPO = Path(__file__).resolve().parents[1]
RUNTIME = REPO / "lib" / "report_generator" / "runtime"
ACCOUNT = "123456789012"
REGION = "us-east-1"
LAMBDA_TIMEOUT_MS = 300_000
# Namespace of the demo's scheduled-event ids: a rerun of the same day yields the same trigger id.
EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://compliance-audit.invalid/demo/schedule")


class LambdaContext:
    """The parts of the Lambda context object the generator reads."""

    def __init__(self, function_name: str, timeout_ms: int = LAMBDA_TIMEOUT_MS) -> None:
        self.function_name = function_name
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + timeout_ms / 1000.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def scheduled_event(instant: datetime, seed: int, rule_arn: str) -> dict[str, Any]:
    """The EventBridge scheduled event of one day, as the daily schedule would deliver it."""
    text = instant.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": str(uuid.uuid5(EVENT_NAMESPACE, f"{seed}/{text}")),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": text,
        "region": REGION,
        "resources": [rule_arn],
        "detail": {},
    }


def load_handler() -> ModuleType:
    """A private instance of the handler module (its module-level client cache is the demo's own)."""
    if str(RUNTIME) not in sys.path:
        sys.path.insert(0, str(RUNTIME))
    spec = importlib.util.spec_from_file_location("demo_report_generator", RUNTIME / "handler.py")
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load the report generator handler from {RUNTIME}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def environment(values: dict[str, str], remove: tuple[str, ...] = ()) -> Iterator[None]:
    """Set environment variables for the block and restore the previous values afterwards."""
    saved = {name: os.environ.get(name) for name in (*values, *remove)}
    try:
        for name in remove:
            os.environ.pop(name, None)
        os.environ.update(values)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class ReportGenerator:
    """The handler plus what Lambda would give it; ``run_day`` is one scheduled invocation."""

    def __init__(self, env: dict[str, str], function_name: str, seed: int, log: TextIO) -> None:
        self.env = env
        self.function_name = function_name
        self.seed = seed
        self.log = log
        self.module = load_handler()
        self._generate = self.module.generate
        suffix = env["ENVIRONMENT_SUFFIX"]
        self.rule_arn = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/compliance-daily-report-{suffix}"

    def run_day(self, instant: datetime) -> dict[str, Any]:
        """Invoke the handler with the day's scheduled event; returns the handler's result."""
        started = time.monotonic()

        def clock() -> datetime:
            return instant.astimezone(timezone.utc) + timedelta(seconds=time.monotonic() - started)

        event = scheduled_event(instant, self.seed, self.rule_arn)
        context = LambdaContext(self.function_name)
        self.module.generate = functools.partial(self._generate, clock=clock)
        try:
            with environment(self.env, remove=("AWS_PROFILE", "AWS_SESSION_TOKEN")):
                with contextlib.redirect_stdout(self.log):
                    return self.module.handler(event, context)
        finally:
            self.module.generate = self._generate
            self.log.flush()
