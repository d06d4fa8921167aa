"""The emulator's WSGI application and the ``LocalAws`` context manager.

One threaded HTTP/1.1 server on loopback, one thread per connection, connections kept alive
(transport.py). Each request is either a control call under ``/_local_aws/``
or an AWS call; an AWS call is counted, delayed by the plan's latency (sleeping in the request's own
thread, holding no lock), possibly answered with an injected fault, answered by the Config extension
for the operations it owns, and otherwise handed to moto's own server application unchanged.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.request
from typing import Any, Callable, Iterable

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from .calls import AwsCall, error_response, identify
from .clock import Clock
from .configservice import ConfigService
from .control import ControlApi
from .faults import FaultPlan
from .hosts import check_loopback
from .iam.enforce import IamSwitch
from .moto_patches import patch_moto
from .stats import CallStats
from .transport import ConnectionTracker, KeepAliveRequestHandler

CONTROL_PREFIX = "/_local_aws/"
StartResponse = Callable[..., Any]


class EmulatorApp:
    """WSGI application: control API, call accounting, faults, Config extension, then moto."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.stats = CallStats()
        self.faults = FaultPlan()
        self.config = ConfigService(self.clock)
        self.iam = IamSwitch(self.clock.now)  # off until a template is loaded (iam/enforce.py)
        self.control = ControlApi(self)
        self._moto = DomainDispatcherApplication(create_backend_app)
        # moto checks If-None-Match / If-Match and stores the object in two steps; serialise
        # conditional
        # writes per key so concurrent writers see S3's atomic compare-and-swap. Striped to stay
        # bounded.
        self._write_locks = [threading.Lock() for _ in range(64)]
        patch_moto()

    def reset(self) -> None:
        """Forget moto's resources, Config extension state, faults, stats and the clock."""
        from moto.moto_api._internal import moto_api_backend

        moto_api_backend.reset()
        self.config.reset()
        self.faults.clear()
        self.stats.reset()
        self.clock.set(None)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self.control(environ, start_response)
        if path.startswith("/moto-api"):
            return self._moto(environ, start_response)

        call = identify(environ)
        self.stats.record_call(call.key)
        self.stats.enter()
        try:
            return self._serve(call, environ, start_response)
        finally:
            self.stats.leave()

    def _serve(
        self, call: AwsCall, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        latency = self.faults.latency_s
        if latency:
            time.sleep(latency)
        denied = self.iam.check(call, environ)
        if denied is not None:
            return _respond(environ, start_response, *denied)
        fault = self.faults.pick(call)
        if fault is not None:
            self.stats.record_fault(call.key)
            status, headers, body = error_response(call, fault.error, fault.status, fault.message)
            return _respond(environ, start_response, status, headers, body)
        if call.service == "config" and self.config.handles(call.operation):
            status, headers, body = self.config.handle(call)
            return _respond(environ, start_response, status, headers, body)
        if (
            call.service == "s3"
            and call.operation in _CONDITIONAL_WRITES
            and (environ.get("HTTP_IF_NONE_MATCH") or environ.get("HTTP_IF_MATCH"))
        ):
            stripe = hash((call.params.get("Bucket"), call.params.get("Key"))) % len(
                self._write_locks
            )
            with self._write_locks[stripe]:
                return list(self._moto(environ, start_response))
        return self._moto(environ, start_response)


_CONDITIONAL_WRITES = {"PutObject", "CompleteMultipartUpload", "CopyObject"}
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
}


def _respond(
    environ: dict[str, Any],
    start_response: StartResponse,
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
) -> list[bytes]:
    from http import HTTPStatus

    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = _REASONS.get(status, "Error")
    if environ.get("REQUEST_METHOD") == "HEAD":
        body = b""
    start_response(f"{status} {reason}", headers + [("Content-Length", str(len(body)))])
    return [body]


class LocalAws:
    """A running emulator on loopback; use as a context manager.

    >>> with LocalAws() as aws:                      # doctest: +SKIP
    ...     boto3.client("s3", endpoint_url=aws.endpoint_url, ...)
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        quiet: bool = True,
        load_default_amis: bool = False,
        iam_template: str | os.PathLike[str] | None = None,
    ) -> None:
        check_loopback(host)
        if not load_default_amis:
            # moto otherwise loads thousands of public AMIs into every EC2 backend (seconds per
            # reset);
            # RunInstances accepts any image id without them. An explicit setting in the environment
            # wins.
            os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        self.host = host
        self.port = port
        self.quiet = quiet
        self.app = EmulatorApp()
        if iam_template is not None:
            self.app.iam.load_file(iam_template)  # ControlError names a template problem
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> LocalAws:
        if self._server is not None:
            return self
        if self.quiet:
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = make_server(
            self.host, self.port, self.app, threaded=True, request_handler=KeepAliveRequestHandler
        )
        self._server.connections = ConnectionTracker()  # type: ignore[attr-defined]
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"local_aws:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.connections.close_all()  # type: ignore[attr-defined]
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -- control API wrappers (over HTTP, exactly what other languages use) ------------------------
    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call the control API; a 4xx/5xx raises ``RuntimeError`` with the one-line message."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (always http://<loopback>)
            f"{self.endpoint_url}{CONTROL_PREFIX}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace")
            try:
                detail = json.loads(detail)["error"]
            except (ValueError, KeyError, TypeError):
                pass
            raise RuntimeError(f"{method} {CONTROL_PREFIX}{path}: {detail}") from None
        return json.loads(raw) if raw else None

    def set_faults(
        self,
        rules: list[dict[str, Any]] | None = None,
        latency_ms: float = 0,
        seed: int | None = None,
    ) -> Any:
        return self.control(
            "POST", "faults", {"latency_ms": latency_ms, "seed": seed, "rules": rules or []}
        )

    def reset_faults(self) -> Any:
        return self.control("DELETE", "faults")

    def set_clock(self, now: str | None) -> Any:
        return self.control("POST", "clock", {"now": now})

    def stats(self) -> dict[str, dict[str, int]]:
        return self.control("GET", "stats")

    def reset_stats(self) -> Any:
        return self.control("DELETE", "stats")

    def set_alert_topic(self, topic_arn: str | None, rule_names: list[str] | None = None) -> Any:
        return self.control(
            "POST", "config/alert-topic", {"topicArn": topic_arn, "ruleNames": rule_names}
        )

    def set_rule_failure(
        self,
        rule_name: str,
        error_code: str | None = "InternalException",
        error_message: str | None = None,
    ) -> Any:
        body: dict[str, Any] = {"ruleName": rule_name, "errorCode": error_code}
        if error_message is not None:
            body["errorMessage"] = error_message
        return self.control("POST", "config/rule-failure", body)

    def load_synthetic(
        self,
        rule_name: str,
        resource_type: str,
        non_compliant: int = 0,
        compliant: int = 0,
        not_applicable: int = 0,
    ) -> Any:
        return self.control(
            "POST",
            "config/synthetic",
            {
                "ruleName": rule_name,
                "resourceType": resource_type,
                "nonCompliant": non_compliant,
                "compliant": compliant,
                "notApplicable": not_applicable,
            },
        )

    def reset(self) -> Any:
        return self.control("POST", "reset")

    def load_iam(self, template: str | os.PathLike[str] | dict[str, Any], **options: Any) -> Any:
        """Enforce IAM as the template's policies say; answers the roles and their access keys."""
        body = {"template": template if isinstance(template, dict) else os.fspath(template)}
        return self.control("POST", "iam", {**body, **options})
