"""A local AWS stand-in on loopback: moto's server, extended with AWS Config rule compliance.

``from tools.local_aws import LocalAws`` serves it in this process; ``tools.local_aws.client``
(standard library only) starts it as a child process with ``spawn()`` and talks to it. See README.md
in this folder.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LocalAws"]


def __getattr__(name: str) -> Any:
    # Imported on first use: moto takes seconds to import, and the CLI must reject bad arguments
    # fast.
    if name == "LocalAws":
        from .server import LocalAws

        return LocalAws
    raise AttributeError(name)
