"""The HTTP control API under ``/_local_aws/``: JSON in, JSON out, one-line errors.

Test hooks are kept apart from the AWS operations they steer: this module holds the emulator-wide
ones (health, faults, stats, clock, reset) and the dispatch; ``configservice/control.py`` holds the
AWS Config ones. A handler is a method marked ``@route(method, path)``; ``ControlApi`` collects the
marked methods of the hook objects it is given. The client (``client.py``) has one method per route,
and a test checks the two sets are equal, so a new endpoint is one handler here plus one method there.

Every handler validates its whole input before changing anything, so a rejected request changes
nothing. Errors are ``{"error": "<field>: <rule it broke>"}`` with status 400 (bad input), 404 (no
such control path) or 405 (wrong method).
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Callable, Iterable, TypeVar

from .calls import read_body
from .clock import ControlError, parse_instant

if TYPE_CHECKING:
    from .server import EmulatorApp

PREFIX = "/_local_aws/"
Handler = Callable[[Any], Any]
Route = tuple[str, str]
_Method = TypeVar("_Method", bound=Callable[..., Any])


def route(method: str, path: str) -> Callable[[_Method], _Method]:
    """Marks a hook object's method as the handler of ``METHOD /_local_aws/<path>``; it receives the
    parsed JSON body (or None) and returns what is answered as JSON."""

    def mark(handler: _Method) -> _Method:
        handler.route = (method, path)  # type: ignore[attr-defined]
        return handler

    return mark


def routes_of(*hooks: object) -> dict[Route, Handler]:
    """Every marked method of the hook objects, by (method, path); a route marked twice is a bug."""
    found: dict[Route, Handler] = {}
    for hook in hooks:
        for name in dir(type(hook)):
            key = getattr(getattr(type(hook), name), "route", None)
            if key is None:
                continue
            if key in found:
                raise ValueError(f"control route {key[0]} {PREFIX}{key[1]} is defined twice")
            found[key] = getattr(hook, name)
    return found


class EmulatorControl:
    """Hooks that steer the whole emulator rather than one AWS service."""

    def __init__(self, app: EmulatorApp) -> None:
        self.app = app

    @route("GET", "health")
    def health(self, _: Any) -> Any:
        return {"ok": True}

    @route("POST", "reset")
    def reset(self, _: Any) -> Any:
        self.app.reset()
        return {"reset": True}

    @route("GET", "faults")
    def faults(self, _: Any) -> Any:
        return self.app.faults.describe()

    @route("POST", "faults")
    def set_faults(self, body: Any) -> Any:
        self.app.faults.replace(body)
        return self.app.faults.describe()

    @route("DELETE", "faults")
    def clear_faults(self, _: Any) -> Any:
        self.app.faults.clear()
        return self.app.faults.describe()

    @route("GET", "stats")
    def stats(self, _: Any) -> Any:
        return self.app.stats.snapshot()

    @route("DELETE", "stats")
    def reset_stats(self, _: Any) -> Any:
        self.app.stats.reset()
        return self.app.stats.snapshot()

    @route("GET", "clock")
    def clock(self, _: Any) -> Any:
        return self.app.clock.describe()

    @route("POST", "clock")
    def set_clock(self, body: Any) -> Any:
        if not isinstance(body, dict) or "now" not in body:
            raise ControlError(
                "now: required, an RFC 3339 UTC time ending in Z, or null for real time"
            )
        extra = sorted(set(body) - {"now"})
        if extra:
            raise ControlError(f"{extra[0]}: unknown field (allowed: now)")
        now = body["now"]
        self.app.clock.set(None if now is None else parse_instant(now, "now"))
        return self.app.clock.describe()


class ControlApi:
    """The WSGI application of ``/_local_aws/``: finds the route, parses the body, answers JSON."""

    def __init__(self, *hooks: object) -> None:
        self.routes = routes_of(*hooks)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")[len(PREFIX) :].strip("/")
        method = environ.get("REQUEST_METHOD", "GET").upper()
        allowed = sorted(m for m, p in self.routes if p == path)
        if not allowed:
            return _json(
                start_response, 404, {"error": f"{PREFIX}{path}: no such control endpoint"}
            )
        handler = self.routes.get((method, path))
        if handler is None:
            return _json(
                start_response,
                405,
                {
                    "error": f"{method} {PREFIX}{path}: method not allowed (use {', '.join(allowed)})"
                },
            )
        raw = read_body(environ)
        body: Any = None
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError as e:
                return _json(start_response, 400, {"error": f"body: not valid JSON ({e})"})
        try:
            result = handler(body)
        except ControlError as e:
            return _json(start_response, 400, {"error": str(e)})
        return _json(start_response, 200, result if result is not None else {})


def _json(start_response: Callable[..., Any], status: int, payload: Any) -> list[bytes]:
    body = (json.dumps(payload, sort_keys=True) + "\n").encode()
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]
