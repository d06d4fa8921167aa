"""HTTP/1.1 as AWS endpoints speak it: persistent connections, exact framing, closed on stop."""

from __future__ import annotations

import http.client
import json
import socket

import pytest

from tools.local_aws import LocalAws, estate

AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20260701/us-east-1/{service}/aws4_request, "
    "SignedHeaders=host, Signature=unchecked"
)


def _connection(aws: LocalAws) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", aws.port, timeout=10)


def _config_request(conn: http.client.HTTPConnection, operation: str, body: dict) -> tuple:
    conn.request(
        "POST",
        "/",
        body=json.dumps(body).encode(),
        headers={
            "X-Amz-Target": f"StarlingDoveService.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": AUTH.format(service="config"),
        },
    )
    answer = conn.getresponse()
    return answer.status, answer.getheader("Connection"), answer.read()


def test_one_connection_serves_many_calls(aws, clients):
    estate.put_managed_rules(clients.config, "s3-encryption-dev", "rds-encryption-dev", "ec2-a")
    conn = _connection(aws)
    try:
        statuses = []
        for _ in range(3):
            status, connection, body = _config_request(
                conn, "DescribeComplianceByConfigRule", {"ConfigRuleNames": ["s3-encryption-dev"]}
            )
            statuses.append(status)
            assert connection is None  # not "close"
            assert json.loads(body)["ComplianceByConfigRules"][0]["ConfigRuleName"] == (
                "s3-encryption-dev"
            )
        first_socket = conn.sock
        _config_request(conn, "DescribeConfigurationRecorderStatus", {})
        assert conn.sock is first_socket  # http.client reconnects (new socket) after a close
    finally:
        conn.close()
    assert statuses == [200, 200, 200]
    assert aws.stats()["calls"]["config.DescribeComplianceByConfigRule"] == 3


def test_error_answers_and_unread_bodies_leave_the_connection_usable(aws, clients):
    conn = _connection(aws)
    try:
        # An unknown rule: the answer is an error, the connection stays open for the next call.
        status, _, body = _config_request(
            conn, "GetComplianceDetailsByConfigRule", {"ConfigRuleName": "missing", "Limit": 5}
        )
        assert status == 400
        assert json.loads(body)["__type"] == "NoSuchConfigRuleException"
        # A body nobody reads (an unknown control path answers 404 before reading it): drained,
        # not taken for the next request line.
        conn.request("POST", "/_local_aws/no-such-path", body=b"GET / HTTP/1.1\r\n" * 5_000)
        answer = conn.getresponse()
        assert answer.status == 404
        assert "no such control endpoint" in json.loads(answer.read())["error"]
        conn.request("GET", "/_local_aws/health")
        answer = conn.getresponse()
        assert (answer.status, json.loads(answer.read())) == (200, {"ok": True})
    finally:
        conn.close()


def test_chunked_uploads_and_head_answers_keep_framing(aws, clients):
    estate.create_bucket(clients.s3, "framing-bucket")
    conn = _connection(aws)
    try:
        # A chunked request body (no Content-Length), then a HEAD, whose answer has a length but no
        # body, then a GET on the same connection.
        conn.request(
            "PUT",
            "/framing-bucket/chunked.txt",
            body=iter([b"first part, ", b"second part"]),
            headers={"Authorization": AUTH.format(service="s3")},
            encode_chunked=True,
        )
        answer = conn.getresponse()
        answer.read()
        assert answer.status == 200
        conn.request(
            "HEAD",
            "/framing-bucket/chunked.txt",
            headers={"Authorization": AUTH.format(service="s3")},
        )
        answer = conn.getresponse()
        assert answer.status == 200
        assert answer.getheader("Content-Length") == str(len(b"first part, second part"))
        assert answer.read() == b""
        conn.request(
            "GET",
            "/framing-bucket/chunked.txt",
            headers={"Authorization": AUTH.format(service="s3")},
        )
        answer = conn.getresponse()
        assert (answer.status, answer.read()) == (200, b"first part, second part")
    finally:
        conn.close()
    got = clients.s3.get_object(Bucket="framing-bucket", Key="chunked.txt")["Body"].read()
    assert got == b"first part, second part"


def test_connection_close_from_the_client_is_honoured(aws):
    conn = _connection(aws)
    try:
        conn.request("GET", "/_local_aws/health", headers={"Connection": "close"})
        answer = conn.getresponse()
        assert answer.getheader("Connection") == "close"
        answer.read()
        assert answer.will_close
    finally:
        conn.close()


def test_stopping_the_emulator_closes_idle_connections():
    aws = LocalAws(host="127.0.0.1", port=0).start()
    conn = _connection(aws)
    try:
        conn.request("GET", "/_local_aws/health")
        answer = conn.getresponse()
        assert answer.status == 200
        answer.read()
        idle = conn.sock
        aws.stop()
        # The server shut the idle connection down: the client sees end-of-stream, not a server
        # that keeps answering after stop().
        idle.settimeout(5)
        assert idle.recv(1) == b""
        with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
            conn.request("GET", "/_local_aws/health")
            conn.getresponse().read()
    finally:
        conn.close()
        aws.stop()


def test_a_client_that_disappears_mid_request_does_not_break_the_server(aws):
    raw = socket.create_connection(("127.0.0.1", aws.port), timeout=5)
    raw.sendall(b"POST /_local_aws/faults HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    raw.close()
    assert aws.health() == {"ok": True}
