"""Running the console: a socket bound to 127.0.0.1 by default, uvicorn serving the app,
and a graceful stop (SIGINT/SIGTERM: no new connections, requests in flight finish)."""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn

from interop.web.asgi import create_app
from interop.web.context import Console

__all__ = ["bind", "make_server"]

#: Seconds given to requests in flight when asked to stop.
GRACE_SECONDS = 10


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free port; read it from ``getsockname()``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def make_server(
    console: Console, *, log_level: str = "warning", on_stop: Callable[[], None] | None = None
) -> uvicorn.Server:
    """A uvicorn server for the console (``server.run(sockets=[bind(...)])``)."""
    config = uvicorn.Config(
        create_app(console),
        log_level=log_level,
        # The access log shows method, path and status only: URLs carry ids, never a name.
        access_log=log_level in ("info", "debug"),
        timeout_graceful_shutdown=GRACE_SECONDS,
        proxy_headers=False,
        server_header=False,
        lifespan="off",
    )
    return uvicorn.Server(config)
