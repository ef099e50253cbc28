"""A loopback HTTP stub server for third-party services: real HTTP in a thread, a log of every request,
and injectable faults (a status with an optional Retry-After, a hang, a dropped connection, a
malformed body). Each service stub subclasses it and implements `route`."""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclasses.dataclass
class Request:
    """One request as the stub saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int = 0  # what the stub answered
    at: float = 0.0  # time.monotonic() on arrival


@dataclasses.dataclass
class Reply:
    """What to answer."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, **headers: str) -> Reply:
        return cls(status, json.dumps(payload).encode(), "application/json", headers)


@dataclasses.dataclass
class Fault:
    """A scripted failure for requests matching `method` and the `path` pattern, `times` times."""

    method: str
    path: str
    times: int = 1
    status: int = 500
    retry_after: str | None = None
    hang_seconds: float = 0.0
    drop: bool = False
    malformed: bool = False


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hanging up mid-reply (timeouts under test) are expected, not worth a traceback."""
        return


class StubServer:
    """Base class: start/stop, request log, fault injection."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.on_request: Callable[[Request], None] | None = None  # called (in the server thread) on arrival
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def _handle(self) -> None:
                stub._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> StubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def inject(self, fault: Fault) -> None:
        """Add a scripted failure (first matching fault wins)."""
        with self._lock:
            self._faults.append(fault)

    def reset(self) -> None:
        """Forget every scripted fault, the request log and the arrival hook (between tests)."""
        with self._lock:
            self._faults.clear()
        self.requests.clear()
        self.on_request = None

    def calls(self, method: str, pattern: str) -> list[Request]:
        """Logged requests with this method whose path matches `pattern`."""
        return [r for r in list(self.requests) if r.method == method and re.fullmatch(pattern, r.path)]

    def route(self, request: Request) -> Reply:  # pragma: no cover - implemented by subclasses
        raise NotImplementedError

    def _take_fault(self, request: Request) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.method == request.method and re.fullmatch(fault.path, request.path):
                    fault.times -= 1
                    return fault
        return None

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = Request(
            method=handler.command,
            path=parts.path,
            query={key: values[0] for key, values in parse_qs(parts.query, keep_blank_values=True).items()},
            headers={key.lower(): value for key, value in handler.headers.items()},
            body=body,
            at=time.monotonic(),
        )
        self.requests.append(request)
        if self.on_request is not None:
            self.on_request(request)
        fault = self._take_fault(request)
        if fault is not None and fault.hang_seconds:
            time.sleep(fault.hang_seconds)
        if fault is not None and fault.drop:
            handler.connection.shutdown(socket.SHUT_RDWR)
            handler.close_connection = True
            return
        if fault is not None and fault.malformed:
            reply = Reply(200, b"{not json", "application/json")
        elif fault is not None and not fault.hang_seconds:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            reply = Reply.json(fault.status, {"detail": f"injected {fault.status}"}, **headers)
        else:
            reply = self.route(request)
        request.status = reply.status
        handler.send_response(reply.status)
        handler.send_header("Content-Type", reply.content_type)
        handler.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(reply.body)
