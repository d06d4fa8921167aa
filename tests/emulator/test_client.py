"""The emulator's one client (tools/local_aws/client.py): every control route has a method, it needs
nothing outside the standard library, and ``spawn()`` never leaves an emulator behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tools.local_aws.client import LocalAwsClient, LocalAwsError, LocalAwsProcess, spawn

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


def _wait_gone(pid: int, timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_every_control_route_has_exactly_one_client_method(aws):
    server = set(aws.app.control.routes)

    client = LocalAwsClient.routes()

    assert server - client == set(), f"control routes without a client method: {server - client}"
    assert client - server == set(), f"client methods without a control route: {client - server}"


def test_each_client_method_calls_its_own_route(aws, clients):
    # A route the client calls with the wrong method would answer 405; these reach their handlers.
    assert aws.health() == {"ok": True}
    assert aws.set_clock("2026-07-01T06:00:00Z")["fixed"] is True
    assert aws.clock() == {"now": "2026-07-01T06:00:00Z", "fixed": True}
    assert aws.set_faults([], latency_ms=5)["latency_ms"] == 5
    assert aws.faults()["latency_ms"] == 5
    assert aws.clear_faults()["latency_ms"] == 0
    assert aws.reset_stats()["calls"] == {}
    with pytest.raises(LocalAwsError) as refused:
        aws.set_rule_failure("no-such-rule")
    assert refused.value.status == 400
    assert str(refused.value) == (
        "POST /_local_aws/config/rule-failure: ruleName: no Config rule named 'no-such-rule' "
        "in 123456789012/us-east-1"
    )
    with pytest.raises(LocalAwsError, match="region: must be an AWS region name"):
        aws.load_synthetic("rule", "AWS::S3::Bucket", region="mars")


def test_the_client_imports_only_the_standard_library():
    probe = (
        "import sys; before = set(sys.modules); import tools.local_aws.client; "
        "print('\\n'.join(sorted(set(sys.modules) - before)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()

    outside = [
        m
        for m in loaded
        if m.split(".")[0] not in sys.stdlib_module_names and m.split(".")[0] != "tools"
    ]
    assert outside == []
    assert "tools.local_aws.client" in loaded


def test_an_unreachable_emulator_is_one_error_naming_the_endpoint():
    with pytest.raises(LocalAwsError, match=r"^http://127\.0\.0\.1:9: emulator not reachable"):
        LocalAwsClient("http://127.0.0.1:9", timeout_s=2).health()


def test_spawn_answers_on_a_free_port_and_stop_is_idempotent(tmp_path):
    log = tmp_path / "emulator.log"

    with spawn(log_path=log) as aws:
        pid = aws.pid
        assert aws.health() == {"ok": True}
        assert aws.endpoint_url.startswith("http://127.0.0.1:")
        aws.stop()
        aws.stop()
        assert _wait_gone(pid)
    assert "local_aws listening on " + aws.endpoint_url in log.read_text()
    with pytest.raises(LocalAwsError, match="not reachable"):
        LocalAwsClient(aws.endpoint_url, timeout_s=2).health()


def test_spawn_reports_an_emulator_that_exits_before_listening(tmp_path):
    log = tmp_path / "emulator.log"

    with pytest.raises(LocalAwsError, match=r"exited with status 2 before listening \(see "):
        spawn(host="192.0.2.1", log_path=log)  # not loopback: serve refuses it

    assert "must be a loopback address" in log.read_text()


def test_stop_kills_an_emulator_that_ignores_sigterm():
    ignoring = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ready', flush=True); time.sleep(120)",
        ],
        stdout=subprocess.PIPE,
    )
    assert ignoring.stdout.readline() == b"ready\n"
    handle = LocalAwsProcess(
        ignoring, "http://127.0.0.1:9", Path(tempfile.mkdtemp()), None, grace_s=0.5
    )

    handle.stop()

    assert ignoring.returncode == -signal.SIGKILL


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_an_emulator_dies_with_a_parent_killed_without_cleanup(tmp_path):
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import json, time; from tools.local_aws.client import spawn; aws = spawn(); "
            "print(json.dumps({'pid': aws.pid}), flush=True); time.sleep(120)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    try:
        emulator = json.loads(parent.stdout.readline())["pid"]
        assert _alive(emulator)

        parent.kill()  # SIGKILL: no finally block, no atexit in the parent runs
        parent.wait(timeout=10)

        assert _wait_gone(emulator), f"emulator {emulator} outlived its killed parent"
    finally:
        parent.kill()
