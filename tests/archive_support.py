"""Putting a case record into a test archive (shared by the privacy and referral tests)."""

from __future__ import annotations

from typing import Any

from interop.caserecord import record_to_dict
from interop.engine import Engine
from interop.store import Archive


def store(archive: Archive, engine: Engine, doc: dict[str, Any]) -> str:
    checked = engine.check_case(doc)
    assert checked.record is not None and checked.ok, [i.line() for i in checked.issues]
    rec = checked.record
    archive.import_record(
        rec.case.case_number,
        record_to_dict(rec),
        state=rec.case.state,
        risk_level=rec.case.risk_level,
        resident_id=rec.child.resident_id,
        deadline=None,
        received=rec.case.list_received_date,
    )
    return rec.case.case_number
