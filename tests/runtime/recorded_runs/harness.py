"""Record one generator run's AWS exchanges, and replay them with the real clients and no network.

Why not botocore's Stubber: it answers calls in the order they were queued and hands back parsed
responses. A run reads AWS Config from several threads at once, so the order of its calls differs from
run to run, and the response parser (clients.py) is part of what must not change. Here an answer is
looked up by what was asked (service, operation and the call's parameters, a body by its SHA-256), and
the recorded HTTP response goes through botocore's own parser, exactly as a live answer would.

Two botocore hooks per client: ``provide-client-params`` notes the call in a thread-local (a call runs
on one thread from its parameters to its answer) and the call log; ``before-send`` answers it:

* :class:`Recorder` sends the request for real (to the emulator) and keeps the raw answer;
* :class:`Replayer` answers from the recording, oldest first per call, and fails loudly on a call
  that was never recorded.

The outputs of a run (every object put to S3, the alert, the EMF documents, the run's result) are
written as files by :func:`outputs`, the same way for a recording and a replay, so comparing them is
comparing bytes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import time
from collections import defaultdict, deque
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSResponse

SCENARIOS = Path(__file__).resolve().parent
# Every scenario runs at this instant: the generator's clock (generatedAt, the claim) and the emulator's
# (Config's result and status times) while it was recorded.
GENERATOR_NOW = datetime(2026, 11, 26, 6, 0, 1, 250000, tzinfo=timezone.utc)
EMULATOR_NOW = "2026-11-26T05:40:12.345Z"
# Fixed figures of a run that would otherwise come from the wall clock.
DURATION_MS = 1234.5
NOW_MS = 1795672801250
REMAINING_S = 240.0


def canonical(value: Any) -> Any:
    """JSON-able form of call parameters: bytes by length and SHA-256, datetimes as ISO text."""
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": len(value), "sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def call_key(service: str, operation: str, params: dict[str, Any]) -> str:
    return json.dumps([service, operation, canonical(params)], sort_keys=True, ensure_ascii=False)


class _Body:
    """A recorded body as botocore reads a live one (``stream`` for parsing, ``read`` for S3 bodies)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def stream(self, **_: Any) -> Any:
        chunk = self._data.read()
        if chunk:
            yield chunk

    def read(self, amt: Any = None) -> bytes:
        return self._data.read() if amt is None else self._data.read(amt)

    def close(self) -> None:
        pass


def _response(url: str, exchange: dict[str, Any]) -> AWSResponse:
    if "bodyBase64" in exchange:
        data = base64.b64decode(exchange["bodyBase64"])
    else:
        data = exchange["body"].encode("utf-8")
    return AWSResponse(url, exchange["status"], exchange["headers"], _Body(data))


class _Hooks:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self._local = threading.local()
        self._lock = threading.Lock()

    def attach(self, *clients: Any) -> None:
        for client in clients:
            client.meta.events.register_first("provide-client-params", self._note)
            client.meta.events.register("before-send", self._send)

    def _note(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        copy = dict(params)
        with self._lock:
            self.calls.append((service, model.name, copy))
        self._local.key = call_key(service, model.name, copy)

    def _send(self, request: Any, **_: Any) -> AWSResponse:
        raise NotImplementedError


class Recorder(_Hooks):
    """Sends each request to its endpoint and keeps the raw answer."""

    def __init__(self) -> None:
        super().__init__()
        from botocore.httpsession import URLLib3Session

        self._http = URLLib3Session(timeout=60)
        self.exchanges: list[dict[str, Any]] = []

    def _send(self, request: Any, **_: Any) -> AWSResponse:
        answer = self._http.send(request)
        data = answer.content
        exchange: dict[str, Any] = {
            "call": json.loads(self._local.key),
            "status": answer.status_code,
            "headers": dict(answer.headers.items()),
        }
        try:
            exchange["body"] = data.decode("utf-8")
        except UnicodeDecodeError:
            exchange["bodyBase64"] = base64.b64encode(data).decode("ascii")
        with self._lock:
            self.exchanges.append(exchange)
        return _response(request.url, exchange)


class Replayer(_Hooks):
    """Answers each request from a recording; ``unused`` lists the answers no call asked for."""

    def __init__(self, exchanges: list[dict[str, Any]], unrecorded_config_calls_fail: bool) -> None:
        super().__init__()
        self._answers: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
        for exchange in exchanges:
            key = json.dumps(exchange["call"], sort_keys=True, ensure_ascii=False)
            self._answers[key].append(exchange)
        self._lenient = unrecorded_config_calls_fail
        self.unrecorded: list[str] = []

    def _send(self, request: Any, **_: Any) -> AWSResponse:
        key = self._local.key
        with self._lock:
            queue = self._answers.get(key)
            exchange = queue.popleft() if queue else None
            if exchange is None:
                self.unrecorded.append(key)
        if exchange is None:
            if not (self._lenient and json.loads(key)[0] == "config"):
                raise AssertionError(f"no recorded answer for {key[:300]}")
            # A read the recorded run abandoned (its trigger already had a report): refuse it, without
            # a retry, as AWS refuses a caller without permission.
            exchange = {
                "status": 400,
                "headers": {"Content-Type": "application/x-amz-json-1.1"},
                "body": '{"__type":"AccessDeniedException","message":"not recorded"}',
            }
        return _response(request.url, exchange)

    def unused(self) -> list[str]:
        with self._lock:
            return [key for key, queue in self._answers.items() for _ in queue]


def load_exchanges(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def write_exchanges(path: Path, exchanges: list[dict[str, Any]]) -> None:
    lines = [json.dumps(e, sort_keys=True, ensure_ascii=False) for e in exchanges]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def outputs(
    calls: list[tuple[str, str, dict[str, Any]]], result: Any, metric_lines: str
) -> dict[str, bytes]:
    """A run's outputs as files: ``objects/<n>/<key>`` is the n-th body put to ``key`` (1-based),
    ``puts.json`` how each was put, ``alert.json`` and ``alert-message.txt`` the SNS publish (if any),
    ``metrics.jsonl`` the EMF documents and ``result.json`` what the run returned."""
    files: dict[str, bytes] = {}
    written: dict[str, int] = defaultdict(int)
    puts = []
    for service, operation, params in calls:
        if (service, operation) == ("s3", "PutObject"):
            key = params["Key"]
            written[key] += 1
            files[f"objects/{written[key]}/{key}"] = bytes(params["Body"])
            puts.append(
                {
                    "key": key,
                    "write": written[key],
                    "bucket": params["Bucket"],
                    **{
                        name: params.get(name)
                        for name in (
                            "ContentType",
                            "ChecksumAlgorithm",
                            "ChecksumSHA256",
                            "IfMatch",
                            "IfNoneMatch",
                        )
                    },
                }
            )
        elif (service, operation) == ("sns", "Publish"):
            assert "alert.json" not in files, "a run published two alerts"
            files["alert.json"] = _pretty(params)
            files["alert-message.txt"] = params["Message"].encode("utf-8")
        elif (service, operation) == ("ssm", "PutParameter"):
            assert "witness.json" not in files, "a run published two witnesses"
            files["witness.json"] = _pretty(params)
    puts.sort(key=lambda p: (p["key"], p["write"]))
    files["puts.json"] = _pretty(puts)
    files["metrics.jsonl"] = metric_lines.encode("utf-8")
    fields = {k: v for k, v in vars(result).items() if k not in ("fields", "phases")}
    files["result.json"] = _pretty(fields)
    return files


def _pretty(value: Any) -> bytes:
    return (json.dumps(value, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def read_expected(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def write_expected(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def fixed_deadline() -> Any:
    """A deadline that reads the same at every call, so the claim's lease is the same in every run."""
    from compliance_report.generator import Deadline

    class FixedDeadline(Deadline):
        def remaining_s(self) -> float:
            return REMAINING_S

        def collect_timeout_s(self) -> float:
            return REMAINING_S - 40.0

        def claim_give_up_at(self) -> float:
            return time.monotonic() + 30.0

    # The instants are on the monotonic clock (the run's AWS calls are timed against them); the methods
    # the claim's lease and the report depend on read the same at every call.
    return FixedDeadline(time.monotonic() + REMAINING_S, 40.0)


def run(scenario: dict[str, Any], hooks: _Hooks | None) -> tuple[Any, str]:
    """One run of the generator for the scenario's event, with ``hooks`` on its clients.

    Returns the run's result and its EMF lines. Endpoint and credentials come from the environment."""
    from compliance_report import metrics
    from compliance_report.clients import Clients
    from compliance_report.generator import generate
    from compliance_report.settings import load_settings
    from compliance_report.triggers import parse_invocation

    settings = load_settings(scenario["environment"])
    invocation = parse_invocation(scenario["event"], scenario["requestId"], GENERATOR_NOW)
    assert invocation.trigger is not None, "a scenario's event is one direct trigger"
    clients = Clients(settings.region, scenario["maxAttempts"])
    if hooks is not None:
        hooks.attach(clients.config, clients.s3, clients.sns, clients.ssm)
    result = generate(
        invocation.trigger,
        settings,
        clients,
        scenario["account"],
        fixed_deadline(),
        clock=lambda: GENERATOR_NOW,
    )
    lines = io.StringIO()
    metrics.emit(
        metrics.run_documents(
            namespace=settings.metrics_namespace,
            environment=settings.environment_suffix,
            non_compliant_by_rule=result.non_compliant_by_rule,
            errors=result.error_count,
            reports_stored=result.reports_stored,
            duration_ms=DURATION_MS,
            now_ms=NOW_MS,
        ),
        lines,
    )
    return result, lines.getvalue()


def replay(folder: Path) -> tuple[dict[str, bytes], Replayer]:
    """Replay a recorded scenario; its outputs and the replayer (to check what was asked)."""
    scenario = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
    replayer = Replayer(load_exchanges(folder / "exchanges.jsonl"), scenario["abandonsConfigReads"])
    result, metric_lines = run(scenario, replayer)
    return outputs(replayer.calls, result, metric_lines), replayer
