"""The HTTP control API under ``/_local_aws/``: JSON in, JSON out, one-line errors.

Every handler validates its whole input before changing anything, so a rejected request changes
nothing. Errors are ``{"error": "<field>: <rule it broke>"}`` with status 400 (bad input), 404 (no
such control path) or 405 (wrong method).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .calls import read_body
from .clock import ControlError, parse_instant

if TYPE_CHECKING:
    from .server import EmulatorApp

Handler = Callable[[Any], Any]


class ControlApi:
    def __init__(self, app: EmulatorApp) -> None:
        self.app = app
        config = app.config
        self._routes: dict[str, dict[str, Handler]] = {
            "health": {"GET": lambda _: {"ok": True}},
            "faults": {
                "GET": lambda _: app.faults.describe(),
                "POST": self._set_faults,
                "DELETE": self._clear_faults,
            },
            "stats": {"GET": lambda _: app.stats.snapshot(), "DELETE": self._reset_stats},
            "clock": {"GET": lambda _: app.clock.describe(), "POST": self._set_clock},
            "reset": {"POST": self._reset},
            "iam": app.iam.routes(),
            "config/alert-topic": {
                "GET": lambda _: config.alert_target(),
                "POST": config.set_alert_target,
            },
            "config/rule-failure": {"POST": config.set_rule_failure},
            "config/synthetic": {"POST": config.load_synthetic},
            "config/recorder-failure": {"POST": config.set_recorder_failure},
            "config/delivery-failure": {"POST": config.set_delivery_failure},
        }

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")[len("/_local_aws/") :].strip("/")
        method = environ.get("REQUEST_METHOD", "GET").upper()
        methods = self._routes.get(path)
        if methods is None:
            return _json(
                start_response, 404, {"error": f"/_local_aws/{path}: no such control endpoint"}
            )
        handler = methods.get(method)
        if handler is None:
            allowed = ", ".join(sorted(methods))
            return _json(
                start_response,
                405,
                {"error": f"{method} /_local_aws/{path}: method not allowed (use {allowed})"},
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

    def _set_faults(self, body: Any) -> Any:
        self.app.faults.replace(body)
        return self.app.faults.describe()

    def _clear_faults(self, _: Any) -> Any:
        self.app.faults.clear()
        return self.app.faults.describe()

    def _reset_stats(self, _: Any) -> Any:
        self.app.stats.reset()
        return self.app.stats.snapshot()

    def _set_clock(self, body: Any) -> Any:
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

    def _reset(self, _: Any) -> Any:
        self.app.reset()
        return {"reset": True}


def _json(start_response: Callable[..., Any], status: int, payload: Any) -> list[bytes]:
    from http import HTTPStatus

    body = (json.dumps(payload, sort_keys=True) + "\n").encode()
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]
