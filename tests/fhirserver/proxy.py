"""A fault-injecting HTTP proxy in front of the test FHIR server (a real server on 127.0.0.1).

Each request is forwarded to the FHIR server unless a fault is armed for its
method (and, optionally, path prefix). The faults are those after which the
request may or may not have been processed:

- ``empty``: forwarded, then answered ``200`` with a transaction-response without entries;
- ``html``: forwarded, then answered ``200`` with an HTML page (a gateway's);
- ``timeout``: forwarded, then the answer is held back ``hold`` seconds (the client gives up);
- ``reset``: forwarded, then the connection is reset without an answer;
- ``reset-before``: the connection is reset before anything is forwarded (not processed);
- ``slow``: forwarded after ``hold`` seconds (a slow partner; every request, until cleared).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Fault:
    kind: str
    method: str = "POST"
    path: str = ""
    count: int = 1
    hold: float = 0.0


@dataclass
class ProxyState:
    upstream: str
    faults: list[Fault] = field(default_factory=list)
    slow: float = 0.0
    seen: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, fault
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for f in self.faults:
                if f.method == method and path.startswith(f.path) and f.count > 0:
                    f.count -= 1
                    if f.count == 0:
                        self.faults.remove(f)
                    return f
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: ProxyState

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _forward(self, body: bytes | None) -> tuple[int, dict[str, str], bytes]:
        req = urllib.request.Request(
            self.state.upstream + self.path.lstrip("/"),
            data=body,
            method=self.command,
            headers={
                k: v
                for k, v in self.headers.items()
                if k.lower() in ("content-type", "accept", "authorization")
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, dict(resp.headers.items()), resp.read()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, dict(exc.headers.items()), exc.read()

    def _answer(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _reset(self) -> None:
        # SO_LINGER 0: close() sends a TCP RST instead of a clean FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        path = self.path.lstrip("/")
        fault = self.state.take(self.command, path)
        kind = fault.kind if fault else ("slow" if self.state.slow else "")
        with self.state.lock:
            self.state.seen.append((self.command, path, kind))
        if fault and fault.kind == "reset-before":
            self._reset()
            return
        if self.state.slow and not fault:
            time.sleep(self.state.slow)
        status, headers, answer = self._forward(body)
        if fault is None:
            extra = {k: v for k, v in headers.items() if k.lower() in ("location", "etag")}
            ctype = headers.get("Content-Type", "application/fhir+json")
            self._answer(status, answer, ctype, **extra)
        elif fault.kind == "empty":
            self._answer(200, b'{"resourceType":"Bundle","type":"transaction-response"}',
                         "application/fhir+json")  # fmt: skip
        elif fault.kind == "html":
            self._answer(200, b"<html><body>Gateway</body></html>", "text/html")
        elif fault.kind == "timeout":
            time.sleep(fault.hold)
            self._reset()
        elif fault.kind == "reset":
            self._reset()
        else:
            raise AssertionError(f"unknown fault {fault.kind}")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class FaultProxy:
    """The proxy on an ephemeral port: ``base_url``, ``arm`` a fault, ``seen`` requests."""

    def __init__(self, upstream: str) -> None:
        self.state = ProxyState(upstream if upstream.endswith("/") else upstream + "/")
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def arm(self, kind: str, *, method: str = "POST", path: str = "", count: int = 1,
            hold: float = 0.0) -> None:  # fmt: skip
        with self.state.lock:
            self.state.faults.append(Fault(kind, method, path, count, hold))

    def clear(self) -> None:
        with self.state.lock:
            self.state.faults.clear()
        self.state.slow = 0.0

    def slow(self, seconds: float) -> None:
        self.state.slow = seconds

    def seen(self, method: str | None = None) -> list[tuple[str, str, str]]:
        with self.state.lock:
            return [s for s in self.state.seen if method is None or s[0] == method]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
