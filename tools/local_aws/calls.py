"""Recognise which AWS operation an HTTP request is, and answer it with an AWS-shaped error.

The emulator counts calls and injects faults per (service, operation), so it needs the operation
name before moto sees the request. The service comes from the SigV4 credential scope
(``Credential=AKID/20260701/us-east-1/config/aws4_request``); the operation from ``X-Amz-Target``
(JSON protocols), the ``Action`` parameter (query protocols) or, for S3's REST protocol, the method,
path and sub-resource.
"""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

DEFAULT_REGION = "us-east-1"

# Services whose query-protocol errors use EC2's <Response><Errors> envelope instead of
# <ErrorResponse>.
_EC2_STYLE = {"ec2"}


@dataclass
class AwsCall:
    """One AWS request as the emulator sees it."""

    service: str
    operation: str
    region: str
    access_key: str | None
    protocol: str  # "json", "query", "ec2", "rest-xml"
    params: dict[str, Any] = field(default_factory=dict)
    body: bytes = b""
    content_type: str = ""

    @property
    def key(self) -> str:
        return f"{self.service}.{self.operation}"


def _credential_scope(environ: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(access key, region, service) from the Authorization header or a presigned URL's query."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    credential = None
    if "Credential=" in auth:
        credential = auth.split("Credential=", 1)[1].split(",", 1)[0].strip()
    else:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if "X-Amz-Credential" in query:
            credential = query["X-Amz-Credential"][0]
    if not credential:
        return None, None, None
    parts = credential.split("/")
    if len(parts) != 5:
        return None, None, None
    return parts[0], parts[2], parts[3].lower()


def read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put an equivalent stream back so moto can read it again."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return b""
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


# S3 sub-resources (query keys without meaningful values) mapped to an operation name stem.
_S3_BUCKET_SUBRESOURCES = {
    "encryption": "BucketEncryption",
    "versioning": "BucketVersioning",
    "lifecycle": "BucketLifecycleConfiguration",
    "policy": "BucketPolicy",
    "tagging": "BucketTagging",
    "notification": "BucketNotificationConfiguration",
    "object-lock": "ObjectLockConfiguration",
    "publicAccessBlock": "PublicAccessBlock",
    "acl": "BucketAcl",
    "cors": "BucketCors",
    "logging": "BucketLogging",
    "ownershipControls": "BucketOwnershipControls",
    "replication": "BucketReplication",
    "website": "BucketWebsite",
}
_S3_OBJECT_SUBRESOURCES = {
    "tagging": "ObjectTagging",
    "retention": "ObjectRetention",
    "legal-hold": "ObjectLegalHold",
    "acl": "ObjectAcl",
}
_VERB = {"GET": "Get", "PUT": "Put", "DELETE": "Delete", "HEAD": "Head", "POST": "Post"}


def s3_operation(
    method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]
) -> tuple[str, dict[str, str]]:
    """Name the S3 REST operation of a path-style request; returns (operation, {Bucket, Key}).

    Only path-style addressing is recognised (what botocore uses with an IP endpoint URL).
    """
    parts = path.lstrip("/").split("/", 1)
    bucket = unquote(parts[0]) if parts and parts[0] else ""
    key = unquote(parts[1]) if len(parts) > 1 and parts[1] else ""
    params: dict[str, str] = {}
    if bucket:
        params["Bucket"] = bucket
    if key:
        params["Key"] = key
    verb = _VERB.get(method, method.title())

    if not bucket:
        return ("ListBuckets" if method == "GET" else f"{verb}Service"), params

    if not key:
        if "versions" in query and method == "GET":
            return "ListObjectVersions", params
        if "uploads" in query and method == "GET":
            return "ListMultipartUploads", params
        if "delete" in query and method == "POST":
            return "DeleteObjects", params
        if "location" in query and method == "GET":
            return "GetBucketLocation", params
        for sub, stem in _S3_BUCKET_SUBRESOURCES.items():
            if sub in query:
                return f"{verb}{stem}", params
        if method == "GET":
            if query.get("list-type", [""])[0] == "2":
                return "ListObjectsV2", params
            return "ListObjects", params
        if method == "PUT":
            return "CreateBucket", params
        if method == "DELETE":
            return "DeleteBucket", params
        if method == "HEAD":
            return "HeadBucket", params
        return f"{verb}Bucket", params

    if method == "POST" and "uploads" in query:
        return "CreateMultipartUpload", params
    if method == "POST" and "uploadId" in query:
        return "CompleteMultipartUpload", params
    if method == "PUT" and "partNumber" in query:
        return "UploadPart", params
    if method == "DELETE" and "uploadId" in query:
        return "AbortMultipartUpload", params
    if method == "GET" and "uploadId" in query:
        return "ListParts", params
    if method == "GET" and "attributes" in query:
        return "GetObjectAttributes", params
    for sub, stem in _S3_OBJECT_SUBRESOURCES.items():
        if sub in query:
            return f"{verb}{stem}", params
    if method == "PUT":
        if "x-amz-copy-source" in headers:
            return "CopyObject", params
        return "PutObject", params
    return f"{verb}Object", params


def identify(environ: dict[str, Any]) -> AwsCall:
    """Work out service, operation and parameters of a request; the body stays readable for moto."""
    access_key, region, service = _credential_scope(environ)
    method = environ.get("REQUEST_METHOD", "GET").upper()
    path = environ.get("PATH_INFO", "") or "/"
    if isinstance(path, bytes):
        path = path.decode("utf-8")
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    content_type = environ.get("CONTENT_TYPE", "") or ""
    target = environ.get("HTTP_X_AMZ_TARGET")
    region = region or DEFAULT_REGION

    if service == "s3":
        headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        operation, params = s3_operation(method, path, query, headers)
        return AwsCall("s3", operation, region, access_key, "rest-xml", dict(params))

    body = read_body(environ)
    if target:
        operation = target.split(".", 1)[-1]
        params: dict[str, Any] = {}
        if body:
            try:
                loaded = json.loads(body)
                if isinstance(loaded, dict):
                    params = loaded
            except ValueError:
                params = {}
        return AwsCall(
            service or target.split(".", 1)[0].lower(),
            operation,
            region,
            access_key,
            "json",
            params,
            body,
            content_type,
        )

    form: dict[str, list[str]] = dict(query)
    if body and content_type.startswith("application/x-www-form-urlencoded"):
        for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items():
            form.setdefault(k, []).extend(v)
    params = {k: v[0] for k, v in form.items()}
    operation = params.get("Action", "")
    service = service or "unknown"
    if not operation:
        operation = f"{method} {path}"
    protocol = "ec2" if service in _EC2_STYLE else "query"
    return AwsCall(service, operation, region, access_key, protocol, params, body, content_type)


def error_response(
    call: AwsCall, code: str, status: int, message: str
) -> tuple[int, list[tuple[str, str]], bytes]:
    """An error body in the call's protocol, so botocore parses ``code`` as the error code."""
    request_id = str(uuid.uuid4())
    if call.protocol == "json":
        content_type = call.content_type or "application/x-amz-json-1.1"
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [
            ("Content-Type", content_type),
            ("x-amzn-RequestId", request_id),
            ("x-amzn-ErrorType", code),
        ]
        return status, headers, body
    text = _xml_escape(message)
    if call.protocol == "rest-xml":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{text}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        ).encode()
    elif call.protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{code}</Code><Message>{text}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        ).encode()
    else:
        kind = "Receiver" if status >= 500 else "Sender"
        body = (
            f'<ErrorResponse xmlns="https://{call.service}.amazonaws.com/doc/">'
            f"<Error><Type>{kind}</Type><Code>{code}</Code><Message>{text}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
    headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    if call.service == "s3":
        headers.append(("x-amz-request-id", request_id))
    return status, headers, body


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
