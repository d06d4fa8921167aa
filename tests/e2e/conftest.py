"""End-to-end: `python -m demo.run` for real (emulator, report generator handler, release auditor).

One shortened demo per test session (per xdist worker): 10 simulated days against an emulator this
fixture owns, so after the demo has finished the tests can still read the bucket and ask the emulator
what it published. The demo enforces the IAM policies of the stack synthesized from this checkout for
the suffix (``tools/local_aws/deployment.py``, passed as ``--template``), so its report generator and
daily evaluation run as their roles. The release auditor is built once (``cargo build --release
--locked``).
"""

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from demo import auditor as auditor_mod
from demo.run import last_complete_quarter, quarter_bounds
from demo.scenario import Scenario
from tools.local_aws.client import LocalAwsProcess, spawn
from tools.local_aws.deployment import for_suffix

REPO = Path(__file__).resolve().parents[2]

DAYS = 10
SEED = 2026
SUFFIX = "e2e"


def demo_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "demo.run", *args]


def demo_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(REPO)
    env["PYTHONUNBUFFERED"] = "1"
    env["JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION"] = "1"
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "1"
    return env


class DemoCli:
    """How the tests start ``python -m demo.run``: from the repository root, no AWS_* variables."""

    repo = REPO
    command = staticmethod(demo_command)
    env = staticmethod(demo_env)


@pytest.fixture(scope="session")
def demo_cli() -> DemoCli:
    return DemoCli()


@dataclass
class DemoRun:
    days: int
    suffix: str
    out: Path
    returncode: int
    stdout: str
    stderr: str
    emulator: LocalAwsProcess
    binary: Path
    scenario: Scenario
    quarter: str
    report_bucket: str  # the stack's physical name for the suffix


@pytest.fixture(scope="session")
def auditor_binary() -> Path:
    """The release auditor, built here unless AUDITOR_BINARY names one already built."""
    given = os.environ.get("AUDITOR_BINARY")
    return Path(given) if given else auditor_mod.build()


@pytest.fixture(scope="session")
def quarter() -> str:
    return last_complete_quarter(datetime.now(timezone.utc).date())


@pytest.fixture(scope="session")
def short_demo(tmp_path_factory, auditor_binary, quarter) -> DemoRun:
    deployment = for_suffix(SUFFIX)
    state = tmp_path_factory.mktemp("demo-emulator")
    emulator = spawn(log_path=state / "emulator.log")
    try:
        out = tmp_path_factory.mktemp("demo-output")
        proc = subprocess.run(
            demo_command(
                "--days",
                str(DAYS),
                "--quarter",
                quarter,
                "--seed",
                str(SEED),
                "--suffix",
                SUFFIX,
                "--out",
                str(out),
                "--endpoint-url",
                emulator.endpoint_url,
                "--auditor",
                str(auditor_binary),
                "--template",
                deployment.template,
            ),
            cwd=str(REPO),
            env=demo_env(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        start, _ = quarter_bounds(quarter)
        yield DemoRun(
            DAYS,
            SUFFIX,
            out,
            proc.returncode,
            proc.stdout,
            proc.stderr,
            emulator,
            auditor_binary,
            Scenario.build(start, DAYS, SEED),
            quarter,
            deployment.report_bucket,
        )
    finally:
        emulator.stop()
