"""``interop serve`` — the console (控制台) and JSON API for the people of the programme.

Binds 127.0.0.1:8080 by default (``--host``/``--port``; behind a TLS reverse proxy pass
``--secure`` so session cookies are marked Secure). Sign in with a staff id and password of
the staff register (``interop staff add``); scripts use ``/api/`` with a personal API token.
Ctrl-C or SIGTERM stops it gracefully. It also runs the background jobs (``--no-jobs``:
not here): the outbox every 30 s, referral polling of partners due by their
``poll_minutes``, deadline reminders hourly (``--remind-every``, ``--remind-within``) and
each partner feed every ``sync_minutes`` — the same work as ``interop outbox run``,
``interop referral poll``, ``interop cases due`` and ``interop sync --partner``.
``GET /healthz`` answers ``{"status": "ok"}``.
"""

from __future__ import annotations

import argparse
import signal
from types import FrameType

from interop._errors import InputError
from interop.i18n import _

MSG_BIND = "cannot listen on {host}:{port}: {why}"

NAME = "serve"
HELP = "run the web console and JSON API (127.0.0.1 by default)"


class _Terminated(Exception):
    """SIGTERM arrived (after uvicorn's graceful shutdown)."""


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any)")
    parser.add_argument(
        "--secure", action="store_true", help="served behind TLS: Secure cookies and HSTS"
    )
    parser.add_argument("--log-level", default="warning", choices=("warning", "info", "debug"))
    parser.add_argument(
        "--no-jobs", action="store_true", help="do not run the outbox and referral polling here"
    )
    parser.add_argument("--outbox-every", type=float, default=30.0, metavar="SECONDS")
    parser.add_argument(
        "--poll-every",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how often to look for partners due a poll (their poll_minutes)",
    )
    parser.add_argument(
        "--remind-every",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="how often to record deadline reminders (default hourly; one per deadline, "
        "person and day)",
    )
    parser.add_argument(
        "--remind-within",
        type=int,
        default=3,
        metavar="DAYS",
        help="remind of deadlines within DAYS calendar days (overdue ones always; default 3)",
    )


def run(args: argparse.Namespace) -> int:
    from interop.config import load_config
    from interop.store import Archive
    from interop.web.context import Console
    from interop.web.server import bind, make_server

    config = load_config(args.config, secrets=args.settings.secrets)
    with Archive.open(args.db) as archive:
        console = Console(
            archive,
            config,
            secure=args.secure,
            now=args.settings.clock.now,
            canonical_base=args.settings.canonical_base,
        )
        if not args.no_jobs:
            from interop.web.jobs import Jobs

            # (built before listening: unusable feed settings stop the start, E851)
            console.jobs = Jobs.standard(
                console,
                outbox_every=args.outbox_every,
                poll_every=args.poll_every,
                remind_every=args.remind_every,
                remind_within=args.remind_within,
                org_code=args.settings.org_code,
            )
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
        if console.jobs is not None:
            console.jobs.start()
        # uvicorn shuts down gracefully on SIGTERM, then raises the signal again with the
        # handler it found: this one ends the command normally (exit 0) after the cleanup.
        previous = signal.signal(signal.SIGTERM, _terminated)
        try:
            make_server(console, log_level=args.log_level).run(sockets=[sock])
        except _Terminated:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            if console.jobs is not None:
                console.jobs.stop()
            console.close()
            sock.close()
    return 0
