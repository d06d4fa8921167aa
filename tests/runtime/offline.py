"""S3 clients for runtime tests that never reach a network: a botocore ``before-send`` hook answers
every request, so the real client, its retry mode and its parser run, and nothing is sent."""

from __future__ import annotations

from typing import Any, Callable

import boto3
from botocore.awsrequest import AWSResponse
from compliance_report.clients import client_config

INTERNAL_ERROR = b"<Error><Code>InternalError</Code><Message>m</Message></Error>"


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data


def response(request: Any, status: int, body: bytes = b"", headers: Any = None) -> AWSResponse:
    """An HTTP answer to ``request`` as botocore reads one off the wire."""
    return AWSResponse(request.url, status, headers or {}, _Body(body))


def offline_s3(max_attempts: int, answer: Callable[..., Any] | None = None) -> Any:
    """An S3 client with the runtime's client settings and ``max_attempts``, at an endpoint nothing
    listens on; ``answer(request, **kwargs)``, if given, answers every request."""
    session = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 (never sent anywhere)
        region_name="eu-west-1",
    )
    s3 = session.client("s3", endpoint_url="http://127.0.0.1:9", config=client_config(max_attempts))
    if answer is not None:
        s3.meta.events.register("before-send.s3", answer)
    return s3


def failing_s3(max_attempts: int) -> tuple[Any, list[str]]:
    """An S3 client whose every request is answered 500 (retryable), and the URLs it sent."""
    sent: list[str] = []

    def answer(request: Any, **_: Any) -> AWSResponse:
        sent.append(request.url)
        return response(request, 500, INTERNAL_ERROR)

    return offline_s3(max_attempts, answer), sent
