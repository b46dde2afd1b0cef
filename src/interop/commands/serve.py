"""``interop serve`` — the console (控制台) and JSON API for the people of the programme.

Binds 127.0.0.1:8080 by default (``--host``/``--port``; behind a TLS reverse proxy pass
``--secure`` so session cookies are marked Secure). Sign in with a staff id and password of
the staff register (``interop staff add``); scripts use ``/api/`` with a personal API token.
Ctrl-C or SIGTERM stops it gracefully. ``GET /healthz`` answers ``{"status": "ok"}``.
"""

from __future__ import annotations

import argparse

from interop._errors import InputError
from interop.i18n import _

MSG_BIND = "cannot listen on {host}:{port}: {why}"

NAME = "serve"
HELP = "run the web console and JSON API (127.0.0.1 by default)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any)")
    parser.add_argument(
        "--secure", action="store_true", help="served behind TLS: Secure cookies and HSTS"
    )
    parser.add_argument("--log-level", default="warning", choices=("warning", "info", "debug"))
    parser.add_argument("--now", metavar="DATETIME", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from interop.config import load_config
    from interop.privacy.session import clock
    from interop.store import Archive
    from interop.web.context import Console
    from interop.web.server import bind, make_server

    config = load_config(args.config)
    with Archive.open(args.db) as archive:
        console = Console(archive, config, secure=args.secure, now=clock(args.now))
        try:
            sock = bind(args.host, args.port)
        except OSError as exc:
            raise InputError(
                MSG_BIND.format(host=args.host, port=args.port, why=exc.strerror or exc),
                code="E840",
            ) from None
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        print(
            _("console at http://{host}:{port}/ (Ctrl-C stops)").format(host=shown, port=port),
            flush=True,
        )
        try:
            make_server(console, log_level=args.log_level).run(sockets=[sock])
        finally:
            console.close()
            sock.close()
    return 0
