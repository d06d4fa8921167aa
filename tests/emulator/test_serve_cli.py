"""``python -m tools.local_aws serve`` as a separate process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tools.local_aws.client import LocalAwsClient

ROOT = Path(__file__).resolve().parents[2]


def _serve(port_file):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tools.local_aws",
            "serve",
            "--port",
            "0",
            "--port-file",
            str(port_file),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_serve_writes_port_file_answers_and_stops_on_sigterm_or_sigint(tmp_path):
    # two servers at once (one per signal), so the slow moto import is paid once in wall time
    procs = {signal.SIGTERM: _serve(tmp_path / "term"), signal.SIGINT: _serve(tmp_path / "int")}
    try:
        for sig, proc in procs.items():
            port_file = tmp_path / ("term" if sig == signal.SIGTERM else "int")
            line = proc.stdout.readline()
            assert port_file.exists()
            port = int(port_file.read_text().strip())
            assert line.strip() == f"local_aws listening on http://127.0.0.1:{port}"
            assert LocalAwsClient(f"http://127.0.0.1:{port}").stats()["calls"] == {}
    finally:
        for sig, proc in procs.items():
            proc.send_signal(sig)
        codes = {sig: proc.wait(timeout=20) for sig, proc in procs.items()}
    assert codes == {signal.SIGTERM: 0, signal.SIGINT: 0}


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com"])  # noqa: S104
def test_serve_refuses_non_loopback_hosts(host):
    result = subprocess.run(
        [sys.executable, "-m", "tools.local_aws", "serve", "--host", host],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"--host {host!r}" in lines[0] and "loopback" in lines[0]
