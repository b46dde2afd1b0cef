"""Start-of-service deadlines of a listed child (7.3; DL-01, DL-02, DL-03; G-04, G-06).

- DL-03: high risk found by dynamic monitoring — 5 working days from receipt.
- DL-02: medium risk — 10 working days from receipt.
- DL-01: 15 working days from the project agreement, or from the child's
  inclusion if later (G-04), when an agreement date is configured.

Every applicable deadline is computed and the earliest is enforced (G-06).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from interop.core.workdays import WorkCalendar, end_of_day

#: rule → (risk level it applies to or None for any, working days)
START_RULES: dict[str, tuple[str | None, int]] = {
    "DL-03": ("high", 5),
    "DL-02": ("medium", 10),
    "DL-01": (None, 15),
}


@dataclass(frozen=True, slots=True)
class Deadline:
    """A deadline: the rule, when its clock started, the last day, and whether provisional."""

    rule: str
    start: dt.date
    due: dt.date
    provisional: bool

    def overdue(self, now: dt.datetime) -> bool:
        """True once 23:59:59 Asia/Shanghai of the due day has passed."""
        return now > end_of_day(self.due)


def start_deadline(
    risk_level: str | None,
    received: dt.date,
    calendar: WorkCalendar,
    *,
    agreement_date: dt.date | None = None,
) -> Deadline | None:
    """The start deadline of a newly listed child, or None when no rule applies."""
    candidates: list[Deadline] = []
    for rule, (risk, days) in START_RULES.items():
        if rule == "DL-01":
            if agreement_date is None:
                continue
            start = max(agreement_date, received)  # G-04: inclusion acknowledged on receipt
        elif risk_level != risk:
            continue
        else:
            start = received
        due, provisional = calendar.add_workdays(start, days)
        candidates.append(Deadline(rule, start, due, provisional))
    if not candidates:
        return None
    return min(candidates, key=lambda d: (d.due, d.rule))


def earliest(*deadlines: Deadline | None) -> Deadline | None:
    """The earliest of several deadlines (G-06); None when there is none."""
    present = [d for d in deadlines if d is not None]
    return min(present, key=lambda d: (d.due, d.rule)) if present else None
