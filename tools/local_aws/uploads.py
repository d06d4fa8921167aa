"""A PutObject whose body arrives when the caller says so: a write held *in progress*.

S3 answers ``409 ConditionalRequestConflict`` to a conditional write that meets another write of the
same key in progress (``s3_writes.py``). A real client produces that overlap by chance; a test needs
it on demand, so this sends the request line, the headers and half of the body, and the rest only on
``finish()``. Standard library only (the Lambda runtime's tests on CPython 3.9 use it too); the
request carries a SigV4-shaped ``Authorization`` header naming the access key, which is all the
emulator reads (it checks no signature).

    with SlowUpload(aws.endpoint_url, "bucket", "chain/head.json", body, if_match=etag) as upload:
        ...                                # the emulator shows it in progress meanwhile
        status, answer = upload.finish()
"""

from __future__ import annotations

import hashlib
import http.client
import time
from datetime import datetime, timezone
from typing import Optional, Tuple
from urllib.parse import quote, urlsplit


class SlowUpload:
    def __init__(
        self,
        endpoint_url: str,
        bucket: str,
        key: str,
        body: bytes,
        *,
        access_key: str = "testing",
        region: str = "us-east-1",
        if_match: Optional[str] = None,
        if_none_match: Optional[str] = None,
        timeout_s: float = 60.0,
    ) -> None:
        if len(body) < 2:
            raise ValueError("body: at least 2 bytes, so part of it can be held back")
        url = urlsplit(endpoint_url)
        self._connection = http.client.HTTPConnection(
            url.hostname or "127.0.0.1", url.port, timeout=timeout_s
        )
        self._rest = body[len(body) // 2 :]
        now = datetime.now(timezone.utc)
        scope = f"{access_key}/{now:%Y%m%d}/{region}/s3/aws4_request"
        self._connection.putrequest(
            "PUT", f"/{quote(bucket)}/{quote(key)}", skip_accept_encoding=True
        )
        headers = {
            "Host": url.netloc,
            "Content-Length": str(len(body)),
            "Content-Type": "application/json",
            "x-amz-date": f"{now:%Y%m%dT%H%M%SZ}",
            "x-amz-content-sha256": hashlib.sha256(body).hexdigest(),
            "Authorization": (
                f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host;x-amz-date, "
                "Signature=" + "0" * 64
            ),
        }
        if if_match is not None:
            headers["If-Match"] = if_match
        if if_none_match is not None:
            headers["If-None-Match"] = if_none_match
        for name, value in headers.items():
            self._connection.putheader(name, value)
        self._connection.endheaders(body[: len(body) // 2])
        self._finished: Optional[Tuple[int, bytes]] = None

    def finish(self) -> Tuple[int, bytes]:
        """Send the rest of the body; the answer's (HTTP status, body). Idempotent."""
        if self._finished is None:
            self._connection.send(self._rest)
            answer = self._connection.getresponse()
            self._finished = (answer.status, answer.read())
            self._connection.close()
        return self._finished

    def __enter__(self) -> SlowUpload:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.finish()
        except OSError:
            self._connection.close()


def wait_in_progress(emulator: object, bucket: str, key: str, timeout_s: float = 10.0) -> None:
    """Block until the emulator lists ``bucket/key`` among the writes in progress
    (``emulator``: a ``LocalAwsClient``)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if f"{bucket}/{key}" in emulator.s3_conflicts()["inProgress"]:  # type: ignore[attr-defined]
            return
        time.sleep(0.02)
    raise TimeoutError(f"the write of s3://{bucket}/{key} never showed as in progress")
