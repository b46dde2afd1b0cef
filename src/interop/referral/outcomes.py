"""Outcomes of a referral (转介反馈): what the hospital sends back, and the follow-up (DL-17).

When the hospital completes the Task, each ``Task.output`` reference of a
type we take in (inbound minimisation, §4.6) is fetched and stored with the
referral; :mod:`interop.casework.outcomes` then adds it to the child's case
record as a new version (9.2, 9.4.3). Other types are dropped and noted. The
follow-up is scheduled: within 5 working days of the discharge notice, then
monthly × 3 (6.1.4.1, DL-17).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from interop.core.workdays import CHINA_TZ
from interop.referral.records import Referral, ReferralStore
from interop.store import referrals as store

#: Outcome resource types we take in from a hospital (inbound minimisation, §4.6).
ACCEPTED_OUTCOMES = frozenset({"DocumentReference", "Encounter", "CarePlan", "Composition"})
#: DL-17: first follow-up within 5 working days of the discharge notice, then monthly × 3.
FOLLOW_UP_FIRST_WD = 5
FOLLOW_UP_MONTHLY = 3


def _relative(url: str, base: str) -> str:
    return url[len(base) :] if url.startswith(base) else url


def _text(concept: Any) -> str | None:
    if not isinstance(concept, dict):
        return None
    if concept.get("text"):
        return str(concept["text"])
    for c in concept.get("coding") or []:
        if c.get("display") or c.get("code"):
            return str(c.get("display") or c.get("code"))
    return None


class Outcomes(ReferralStore):
    """Fetching and storing the hospital's outcomes; scheduling the follow-up."""

    def _follow_up(self, finished: str) -> list[dict[str, Any]]:
        day = dt.datetime.fromisoformat(finished.replace("Z", "+00:00")).astimezone(CHINA_TZ)
        first, provisional = self.calendar.add_workdays(day.date(), FOLLOW_UP_FIRST_WD)
        out = [{"due": first.isoformat(), "provisional": provisional, "kind": "first"}]
        for n in range(1, FOLLOW_UP_MONTHLY + 1):
            month = first.month - 1 + n
            year = first.year + month // 12
            month = month % 12 + 1
            last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
            due = dt.date(year, month, min(first.day, last))
            out.append({"due": due.isoformat(), "provisional": False, "kind": "monthly"})
        return out

    def fetch_outcomes(self, ref: Referral, task: dict[str, Any]) -> int:
        """Fetch what ``Task.output`` references and store it in the child's file."""
        hosp = self.partner(ref.partner)
        stored = 0
        for out in task.get("output") or []:
            value = out.get("valueReference") or {}
            reference = value.get("reference")
            if not reference or reference.startswith("#") or "/" not in reference:
                continue
            rtype = reference.split("/")[-2]
            if rtype not in ACCEPTED_OUTCOMES:
                with self.archive.transaction() as conn:
                    detail = f"{rtype} is not taken in from hospitals (§4.6)"
                    self._event(conn, ref.id, "outcome-dropped", detail=detail)
                continue
            res = hosp.get(_relative(reference, hosp.transport.base_url))
            if res.verdict != "delivered":
                with self.archive.transaction() as conn:
                    self._event(conn, ref.id, "outcome-missing",
                                detail=f"{reference}: {res.error}")  # fmt: skip
                continue
            body = res.body
            try:
                resource = res.json() or {}
            except ValueError:
                resource = None
            if not isinstance(resource, dict) or resource.get("resourceType") != rtype:
                with self.archive.transaction() as conn:
                    self._event(conn, ref.id, "outcome-missing",
                                detail=f"{reference}: the answer is not a {rtype}")  # fmt: skip
                continue
            version = (resource.get("meta") or {}).get("versionId")
            if self._store_outcome(ref, reference, rtype, version, body):
                stored += 1
        return stored

    def _store_outcome(
        self, ref: Referral, reference: str, rtype: str, version: str | None, body: bytes
    ) -> bool:
        with self.archive.transaction() as conn:
            new = store.store_outcome(
                conn, referral_id=ref.id, case_number=ref.case_number, reference=reference,
                resource_type=rtype, version=version, body=body,
            )  # fmt: skip
            if new:
                self._event(conn, ref.id, "outcome", detail=f"{reference} stored")
        return new
