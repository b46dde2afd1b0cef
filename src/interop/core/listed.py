"""A listed child's case record (名单儿童档案): the parts of the record the civil-affairs
list owns — child, case, guardian, organisations — and the whole record of a child newly
listed (LISTED, T-01). A re-sync merges the parts into the stored record
(:func:`interop.store.records.merge_list_fields`); the rest of the record is the service's.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable
from typing import Any

from interop.store.jsontext import dumpb

__all__ = ["ListParts", "changed_fields", "org_id"]


def org_id(prefix: str, name: str) -> str:
    """A stable id for a named school or office."""
    return prefix + hashlib.blake2b(name.encode(), digest_size=5).hexdigest()


def changed_fields(entry: dict[str, Any], old: dict[str, Any], status: str) -> list[str]:
    """The fields of a list entry that differ from the stored one's, by name; and
    ``status`` when the child is no longer listed (a delisted child named again)."""
    changed = sorted(f for f in entry.keys() | old.keys() if entry.get(f) != old.get(f))
    if status != "listed":
        changed.append("status")
    return changed


def _org(prefix: str, kind: str, name: str) -> tuple[str, dict[str, str]]:
    oid = org_id(prefix, name)
    return oid, {"id": oid, "kind": kind, "name": name}


class ListParts:
    """The list-owned parts of one list's children.

    What a list repeats is worked out once per run (bounded caches): each named
    school and office (its id and organisation entry, shared between records:
    nothing changes them once built) and each guardian relationship's code
    (``relationship``: its code for the text of the list, or None).
    """

    def __init__(
        self,
        *,
        received: dt.date,
        contractor_id: str,
        contractor_name: str,
        relationship: Callable[[str], str | None],
        inclusion_basis: str | None = None,
    ) -> None:
        self.inclusion_basis = inclusion_basis
        self.contractor_id = contractor_id
        self.received = received.isoformat()
        self.contractor = {"id": contractor_id, "kind": "contractor", "name": contractor_name}
        self._relationship = functools.lru_cache(maxsize=4096)(relationship)
        self._org = functools.lru_cache(maxsize=4096)(_org)

    def of(self, entry: dict[str, Any]) -> dict[str, Any]:
        """The list-owned parts of a case record, from a list entry."""
        get = entry.get
        child: dict[str, Any] = {
            "name": entry["name"],
            "sex": entry["sex"],
            "ethnicity": entry["ethnicity"],
            "birth_date": entry["birth_date"],
            "home_address": {"text": entry["home_address"]},
            "household_registration": {"text": entry["household_registration"]},
        }
        if "resident_id" in entry:
            child["resident_id"] = entry["resident_id"]
        if categories := get("difficulty_categories"):
            child["difficulty_categories"] = categories
        orgs = [self.contractor]
        stage, name = get("school_stage"), get("school")
        if name or stage:
            school: dict[str, Any] = {"enrolled": stage != "not-applicable"}
            if stage:
                school["stage"] = stage
            if name:
                sid, org = self._org("school-", "school", name)
                orgs.append(org)
                school["school"] = sid
            child["school"] = school
        case: dict[str, Any] = {
            "risk_level": entry["risk_level"],
            "designation_date": entry["designation_date"],
        }
        if self.inclusion_basis:
            case["inclusion_basis"] = self.inclusion_basis
        if name := get("designating_org"):
            oid, org = self._org("ca-", "civil-affairs", name)
            orgs.append(org)
            case["designating_org"] = oid
        adults = []
        if name := get("guardian_name"):
            adult: dict[str, Any] = {"id": "guardian-list", "name": name, "roles": ["guardian"]}
            rel = get("guardian_relationship")
            if code := (self._relationship(rel) if rel else None):
                adult["relationship"] = code
            if phone := get("guardian_phone"):
                adult["phone"] = phone
            adults.append(adult)
        return {"child": child, "case": case, "adults": adults, "organisations": orgs}

    def new_record(self, entry: dict[str, Any]) -> bytes:
        """The canonical JSON of a newly listed child's whole case record (LISTED, T-01),
        its case number "" (the writer fills it in)."""
        parts = self.of(entry)
        parts["case"] |= {
            "case_number": "",
            "state": "listed",
            "list_received_date": self.received,
            "contractor": self.contractor_id,
        }
        parts["format_version"] = "1.0"
        return dumpb(parts)
