"""boto3 clients with botocore's retry mode and timeouts, and S3 conditional writes on any botocore.

Retries: botocore ``standard`` mode (exponential backoff with jitter; retries throttling, 5xx and transient
network errors) with ``environment.DEFAULT_MAX_ATTEMPTS`` (10) attempts per call, the first included, as
``AWS_MAX_ATTEMPTS`` counts them. botocore's ``max_attempts`` client setting counts *retries* (10 meant 11
attempts), so the count is passed as ``total_max_attempts``. At a 30% throttling rate a call fails all 10
attempts with probability 0.3^10 ~ 6e-6. ``adaptive`` mode was not chosen: it also rate-limits the client
after throttling, which slows the many parallel page streams of one run for little gain at this call volume.
Each client's retry quota is renewed per invocation (``renew_retry_budgets``; retry_budget.py says why).

Conditional writes: ``PutObject`` gained ``IfNoneMatch`` (botocore 1.35.16) and ``IfMatch`` (1.35.6x) in
2024, newer than the SDK some Lambda python3.9 runtime builds ship. Instead of bundling a pinned boto3 with
the function, callers pass ``IfNoneMatch`` / ``IfMatch`` as usual and two event hooks move them into the
``If-None-Match`` / ``If-Match`` HTTP headers before signing. The same path runs on every botocore version,
old or new, so the tests exercise exactly what runs in Lambda.

Parsing: botocore's own, with timestamps left as AWS sent them (``raw_timestamp_session``). A private
subclass of botocore's JSON parser that also skipped the per-member model walk of compliance-detail pages
was dropped: at 100,000 findings and 50 ms per call it saved ~1.5 s of the generator's CPU in a ~40 s run
(benchmarks/bench_report.py, figures in the runtime README), not worth depending on botocore internals.
"""

from typing import Any

import boto3
import botocore.session
from botocore.config import Config

from .environment import DEFAULT_MAX_ATTEMPTS
from .retry_budget import RetryBudget
from .timebox import refuse_late_attempts

CONNECT_TIMEOUT_S = 3
READ_TIMEOUT_S = 15
# One run has up to 2 streams per rule + 4 status calls + 2 S3 reads in flight.
MAX_POOL_CONNECTIONS = 32

_CONDITION_HEADERS = {"IfNoneMatch": "If-None-Match", "IfMatch": "If-Match"}
_CONTEXT_KEY = "compliance_report_conditions"


def _lift_conditions(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """before-parameter-build: take the condition out of the params before botocore validates them."""
    conditions = {
        header: params.pop(name) for name, header in _CONDITION_HEADERS.items() if name in params
    }
    if conditions:
        context[_CONTEXT_KEY] = conditions


def _add_condition_headers(request: Any, **_: Any) -> None:
    """before-sign: runs on every attempt, so retried requests carry the condition too."""
    for header, value in (getattr(request, "context", None) or {}).get(_CONTEXT_KEY, {}).items():
        request.headers[header] = value


def enable_conditional_put(s3_client: Any) -> Any:
    events = s3_client.meta.events
    events.register("before-parameter-build.s3.PutObject", _lift_conditions)
    events.register("before-sign.s3.PutObject", _add_condition_headers)
    return s3_client


def client_config(max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Config:
    """``max_attempts``: calls per request, the first included."""
    return Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        max_pool_connections=MAX_POOL_CONNECTIONS,
    )


def _raw_timestamps(value: Any) -> Any:
    return value


def raw_timestamp_session() -> Any:
    """A botocore session whose clients leave timestamps as AWS sent them (the AWS CLI does the same).

    Measured with 100-result GetComplianceDetailsByConfigRule pages: botocore turning 3 timestamps per
    result into datetimes took ~3/4 of the client's CPU per page; the report needs one of them, which
    timefmt.utc_z converts directly.
    """
    session = botocore.session.get_session()
    session.get_component("response_parser_factory").set_parser_defaults(
        timestamp_parser=_raw_timestamps
    )
    return session


class Clients:
    """The four clients one run uses. Endpoint and credentials come from the environment as usual."""

    def __init__(self, region: str, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> None:
        session = boto3.session.Session(
            botocore_session=raw_timestamp_session(), region_name=region
        )
        config = client_config(max_attempts)
        self.config = session.client("config", config=config)
        self.s3 = enable_conditional_put(session.client("s3", config=config))
        self.sns = session.client("sns", config=config)
        self.ssm = session.client("ssm", config=config)
        self._budgets = []
        for client in (self.config, self.s3, self.sns, self.ssm):
            # A call made inside a timebox (timebox.py) starts no attempt after its window.
            client.meta.events.register("request-created", refuse_late_attempts)
            self._budgets.append(RetryBudget(client, max_attempts))

    def renew_retry_budgets(self) -> None:
        """Every client's retry quota full again: once per invocation (retry_budget.py)."""
        for budget in self._budgets:
            budget.renew()
