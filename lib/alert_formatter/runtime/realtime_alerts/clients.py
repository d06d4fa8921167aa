"""boto3 clients with botocore's ``standard`` retry mode (exponential backoff with jitter on throttling,
5xx and transient network errors) and short timeouts: an alert is worth a few retries, and the
function's queue retries the whole record after that."""

from __future__ import annotations

import os
from typing import Any, Dict, Tuple

import boto3
from botocore.config import Config

MAX_ATTEMPTS = (
    5  # in all: botocore's total_max_attempts counts the first call ("max_attempts" would not)
)
CONNECT_TIMEOUT_S = 3
READ_TIMEOUT_S = 10


class Clients:
    def __init__(self, region: str) -> None:
        config = Config(
            retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
        )
        session = boto3.session.Session(region_name=region)
        self.config: Any = session.client("config", config=config)
        self.sns: Any = session.client("sns", config=config)


_CACHE: Dict[Tuple[str, str], Clients] = {}


def clients_for(region: str) -> Clients:
    """Built once per execution environment (and per endpoint, which tests change)."""
    key = (region, os.environ.get("AWS_ENDPOINT_URL", ""))
    if key not in _CACHE:
        _CACHE[key] = Clients(region)
    return _CACHE[key]
