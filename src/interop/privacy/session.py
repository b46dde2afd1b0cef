"""What the privacy commands share: opening a Discloser from the CLI options."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from interop._errors import InputError
from interop.config import load_config
from interop.core.workdays import CHINA_TZ
from interop.privacy.disclosure import Discloser
from interop.store import Archive

__all__ = ["add_now_option", "clock", "open_discloser"]


def add_now_option(parser: argparse.ArgumentParser) -> None:
    """A hidden ``--now`` (ISO date or date-time, China time) for tests and demos."""
    parser.add_argument("--now", metavar="DATETIME", help=argparse.SUPPRESS)


def clock(value: str | None) -> Callable[[], dt.datetime] | None:
    if not value:
        return None
    try:
        moment = (
            dt.datetime.combine(dt.date.fromisoformat(value), dt.time(10, 0))
            if len(value) == 10
            else dt.datetime.fromisoformat(value)
        )
    except ValueError:
        raise InputError("--now: not a date or date-time (ISO 8601)", code="E105") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA_TZ)
    return lambda: moment


@contextmanager
def open_discloser(args: argparse.Namespace) -> Iterator[Discloser]:
    from interop.engine import Engine
    from interop.staff.identity import authority

    config = load_config(args.config)
    with Archive.open(args.db) as archive:
        yield Discloser(
            archive,
            Engine(),
            config,
            now=clock(getattr(args, "now", None)),
            authority=authority(archive).active_roles,
        )
