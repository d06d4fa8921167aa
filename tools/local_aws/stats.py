"""Call counters per ``service.Operation``, injected-fault counts and peak concurrency."""

from __future__ import annotations

import threading
from collections import Counter


class CallStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._in_flight = 0
        self._in_flight_max = 0

    def record_call(self, key: str) -> None:
        with self._lock:
            self._calls[key] += 1

    def enter(self) -> None:
        """An AWS call started; tracks the most calls ever served at once (shows calls overlap)."""
        with self._lock:
            self._in_flight += 1
            self._in_flight_max = max(self._in_flight_max, self._in_flight)

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def record_fault(self, key: str) -> None:
        with self._lock:
            self._faults[key] += 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {
                "calls": dict(sorted(self._calls.items())),
                "faults_fired": dict(sorted(self._faults.items())),
                "in_flight_max": self._in_flight_max,
            }

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._faults.clear()
            self._in_flight_max = self._in_flight
