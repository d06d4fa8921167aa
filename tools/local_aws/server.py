"""The emulator's WSGI application and the ``LocalAws`` context manager.

``EmulatorApp.__call__`` is the one place every request passes: a control call under ``/_local_aws/``
goes to the control API; an AWS call is counted, delayed by the plan's latency (sleeping in the
request's own thread, holding no lock), possibly answered with an injected fault, answered by the
Config extension for the operations it owns, and otherwise handed to moto's own server application
unchanged. A write call to AWS Config also becomes a CloudTrail event on EventBridge when the account
has a trail (``eventbridge.py``). A check that every AWS call must pass belongs in ``_serve``.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from traceback import format_exc
from typing import Any, Callable, Iterable

from cheroot.wsgi import Server as WSGIServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from .calls import AwsCall, error_response, identify
from .client import LocalAwsClient
from .clock import Clock
from .configservice import ConfigControl, ConfigService
from .control import PREFIX as CONTROL_PREFIX
from .control import ControlApi, EmulatorControl
from .eventbridge import EventBridgeDelivery, EventsControl
from .faults import FaultPlan
from .hosts import check_loopback
from .iam.enforce import IamControl, IamSwitch
from .moto_patches import patch_moto
from .s3_clock import CLOCK as S3_CLOCK
from .s3_clock import S3ClockControl, patch_moto_s3_time, with_s3_date
from .s3_writes import KEY_WRITES, S3Control, S3Writes
from .sns_limits import BAD_SUBJECT, TOO_LONG, bad_subject, too_long
from .sqs_redrive import SqsRedrive
from .stats import CallStats

StartResponse = Callable[..., Any]
# AWS calls sleep for the injected latency in their worker thread, so the pool bounds how many
# overlap: the report generator reads with 2 x rules + 8 threads, and tests run 4 generators at once.
WORKER_THREADS = 64
# Longer than any pause between calls of one test or benchmark run; shorter than "forever" so a
# client that never closes its pool does not hold a connection for the emulator's whole life.
IDLE_TIMEOUT_S = 300.0


class EmulatorApp:
    """WSGI application: control API, call accounting, faults, Config extension, then moto."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.stats = CallStats()
        self.faults = FaultPlan()
        self.config = ConfigService(self.clock)
        self.iam = IamSwitch(self.clock.now)  # off until a template is loaded (iam/enforce.py)
        # What AWS Config and CloudTrail send to EventBridge, delivered by moto's EventBridge.
        self.eventbridge = EventBridgeDelivery(self.clock, self.iam.caller_arn)
        self.config.on_changes = self.eventbridge.compliance_changes
        # Writes of one object key: compare-and-swap and 409 ConditionalRequestConflict (s3_writes.py).
        self.s3_writes = S3Writes()
        self.sqs_redrive = SqsRedrive()  # StartMessageMoveTask and friends, which moto lacks
        self.control = ControlApi(
            EmulatorControl(self),
            ConfigControl(self.config),
            IamControl(self.iam),
            S3Control(self.s3_writes),
            EventsControl(self.eventbridge),
            S3ClockControl(S3_CLOCK),
        )
        self._moto = DomainDispatcherApplication(create_backend_app)
        patch_moto()
        patch_moto_s3_time()  # S3's Last-Modified and Date follow /_local_aws/s3/clock

    def reset(self) -> None:
        """Forget moto's resources, Config extension state, faults, stats and the clock."""
        from moto.moto_api._internal import moto_api_backend

        moto_api_backend.reset()
        self.config.reset()
        self.eventbridge.reset()
        self.faults.clear()
        self.s3_writes.clear()
        self.sqs_redrive.reset()
        self.stats.reset()
        self.clock.set(None)
        S3_CLOCK.set_ahead(0)

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
        if call.service == "s3":
            start_response = with_s3_date(start_response)
        latency = self.faults.latency_s
        if latency:
            time.sleep(latency)
        denied = self.iam.check(call, environ)
        if denied is not None:
            self._trail(call, environ, denied[0], denied[2])
            return _respond(environ, start_response, *denied)
        fault = self.faults.pick(call)
        if fault is not None:
            self.stats.record_fault(call.key)
            status, headers, body = error_response(call, fault.error, fault.status, fault.message)
            return _respond(environ, start_response, status, headers, body)
        if too_long(call) or bad_subject(call):
            message = TOO_LONG if too_long(call) else BAD_SUBJECT
            status, headers, body = error_response(call, "InvalidParameter", 400, message)
            return _respond(environ, start_response, status, headers, body)
        if call.service == "sqs" and self.sqs_redrive.handles(call.operation):
            status, headers, body = self.sqs_redrive.handle(call)
            return _respond(environ, start_response, status, headers, body)
        if call.service == "config" and self.config.handles(call.operation):
            status, headers, body = self.config.handle(call)
            self._trail(call, environ, status, body)
            return _respond(environ, start_response, status, headers, body)
        if self.eventbridge.records(call):
            return self._moto_on_trail(call, environ, start_response)
        if call.service == "s3" and call.operation in KEY_WRITES and call.params.get("Key"):

            def respond(status: int, headers: list[tuple[str, str]], body: bytes) -> list[bytes]:
                if status == 409:
                    self.stats.record_fault(call.key)
                return _respond(environ, start_response, status, headers, body)

            return self.s3_writes.serve(
                call, environ, respond, lambda: self._moto(environ, start_response)
            )
        return self._moto(environ, start_response)

    def _trail(self, call: AwsCall, environ: dict[str, Any], status: int, body: bytes) -> None:
        from .configservice.service import _account_of

        self.eventbridge.api_call(call, _account_of(call.access_key), status, body, environ)

    def _moto_on_trail(
        self, call: AwsCall, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """moto's answer to a call a trail records: read whole (AWS Config's answers are small), so
        its status and error go into the CloudTrail event, then passed on unchanged."""
        seen: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            seen["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, *exc)

        answer = self._moto(environ, keep)
        try:
            body = b"".join(answer)
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
        self._trail(call, environ, seen.get("status", 500), body)
        return [body]


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


class LocalAws(LocalAwsClient):
    """A running emulator in this process, talked to like any other (``client.LocalAwsClient``); use
    as a context manager. Served by cheroot: HTTP/1.1 with persistent connections, as AWS endpoints
    keep them and botocore pools them; requests run on a pool of worker threads, while idle
    connections wait in a selector and are closed after ``IDLE_TIMEOUT_S`` or when the emulator stops.

    >>> with LocalAws() as aws:                      # doctest: +SKIP
    ...     boto3.client("s3", endpoint_url=aws.endpoint_url, ...)
    ...     aws.set_faults([], latency_ms=20)
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
            # reset); RunInstances accepts any image id without them. An explicit setting in the
            # environment wins.
            os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        self.host = host
        self.port = port
        self.quiet = quiet
        self.app = EmulatorApp()
        if iam_template is not None:
            self.app.iam.load_file(iam_template)  # ControlError names a template problem
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None
        super().__init__(self._url())

    def _url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> LocalAws:
        """Bind (``OSError`` when the address is taken) and serve on a background thread."""
        if self._server is not None:
            return self
        server = WSGIServer(
            (self.host, self.port), self.app, numthreads=WORKER_THREADS, server_name="local_aws"
        )
        server.timeout = IDLE_TIMEOUT_S
        # Every idle pooled connection stays open (cheroot's default keeps 10 and closes the rest,
        # which would make botocore reconnect under parallel readers).
        server.keep_alive_conn_limit = None
        if self.quiet:
            server.error_log = _quiet_error_log  # type: ignore[method-assign]
        server.prepare()
        self._server = server
        self.port = server.bind_addr[1]
        self.endpoint_url = self._url()
        self._thread = threading.Thread(
            target=server.serve, name=f"local_aws:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection, idle ones included. Idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        server.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _quiet_error_log(msg: str = "", level: int = logging.INFO, traceback: bool = False) -> None:
    """cheroot's error log without the noise of clients that hang up; an application error still
    prints, with its traceback."""
    if level >= logging.ERROR:
        sys.stderr.write(f"local_aws: {msg}\n")
        if traceback:
            sys.stderr.write(format_exc())
