"""The local AWS emulator as a child process: started on a free loopback port, always stopped.

``python -m tools.local_aws serve --port 0 --port-file F`` runs in its own process so its moto backends
do not share the demo's interpreter (and its GIL) with the report generator. The child is stopped by
``stop()`` (SIGTERM, then SIGKILL after 10 s) from a ``finally`` block, so a failure or Ctrl-C in the demo
stops it; on Linux the kernel also sends it SIGTERM if the demo itself dies without running its cleanup
(``PR_SET_PDEATHSIG``), so no emulator outlives the demo.
"""

from __future__ import annotations

import ctypes
import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CONTROL = "/_local_aws/"
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # not glibc Linux: the demo's own cleanup still stops the child


class EmulatorError(RuntimeError):
    pass


class Emulator:
    """A client of the emulator's control API; owns the child process when it started one."""

    def __init__(self, endpoint_url: str, process: subprocess.Popen[bytes] | None = None) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.process = process

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    @classmethod
    def start(cls, state_dir: Path, log_path: Path, timeout_s: float = 60.0) -> Emulator:
        port_file = state_dir / "local_aws.port"
        port_file.unlink(missing_ok=True)
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "tools.local_aws", "serve", "--host", "127.0.0.1"]
                + ["--port", "0", "--port-file", str(port_file)],
                cwd=str(REPO),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        emulator = cls("http://127.0.0.1:0", process)
        try:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise EmulatorError(
                        f"the emulator exited with status {process.returncode} before listening "
                        f"(see {log_path})"
                    )
                text = port_file.read_text().strip() if port_file.exists() else ""
                if text:
                    emulator.endpoint_url = f"http://127.0.0.1:{int(text)}"
                    emulator.control("GET", "health")
                    return emulator
                time.sleep(0.05)
            raise EmulatorError(
                f"the emulator did not listen within {timeout_s:.0f} s (see {log_path})"
            )
        except BaseException:
            emulator.stop()
            raise

    def stop(self) -> None:
        """Stop the child (idempotent); SIGKILL when it ignores SIGTERM for 10 s."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    # -- control API -----------------------------------------------------------------------------------
    def control(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (always http://127.0.0.1:<port>)
            f"{self.endpoint_url}{CONTROL}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                raw = answer.read()
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace")
            raise EmulatorError(f"{method} {CONTROL}{path}: {detail.strip()}") from None
        except (urllib.error.URLError, OSError) as e:
            raise EmulatorError(f"{self.endpoint_url}: emulator not reachable ({e})") from None
        return json.loads(raw) if raw else None

    def set_clock(self, now: str | None) -> None:
        self.control("POST", "clock", {"now": now})

    def set_alert_topic(self, topic_arn: str, rule_names: list[str] | None = None) -> None:
        self.control("POST", "config/alert-topic", {"topicArn": topic_arn, "ruleNames": rule_names})

    def alert_topic(self) -> dict[str, Any]:
        return self.control("GET", "config/alert-topic")
