"""Fault plan: latency on every AWS call and error rules that fire by service, operation and
parameters.

A plan replaces the previous one as a whole (``POST /_local_aws/faults``). Rules are tried in order;
the first rule that matches the call and wins its coin toss (probability ``rate`` from a RNG seeded
by ``seed``) answers the call with its error, at most ``count`` times (``None`` = no limit).
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass
from typing import Any

from .calls import AwsCall
from .clock import ControlError

_ERROR_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,127}$")
_MAX_LATENCY_MS = 60_000


@dataclass
class FaultRule:
    service: str
    operation: str
    match: dict[str, str | tuple[str]]  # exact text, or ("prefix",) tuple holding a prefix
    error: str
    status: int
    message: str
    rate: float
    count: int | None
    fired: int = 0

    def matches(self, call: AwsCall) -> bool:
        if self.service != call.service:
            return False
        if self.operation not in ("*", call.operation):
            return False
        for name, wanted in self.match.items():
            actual = call.params.get(name)
            if actual is None:
                return False
            values = (
                [_as_text(item) for item in actual]
                if isinstance(actual, list)
                else [_as_text(actual)]
            )
            if isinstance(wanted, tuple):
                if not any(value.startswith(wanted[0]) for value in values):
                    return False
            elif wanted not in values:
                return False
        return True

    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count

    def describe(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "operation": self.operation,
            "match": {
                k: ({"prefix": v[0]} if isinstance(v, tuple) else v) for k, v in self.match.items()
            },
            "error": self.error,
            "status": self.status,
            "message": self.message,
            "rate": self.rate,
            "count": self.count,
            "fired": self.fired,
        }


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_keys(obj: dict[str, Any], allowed: set[str], where: str) -> None:
    for key in obj:
        if key not in allowed:
            raise ControlError(
                f"{where}{key}: unknown field (allowed: {', '.join(sorted(allowed))})"
            )


def parse_rule(raw: Any, where: str) -> FaultRule:
    if not isinstance(raw, dict):
        raise ControlError(f"{where}: must be an object")
    _check_keys(
        raw,
        {"service", "operation", "match", "error", "status", "message", "rate", "count"},
        f"{where}.",
    )
    service = raw.get("service")
    if not isinstance(service, str) or not service:
        raise ControlError(f'{where}.service: required, a non-empty string such as "config"')
    operation = raw.get("operation")
    if not isinstance(operation, str) or not operation:
        raise ControlError(f'{where}.operation: required, an operation name or "*"')
    match = raw.get("match") or {}
    if not isinstance(match, dict):
        raise ControlError(f"{where}.match: must be an object of parameter name to value")
    parsed: dict[str, str | tuple[str]] = {}
    for name, value in match.items():
        if isinstance(value, dict):
            if set(value) != {"prefix"} or not isinstance(value["prefix"], str):
                raise ControlError(
                    f'{where}.match.{name}: an object must be exactly {{"prefix": "..."}}'
                )
            parsed[str(name)] = (value["prefix"],)
        elif isinstance(value, (str, int, float, bool)):
            parsed[str(name)] = _as_text(value)
        else:
            raise ControlError(
                f'{where}.match.{name}: must be a string, number, boolean or {{"prefix": ...}}'
            )
    error = raw.get("error")
    if not isinstance(error, str) or not _ERROR_CODE.match(error):
        raise ControlError(
            f'{where}.error: required, an AWS error code such as "ThrottlingException"'
        )
    status = raw.get("status", 400)
    if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
        raise ControlError(f"{where}.status: must be an integer HTTP status from 400 to 599")
    message = raw.get("message", f"Injected fault: {error}")
    if not isinstance(message, str):
        raise ControlError(f"{where}.message: must be a string")
    rate = raw.get("rate", 1.0)
    if not _number(rate) or not 0.0 <= rate <= 1.0:
        raise ControlError(f"{where}.rate: must be a number from 0 to 1")
    count = raw.get("count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise ControlError(f"{where}.count: must be null (no limit) or an integer >= 1")
    return FaultRule(
        service=service.lower(),
        operation=operation,
        match=parsed,
        error=error,
        status=status,
        message=message,
        rate=float(rate),
        count=count,
    )


class FaultPlan:
    """The active plan; thread-safe. Latency is read here but slept by the caller."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latency_s = 0.0
        self._rules: list[FaultRule] = []
        self._rng = random.Random()  # noqa: S311 (fault sampling, not cryptography)
        self._seed: int | None = None

    def replace(self, body: Any) -> None:
        """Validate a whole plan, then install it; a bad plan leaves the current one untouched."""
        if not isinstance(body, dict):
            raise ControlError("body: must be a JSON object with latency_ms, seed and rules")
        _check_keys(body, {"latency_ms", "seed", "rules"}, "")
        latency = body.get("latency_ms", 0)
        if latency is None:
            latency = 0
        if not _number(latency) or not 0 <= latency <= _MAX_LATENCY_MS:
            raise ControlError(f"latency_ms: must be a number from 0 to {_MAX_LATENCY_MS}")
        seed = body.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise ControlError("seed: must be null or an integer")
        raw_rules = body.get("rules", [])
        if raw_rules is None:
            raw_rules = []
        if not isinstance(raw_rules, list):
            raise ControlError("rules: must be a list of fault rules")
        rules = [parse_rule(raw, f"rules[{i}]") for i, raw in enumerate(raw_rules)]
        with self._lock:
            self._latency_s = float(latency) / 1000.0
            self._rules = rules
            self._seed = seed
            self._rng = random.Random(seed)  # noqa: S311

    def clear(self) -> None:
        with self._lock:
            self._latency_s = 0.0
            self._rules = []
            self._seed = None
            self._rng = random.Random()  # noqa: S311

    @property
    def latency_s(self) -> float:
        with self._lock:
            return self._latency_s

    def pick(self, call: AwsCall) -> FaultRule | None:
        """The rule that fires for this call, if any; counts the firing."""
        with self._lock:
            for rule in self._rules:
                if rule.exhausted() or not rule.matches(call):
                    continue
                if rule.rate < 1.0 and self._rng.random() >= rule.rate:
                    continue
                rule.fired += 1
                return rule
        return None

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency_ms": self._latency_s * 1000.0,
                "seed": self._seed,
                "rules": [rule.describe() for rule in self._rules],
            }
