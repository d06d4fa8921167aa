"""Which addresses the emulator may bind: loopback only, since it has no authentication."""

from __future__ import annotations

import ipaddress


def check_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(
        f"--host {host!r}: must be a loopback address such as 127.0.0.1 "
        "(the emulator has no authentication)"
    )
