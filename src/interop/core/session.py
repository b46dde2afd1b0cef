"""心理健康服务记录表 — Annex C, one service session (7.3)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from interop.core.fields import coded, codes, many, text
from interop.core.intake import MentalFindings


@dataclass(slots=True, kw_only=True)
class GuardianNotified:
    """告知监护人 — when, how and by whom the absent guardian was told (R-7.3-16)."""

    time: str
    channel: str  # phone | message | in-person | other
    by: str  # Staff id


@dataclass(slots=True, kw_only=True)
class Session:
    """心理健康服务记录 — Annex C (one per session)."""

    id: str
    number: int = text(req="C-09")
    start: str = text(req="C-06")
    end: str = text(req="C-06")
    location: str = coded("location-type", req="C-07")
    staff: list[str] = many(req="C-05")  # Staff ids; the first is the primary worker
    service_type: str = coded("service-type", req="§2.7")
    method: str = coded("service-method", req="§2.7")
    attendance: str = coded("attendance-status", req="7.5.3", default="attended")
    goal: str = text(req="C-10")
    theoretical_orientation: str = coded("theoretical-orientation", req="C-11")
    process: str = text(req="C-12")
    effect: MentalFindings = text(req="C-14")
    homework: str | None = text(req="C-15", default=None)
    reflection: str = text(req="C-16")
    record_date: str = text(req="C-17")
    remarks: str | None = text(req="C-18", default=None)
    problems_addressed: list[str] = codes("problem-type", req="§2.7")
    guardian_present: bool | None = text(req="R-7.3-16", default=None)
    guardian_notified: GuardianNotified | None = text(req="R-7.3-16", default=None)
    private_space_confirmed: bool | None = text(req="R-7.3-14", default=None)
    duration_override_reason: str | None = text(req="CL-05", default=None)

    @property
    def minutes(self) -> int:
        """Session length in whole minutes (Encounter.length, CL-05)."""
        delta = dt.datetime.fromisoformat(self.end) - dt.datetime.fromisoformat(self.start)
        return int(delta.total_seconds() // 60)

    @property
    def primary_worker(self) -> str | None:
        """The first listed staff member is the primary performer (PPRF)."""
        return self.staff[0] if self.staff else None
