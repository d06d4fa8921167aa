"""Build and run the Rust ``auditor`` against the emulator's S3 API (or a local folder)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CRATE = REPO / "auditor"
RELEASE_BINARY = CRATE / "target" / "release" / "auditor"


class AuditorError(RuntimeError):
    pass


@dataclass
class Run:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def build(cargo: str | None = None) -> Path:
    """``cargo build --release --locked``: a no-op when the binary is up to date."""
    cargo = cargo or os.environ.get("CARGO", "cargo")
    if shutil.which(cargo) is None:
        raise AuditorError(
            f"{cargo}: not found; install Rust (https://rustup.rs) or pass --auditor PATH"
        )
    proc = subprocess.run(
        [cargo, "build", "--release", "--locked", "--quiet", "--bin", "auditor"],
        cwd=str(CRATE),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0 or not RELEASE_BINARY.exists():
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        raise AuditorError(f"cargo build --release in {CRATE} failed: {tail}")
    return RELEASE_BINARY


class Auditor:
    """The auditor CLI against the emulator. ``as_of`` is "now" for verify and timeline: the demo's
    trail ends on the simulation's last day, and the auditor reports a trail whose newest report is
    older than the allowed gap as evidence missing, as it must for a real bucket."""

    def __init__(
        self, binary: Path, endpoint_url: str | None = None, as_of: date | None = None
    ) -> None:
        self.as_of = as_of
        if not binary.is_file() or not os.access(binary, os.X_OK):
            raise AuditorError(f"{binary}: not an executable auditor binary")
        self.binary = binary
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith("AWS_")
        }  # no profile, role or real credentials leak into the demo
        self.env.update(
            {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",  # noqa: S105 (the emulator's dummy credentials)
                "AWS_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        if endpoint_url:
            self.env["AWS_ENDPOINT_URL"] = endpoint_url

    def run(self, *args: str) -> Run:
        argv = [str(self.binary), *args]
        if self.as_of is not None and args and args[0] in ("verify", "timeline"):
            argv += ["--as-of", self.as_of.isoformat()]
        proc = subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=600)
        if proc.returncode not in (0, 1):
            raise AuditorError(
                f"auditor {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}"
            )
        return Run(argv, proc.returncode, proc.stdout, proc.stderr)
