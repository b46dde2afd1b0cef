"""Data-sharing consent per topic (知情同意, 7.2.3; G-25) — checked before a disclosure.

A consent of the case record counts for a topic when, on the day of the
disclosure: its status is ``active``, it is not withdrawn, its date has come,
its period (if any) covers the day, the grantor is the guardian or the
temporary guardian (or the commissioner's organisation, G-25), and — where
the policy asks for it — the child's assent is recorded as given. While the
case is ``guardian-restricted`` (§4.4) the guardian's consent does not count:
only the temporary guardian's or the designated body's (G-25).

Every refusal says why in plain words without personal data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from interop.core.consent import Consent
from interop.core.record import CaseRecord

__all__ = ["ConsentCheck", "check_consent"]

_GRANTOR_ROLES = frozenset({"guardian", "temporary-guardian"})


@dataclass(frozen=True, slots=True)
class ConsentCheck:
    ok: bool
    consent_id: str | None
    reason: str


def _day(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _problem(
    record: CaseRecord, c: Consent, day: dt.date, need_assent: bool, restricted: bool
) -> str | None:
    withdrawn = _day(c.withdrawn_date)
    if c.status == "inactive" or (withdrawn is not None and withdrawn <= day):
        when = f" on {withdrawn.isoformat()}" if withdrawn else ""
        return f"consent {c.id} was withdrawn{when}"
    if c.status != "active":
        return f"consent {c.id} is {c.status}, not active"
    granted = _day(c.date)
    start = _day(c.period_start)
    end = _day(c.period_end)
    if granted is not None and granted > day:
        return f"consent {c.id} is dated {granted.isoformat()}, after {day.isoformat()}"
    if start is not None and start > day:
        return f"consent {c.id} starts on {start.isoformat()}"
    if end is not None and end < day:
        return f"consent {c.id} expired on {end.isoformat()}"
    adult = record.adult(c.grantor)
    commissioner = c.grantor is not None and c.grantor == record.case.commissioner
    if not commissioner and (adult is None or not _GRANTOR_ROLES & set(adult.roles)):
        return f"consent {c.id} is not granted by a guardian or temporary guardian (G-25)"
    temporary = adult is not None and "temporary-guardian" in adult.roles
    if restricted and not commissioner and not temporary:
        return (
            f"consent {c.id} is granted by the guardian, but the case is guardian-restricted: "
            "consent comes from the temporary guardian or the designated body (§4.4, G-25)"
        )
    if need_assent and c.child_assent is not True:
        state = "refused" if c.child_assent is False else "not recorded"
        return f"consent {c.id}: the child's assent is {state} (G-25)"
    return None


def check_consent(
    record: CaseRecord, topic: str, day: dt.date, *, child_assent: bool = True
) -> ConsentCheck:
    """Whether an active consent of ``topic`` covers ``day``; the reason when not."""
    restricted = "guardian-restricted" in record.case.safety_flags
    candidates = [c for c in record.consents if c.topic == topic]
    if not candidates:
        return ConsentCheck(False, None, f"no consent of topic '{topic}' is on record")
    problems = []
    for c in sorted(candidates, key=lambda c: c.date or "", reverse=True):
        problem = _problem(record, c, day, child_assent, restricted)
        if problem is None:
            return ConsentCheck(True, c.id, f"consent {c.id} of topic '{topic}' is active")
        problems.append(problem)
    return ConsentCheck(
        False, None, f"no active consent of topic '{topic}': " + "; ".join(problems)
    )
