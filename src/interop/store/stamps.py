"""The time stamps the archive writes (时间戳): UTC, to the second, ISO 8601.

No database library here: the modules that only stamp what they hand to the
archive do not load one.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["now_iso"]


def now_iso() -> str:
    """Now, as the archive stamps its rows (``2026-12-07T02:55:45+00:00``)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
