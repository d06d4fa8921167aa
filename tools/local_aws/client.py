"""The one client of the emulator: its control API as methods, and ``spawn()`` to run it as a child.

Standard library only and importable on CPython 3.9 (the Lambda runtime's tests use it), so it never
imports moto; the emulator itself runs in another interpreter (``python -m tools.local_aws serve``).

    with spawn(log_path=Path("emulator.log")) as aws:     # a child process on a free loopback port
        aws.set_clock("2026-07-01T06:00:00Z")
        boto3.client("s3", endpoint_url=aws.endpoint_url, ...)

    LocalAwsClient("http://127.0.0.1:4566").stats()       # an emulator someone else started

Every control endpoint is one method here, marked with the ``@control(method, path)`` of the route it
calls (``tests/emulator/test_client.py`` checks that the two sets are equal). A 4xx/5xx answer or an
unreachable emulator raises ``LocalAwsError`` with the emulator's one-line message.
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple, TypeVar

REPO = Path(__file__).resolve().parents[2]
CONTROL_PREFIX = "/_local_aws/"
Body = Optional[Dict[str, Any]]
Route = Tuple[str, str]  # (HTTP method, path under /_local_aws/)
_Builder = TypeVar("_Builder", bound=Callable[..., Body])


class LocalAwsError(RuntimeError):
    """The emulator refused a control call, could not be reached, or did not start.

    The message is one line; for a refused call it is ``METHOD /_local_aws/path: <the emulator's
    message>``, e.g. ``POST /_local_aws/faults: rules[0].rate: must be a number from 0 to 1``.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def control(method: str, path: str) -> Callable[[_Builder], Any]:
    """Marks a client method as the call of one control endpoint.

    The method returns the request body (``None`` for no body); the decorator sends it to
    ``METHOD /_local_aws/path`` and returns the emulator's JSON answer.
    """

    def wrap(build: _Builder) -> Any:
        @functools.wraps(build)
        def call(self: LocalAwsClient, *args: Any, **kwargs: Any) -> Any:
            return self.call(method, path, build(self, *args, **kwargs))

        call.route = (method, path)  # type: ignore[attr-defined]
        return call

    return wrap


def _failure(
    name_field: str,
    name: str,
    error_code: str | None,
    error_message: str | None,
    account_id: str | None,
    region: str | None,
) -> dict[str, Any]:
    """The body of a ``config/*-failure`` call: what fails, with which error (None: stop failing)."""
    body: dict[str, Any] = {name_field: name, "errorCode": error_code}
    if error_message is not None:
        body["errorMessage"] = error_message
    return {**body, **_scope(account_id, region)}


def _scope(account_id: str | None, region: str | None) -> dict[str, str]:
    """The optional (account, region) of a ``config/*`` call; the emulator defaults both."""
    scope = {}
    if account_id is not None:
        scope["accountId"] = account_id
    if region is not None:
        scope["region"] = region
    return scope


class LocalAwsClient:
    """The emulator's control API at ``endpoint_url`` (``http://127.0.0.1:PORT``)."""

    def __init__(self, endpoint_url: str, timeout_s: float = 60.0) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.timeout_s = timeout_s

    @classmethod
    def routes(cls) -> set[Route]:
        """Every (method, path) this client can call."""
        return {
            member.route
            for name in dir(cls)
            for member in [getattr(cls, name)]
            if hasattr(member, "route")
        }

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One control call; the answer's JSON, or ``LocalAwsError`` with the emulator's message."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (the emulator's loopback http URL)
            f"{self.endpoint_url}{CONTROL_PREFIX}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:  # noqa: S310
                raw = answer.read()
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace").strip()
            try:
                detail = json.loads(detail)["error"]
            except (ValueError, KeyError, TypeError):
                pass
            raise LocalAwsError(f"{method} {CONTROL_PREFIX}{path}: {detail}", e.code) from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise LocalAwsError(f"{self.endpoint_url}: emulator not reachable ({reason})") from None
        return json.loads(raw) if raw else None

    # -- the emulator ------------------------------------------------------------------------------
    @control("GET", "health")
    def health(self) -> Body:
        """``{"ok": true}`` once the emulator answers."""
        return None

    @control("POST", "reset")
    def reset(self) -> Body:
        """Forget every resource, Config state, fault and counter; the clock runs in real time."""
        return None

    @control("GET", "faults")
    def faults(self) -> Body:
        """The fault plan, with how often each rule has fired."""
        return None

    @control("POST", "faults")
    def set_faults(
        self,
        rules: list[dict[str, Any]] | None = None,
        latency_ms: float = 0,
        seed: int | None = None,
    ) -> Body:
        """Replace the fault plan: latency on every AWS call, and error rules (README: Faults)."""
        return {"latency_ms": latency_ms, "seed": seed, "rules": list(rules or [])}

    @control("DELETE", "faults")
    def clear_faults(self) -> Body:
        """No latency and no fault rules."""
        return None

    @control("GET", "stats")
    def stats(self) -> Body:
        """``{"calls": {"s3.PutObject": 3, ...}, "faults_fired": {...}, "in_flight_max": N}``."""
        return None

    @control("DELETE", "stats")
    def reset_stats(self) -> Body:
        return None

    @control("GET", "clock")
    def clock(self) -> Body:
        """``{"now": "2026-07-01T06:00:00Z", "fixed": true}``."""
        return None

    @control("POST", "clock")
    def set_clock(self, now: str | None) -> Body:
        """Fix the clock at an RFC 3339 UTC instant (``...Z``), or ``None`` for real time."""
        return {"now": now}

    # -- S3's clock (s3_clock.py) ------------------------------------------------------------------
    @control("GET", "s3/clock")
    def s3_clock(self) -> Body:
        """``{"aheadSeconds": 0.0, "now": "..."}``: how far S3's clock runs ahead of real time."""
        return None

    @control("POST", "s3/clock")
    def set_s3_clock(self, ahead_seconds: float) -> Body:
        """Run S3's clock ``ahead_seconds`` ahead of real time: the Last-Modified of what is written
        from now on and the Date of every S3 answer (leases resting on S3's times run out)."""
        return {"aheadSeconds": ahead_seconds}

    # -- S3 writes of one key (s3_writes.py) -------------------------------------------------------
    @control("GET", "s3/conditional-conflicts")
    def s3_conflicts(self) -> Body:
        """The 409 settings, how often each fired, and the object writes in progress now."""
        return None

    @control("POST", "s3/conditional-conflicts")
    def set_s3_conflicts(
        self,
        prefix: str | None = None,
        count: int | None = None,
        rate: float = 1.0,
        bucket: str | None = None,
        seed: int | None = None,
        skip: int = 0,
        racing: bool = False,
    ) -> Body:
        """Answer ``409 ConditionalRequestConflict`` to conditional writes: after ``skip`` of them,
        ``count`` (or a ``rate``) of those to keys under ``prefix`` (``None``: inject none), and with
        ``racing`` every one that overlaps another write of its key."""
        inject = None
        if prefix is not None:
            inject = {"prefix": prefix, "count": count, "rate": rate, "bucket": bucket}
            inject.update({"seed": seed, "skip": skip})
        return {"inject": inject, "racing": racing}

    @control("DELETE", "s3/conditional-conflicts")
    def clear_s3_conflicts(self) -> Body:
        """No injected 409s and no racing: conditional writes of one key wait for each other."""
        return None

    # -- IAM enforcement (iam/enforce.py) ---------------------------------------------------------
    @control("GET", "iam")
    def iam(self) -> Body:
        """Whether IAM is enforced, the roles with their access keys, and the recent denials."""
        return None

    @control("POST", "iam")
    def load_iam(self, template: str | os.PathLike[str] | dict[str, Any], **options: Any) -> Body:
        """Enforce IAM as the synthesized template's policies say (a path or the parsed template);
        answers the roles and the access key each one signs with."""
        body = {"template": template if isinstance(template, dict) else os.fspath(template)}
        return {**body, **options}

    @control("DELETE", "iam")
    def clear_iam(self) -> Body:
        """Stop enforcing: every request goes on, as without a template."""
        return None

    # -- EventBridge (eventbridge.py) --------------------------------------------------------------
    @control("GET", "events")
    def events(self) -> Body:
        """Events put on EventBridge, by detail type; failed deliveries; whether there is a trail."""
        return None

    @control("POST", "events/trail")
    def set_trail(self, management_events: bool) -> Body:
        """Give the account a trail that logs management events, so CloudTrail sends AWS Config's
        write calls to EventBridge (``False``: no trail, the default)."""
        return {"managementEvents": management_events}

    # -- AWS Config test hooks (configservice/control.py) ------------------------------------------
    @control("POST", "config/rule-failure")
    def set_rule_failure(
        self,
        rule_name: str,
        error_code: str | None = "InternalException",
        error_message: str | None = None,
        account_id: str | None = None,
        region: str | None = None,
    ) -> Body:
        """Make the rule's evaluations fail with ``error_code``; ``None`` ends the failure."""
        return _failure("ruleName", rule_name, error_code, error_message, account_id, region)

    @control("POST", "config/rule-evaluation-pending")
    def set_rule_evaluation_pending(
        self,
        rule_name: str,
        pending: str | None = "not-started",
        account_id: str | None = None,
        region: str | None = None,
    ) -> Body:
        """Hold the rule before its first evaluation finished (``"not-started"`` or ``"started"``):
        no results, INSUFFICIENT_DATA, no LastSuccessfulEvaluationTime; ``None`` lets it evaluate."""
        return {"ruleName": rule_name, "pending": pending, **_scope(account_id, region)}

    @control("POST", "config/recorder-failure")
    def set_recorder_failure(
        self,
        recorder_name: str,
        error_code: str | None = "AccessDenied",
        error_message: str | None = None,
        account_id: str | None = None,
        region: str | None = None,
    ) -> Body:
        """Make the configuration recorder fail (findings freeze); ``None`` ends the failure."""
        return _failure(
            "recorderName", recorder_name, error_code, error_message, account_id, region
        )

    @control("POST", "config/delivery-failure")
    def set_delivery_failure(
        self,
        channel_name: str,
        error_code: str | None = "NoSuchBucket",
        error_message: str | None = None,
        account_id: str | None = None,
        region: str | None = None,
    ) -> Body:
        """Make the delivery channel report failed deliveries; ``None`` ends the failure."""
        return _failure("channelName", channel_name, error_code, error_message, account_id, region)

    @control("GET", "config/status-casing")
    def status_casing(self) -> Body:
        """``{"casing": "model" | "upper"}``: how recorder and delivery statuses are spelled."""
        return None

    @control("POST", "config/status-casing")
    def set_status_casing(self, casing: str) -> Body:
        """Spell recorder and delivery statuses as the API model does (``"model"``: Success,
        Not_Applicable) or as the AWS CLI's examples do (``"upper"``: SUCCESS, NOT_APPLICABLE)."""
        return {"casing": casing}

    @control("GET", "config/deleted-resources")
    def deleted_resources(self) -> Body:
        """``{"evaluation": "not-applicable" | "removed"}``: what a deleted resource's result becomes."""
        return None

    @control("POST", "config/deleted-resources")
    def set_deleted_resources(self, evaluation: str) -> Body:
        """A deleted resource's result becomes NOT_APPLICABLE (``"not-applicable"``, as AWS documents
        for managed rules) or drops out of the results (``"removed"``)."""
        return {"evaluation": evaluation}

    @control("POST", "config/synthetic")
    def load_synthetic(
        self,
        rule_name: str,
        resource_type: str,
        non_compliant: int = 0,
        compliant: int = 0,
        not_applicable: int = 0,
        id_prefix: str | None = None,
        account_id: str | None = None,
        region: str | None = None,
    ) -> Body:
        """Replace the rule's synthetic results of one resource type (benchmark populations); with
        ``id_prefix`` the resource ids are that prefix and a six-digit number."""
        body = {
            "ruleName": rule_name,
            "resourceType": resource_type,
            "nonCompliant": non_compliant,
            "compliant": compliant,
            "notApplicable": not_applicable,
            **_scope(account_id, region),
        }
        if id_prefix is not None:
            body["idPrefix"] = id_prefix
        return body


# -- the emulator as a child process -----------------------------------------------------------------
_PR_SET_PDEATHSIG = 1  # prctl(2)


def default_python() -> str:
    """The interpreter that runs the emulator: ``$LOCAL_AWS_PYTHON``, else the development
    environment's (``.venv``, which has moto; the 3.9 runtime environment does not), else this one."""
    given = os.environ.get("LOCAL_AWS_PYTHON")
    if given:
        return given
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _die_with(parent: int) -> Callable[[], None]:
    """Runs in the child between fork and exec: on Linux the kernel sends the child SIGTERM when the
    thread that started it ends, so an emulator never outlives a parent killed without cleanup."""

    def arm() -> None:
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            return  # no prctl: the parent's own stop() is the only guard
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return arm


class LocalAwsProcess(LocalAwsClient):
    """An emulator running as this process's child; ``stop()`` (or leaving ``with``) ends it."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        endpoint_url: str,
        state_dir: Path,
        log_path: Path | None,
        grace_s: float,
    ) -> None:
        super().__init__(endpoint_url)
        self.process: subprocess.Popen[bytes] | None = process
        self.pid = process.pid
        self.log_path = log_path
        self._state_dir = state_dir
        self._grace_s = grace_s

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if the emulator has not exited after the grace period. Idempotent."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=self._grace_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=self._grace_s)
        shutil.rmtree(self._state_dir, ignore_errors=True)

    def __enter__(self) -> LocalAwsProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def spawn(
    *,
    python: str | None = None,
    host: str = "127.0.0.1",
    log_path: Path | None = None,
    timeout_s: float = 60.0,
    grace_s: float = 10.0,
) -> LocalAwsProcess:
    """Start ``python -m tools.local_aws serve`` on a free port of ``host`` and wait until it answers.

    Its output goes to ``log_path`` (appended) or nowhere. Raises ``LocalAwsError`` naming the log when
    the emulator exits or does not answer within ``timeout_s``; the child is stopped in that case.
    """
    state_dir = Path(tempfile.mkdtemp(prefix="local_aws-"))
    port_file = state_dir / "port"
    command = [python or default_python(), "-m", "tools.local_aws", "serve"]
    command += ["--host", host, "--port", "0", "--port-file", str(port_file)]
    log = open(log_path, "ab") if log_path is not None else subprocess.DEVNULL  # noqa: SIM115
    try:
        process = subprocess.Popen(
            command,
            cwd=str(REPO),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with(os.getpid()) if sys.platform.startswith("linux") else None,
        )
    except BaseException:
        shutil.rmtree(state_dir, ignore_errors=True)
        raise
    finally:
        if log is not subprocess.DEVNULL:
            log.close()  # type: ignore[union-attr]
    url_host = f"[{host}]" if ":" in host else host
    emulator = LocalAwsProcess(process, f"http://{url_host}:0", state_dir, log_path, grace_s)
    see = f" (see {log_path})" if log_path is not None else ""
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise LocalAwsError(
                    f"the emulator exited with status {process.returncode} before listening{see}"
                )
            text = port_file.read_text().strip() if port_file.exists() else ""
            if text:
                emulator.endpoint_url = f"http://{url_host}:{int(text)}"
                emulator.health()
                return emulator
            time.sleep(0.05)
        raise LocalAwsError(f"the emulator did not listen within {timeout_s:.0f} s{see}")
    except BaseException:
        emulator.stop()
        raise
