"""Runs of the generator that can be paused or killed at one AWS call, for the chain's concurrency tests.

A run here is ``generate()`` (the runtime's own entry, as the handler calls it) with clients of its own,
signed as the function's role from the test's environment. A botocore hook on each of the run's clients
(``before-parameter-build``, which gets the call's own parameters) sees every AWS call the run makes,
paginated ones included, before it is sent:

* ``pause_at``: the first call matching a predicate blocks until the test lets it go, so another run can
  act while this one holds a claim (``Step.reached`` tells the test it is there);
* ``kill_at``: from the n-th call of the run on (counting the services in ``counted``), every call
  raises ``Killed``, a ``BaseException`` the runtime does not catch, as nothing of a run reaches AWS after
  Lambda stopped it: no release, no cleanup, the claim left to its lease.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from compliance_report.clients import Clients
from compliance_report.generator import Deadline, RunResult, generate
from compliance_report.settings import load_settings
from compliance_report.triggers import Trigger, parse_invocation

from lib.report_generator import local_harness as harness

ACCOUNT = harness.ACCOUNT


class Killed(BaseException):
    """The run was stopped at this call (Lambda killed it): nothing more of it reaches AWS."""


Call = tuple[str, str, dict[str, Any]]  # (service, operation, params)


@dataclass
class Step:
    """Where a run stops: pause at the first call ``matches``, or die from call number ``kill_at``."""

    matches: Callable[[Call], bool] | None = None
    kill_at: int | None = None
    counted: tuple[str, ...] = ("config", "s3", "sns", "ssm")
    reached: threading.Event = field(default_factory=threading.Event)
    go: threading.Event = field(default_factory=threading.Event)
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hook(self, service: str) -> Callable[..., None]:
        def before_build(params: dict[str, Any], model: Any, **_: Any) -> None:
            call = (service, model.name, params)
            with self._lock:
                self.calls.append(call)
                number = sum(1 for c in self.calls if c[0] in self.counted)
            if self.kill_at is not None and service in self.counted and number >= self.kill_at:
                self.reached.set()
                raise Killed(f"run killed at call {number}: {service}.{model.name}")
            if self.matches is not None and not self.reached.is_set() and self.matches(call):
                self.reached.set()
                if not self.go.wait(timeout=120):
                    raise Killed(f"{service}.{model.name} never released by the test")

        return before_build


def report_put(call: Call) -> bool:
    """The PUT of the report object: the run holds its claim and has not written yet."""
    service, operation, params = call
    return (service, operation) == ("s3", "PutObject") and str(params.get("Key", "")).startswith(
        "reports/"
    )


def clients_for(step: Step | None) -> Clients:
    """The four clients of one run, from the environment (the function's role), with ``step``."""
    settings = load_settings(os.environ)
    clients = Clients(settings.region, settings.max_attempts)
    if step is not None:
        for name in ("config", "s3", "sns", "ssm"):
            client = getattr(clients, name)
            client.meta.events.register_first("before-parameter-build", step.hook(name))
    return clients


def trigger_of(event: dict[str, Any], request_id: str = "req-steps") -> Trigger:
    invocation = parse_invocation(event, request_id, datetime.now(timezone.utc))
    if invocation.trigger is not None:
        return invocation.trigger
    (record,) = invocation.records
    assert record.trigger is not None, record.rejection
    return record.trigger


def run(
    trigger: Trigger,
    step: Step | None = None,
    remaining_ms: int = 60_000,
    skew: timedelta = timedelta(0),
) -> RunResult:
    """One run of the generator; ``skew``: how far the host's wall clock is off (the runtime's
    injected clock), which must change nothing but the report's date."""
    settings = load_settings(os.environ)
    return generate(
        trigger,
        settings,
        clients_for(step),
        ACCOUNT,
        Deadline.from_remaining(remaining_ms),
        clock=lambda: datetime.now(timezone.utc) + skew,
    )


class Background:
    """A run on its own thread; ``outcome()`` is its RunResult or the exception it ended with."""

    def __init__(self, target: Callable[[], RunResult]) -> None:
        self._result: Any = None
        self._thread = threading.Thread(target=self._run, args=(target,), daemon=True)
        self._thread.start()

    def _run(self, target: Callable[[], RunResult]) -> None:
        try:
            self._result = target()
        except BaseException as e:  # noqa: BLE001 (a killed or failed run is an outcome)
            self._result = e

    def outcome(self, timeout_s: float = 120) -> Any:
        self._thread.join(timeout=timeout_s)
        assert not self._thread.is_alive(), "the run did not end"
        return self._result
