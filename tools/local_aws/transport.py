"""HTTP/1.1 with persistent connections for the emulator's threaded server.

werkzeug's development server answers every request with ``Connection: close``, so each AWS call
paid for a new TCP connection and a new server thread. AWS endpoints keep connections alive and
botocore pools them, so the emulator does too: one handler thread serves the requests of one
connection in turn until the client closes it, sends ``Connection: close``, or stays idle for
``IDLE_TIMEOUT_S``.

A connection can only be reused when both directions are framed exactly, so the handler

* reads every request body through a stream bounded by ``Content-Length`` (or de-chunks it) and
  discards whatever the application left unread before reading the next request line;
* gives every response a ``Content-Length`` (buffering the body when the application did not set one);
* closes the connection after an application error or a client that went away mid-request.

``ConnectionTracker`` remembers the open connections so that stopping the server also ends the
idle ones: a pooled client connection must not keep talking to a stopped emulator.
"""

from __future__ import annotations

import socket
import threading
from typing import Any, Iterable

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.wsgi import LimitedStream

# Longer than any pause between calls of one test or benchmark run; shorter than "forever" so a
# client that never closes its pool does not keep a thread for the emulator's whole life.
IDLE_TIMEOUT_S = 300.0
_NO_BODY_STATUS = {204, 304}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding"}


class ConnectionTracker:
    """The sockets of the connections a server is currently serving."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()

    def add(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.add(connection)

    def discard(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.discard(connection)

    def close_all(self) -> None:
        """Shut every open connection down; its handler thread then sees end-of-stream and ends."""
        with self._lock:
            connections = list(self._open)
            self._open.clear()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the client


class KeepAliveRequestHandler(MotoRequestHandler):
    """moto's request handler (its header handling is kept) serving many requests per connection."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_S
    # Responses are written with one send each (headers, then body): without this, Nagle's
    # algorithm can hold the body back until the client acknowledges the headers.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        tracker = getattr(self.server, "connections", None)
        if tracker is not None:
            tracker.add(self.connection)

    def finish(self) -> None:
        tracker = getattr(self.server, "connections", None)
        if tracker is not None:
            tracker.discard(self.connection)
        super().finish()

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.environ = self.make_environ()
        body = _bounded_input(environ)
        environ["wsgi.input"] = body

        answer: dict[str, Any] = {}
        written: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            if exc_info is not None and "sent" in answer:
                raise exc_info[1].with_traceback(exc_info[2])
            answer["status"], answer["headers"] = status, headers
            return written.append

        try:
            result = self.server.app(environ, start_response)
            try:
                chunks: Iterable[bytes] = written + list(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        except (ConnectionError, socket.timeout):
            self.close_connection = True
            return
        except Exception as error:  # the application failed: answer 500 and drop the connection
            self.close_connection = True
            if "sent" not in answer:
                self.log_error("error on request %r: %r", self.requestline, error)
                self._write(
                    "500 Internal Server Error",
                    [("Content-Type", "text/plain")],
                    [b"Internal Server Error"],
                )
            return

        try:
            _drain(body)
        except (ConnectionError, OSError, ValueError):
            self.close_connection = True
        answer["sent"] = True
        self._write(answer["status"], answer["headers"], chunks)

    def _write(self, status: str, headers: list[tuple[str, str]], chunks: Iterable[bytes]) -> None:
        code_text, _, reason = status.partition(" ")
        code = int(code_text)
        kept = [(k, v) for k, v in headers if k.lower() not in _HOP_BY_HOP]
        has_length = any(k.lower() == "content-length" for k, _ in kept)
        no_body = self.command == "HEAD" or code < 200 or code in _NO_BODY_STATUS
        data = b"" if no_body else b"".join(chunks)
        if not no_body and not has_length:
            kept.append(("Content-Length", str(len(data))))
        # Status line, headers and body in one write: one system call (and one release of the GIL,
        # which another request's thread may hold for a while) per answer instead of two.
        lines = [
            f"{self.protocol_version} {code} {reason}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
        ]
        lines += [f"{key}: {value}" for key, value in kept]
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "strict")
        self.wfile.write(head + data)
        self.log_request(code)


def _bounded_input(environ: dict[str, Any]) -> Any:
    """The request body as a stream that cannot read into the next request on the connection."""
    if environ.get("wsgi.input_terminated"):
        return environ["wsgi.input"]  # werkzeug de-chunks it and stops at the last chunk
    try:
        length = max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        length = 0
    return LimitedStream(environ["wsgi.input"], length)


def _drain(body: Any) -> None:
    """Read and drop what the application left of the request body."""
    if isinstance(body, LimitedStream):
        body.exhaust()
        return
    while body.read(65536):
        pass
