"""Per-operation call counters (``service.Operation``) and counts of injected faults."""

from __future__ import annotations

import threading
from collections import Counter


class CallStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()

    def record_call(self, key: str) -> None:
        with self._lock:
            self._calls[key] += 1

    def record_fault(self, key: str) -> None:
        with self._lock:
            self._faults[key] += 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {"calls": dict(sorted(self._calls.items())), "faults_fired": dict(sorted(self._faults.items()))}

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._faults.clear()
