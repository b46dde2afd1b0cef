"""The clock that stamps what interop records (时钟).

Audit rows, disclosures, consents and deadlines take "now" from one
:class:`Clock` given by the command line (:class:`SystemClock`); a test or a
demo gives a :class:`FixedClock` through the Python API (``interop.cli.main(...,
clock=...)``). No command-line option sets the time: audit rows are stamped
by the real clock, and ``interop audit verify`` reports a row stamped earlier
than the row before it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from interop.core.workdays import CHINA_TZ

__all__ = ["Clock", "FixedClock", "SystemClock"]


class Clock(Protocol):
    """Where "now" comes from (aware date-times)."""

    def now(self) -> dt.datetime: ...


@dataclass(frozen=True, slots=True)
class SystemClock:
    """The machine's clock, in China time."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(CHINA_TZ)


@dataclass(frozen=True, slots=True)
class FixedClock:
    """Always the same moment (tests, demos); a naive moment is China time."""

    moment: dt.datetime

    def __post_init__(self) -> None:
        if self.moment.tzinfo is None:
            object.__setattr__(self, "moment", self.moment.replace(tzinfo=CHINA_TZ))

    def now(self) -> dt.datetime:
        return self.moment
