"""What the runtime tests use to run without AWS: S3 clients whose requests a botocore ``before-send``
hook answers (the real client, its retry mode and its parser run; nothing is sent), and the function's
environment, optionally pointed at an endpoint nothing listens on."""

from __future__ import annotations

from typing import Any, Callable

import boto3
from botocore.awsrequest import AWSResponse
from compliance_report.clients import client_config

from lib.report_generator import local_harness as harness

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


def function_environment(endpoint_url: str | None = None) -> dict[str, str]:
    """The function's environment for a one-rule stack with suffix ``dev`` in eu-west-1; with
    ``endpoint_url`` every AWS call goes there (``http://127.0.0.1:9``: nothing listens, each call
    fails at once)."""
    return harness.function_environment(
        bucket="compliance-reports-dev",
        topic_arn="arn:aws:sns:eu-west-1:123456789012:compliance-alerts-dev",
        rules=[{"name": "s3-sse", "managedIdentifier": "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"}],
        suffix="dev",
        region="eu-west-1",
        endpoint_url=endpoint_url,
    )
