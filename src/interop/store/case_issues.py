"""Rule issues recorded with a case record (规则问题): what ``interop import`` found.

The issues of the standard's profiles are derived data: importing the same
version again (with newer profiles) replaces them. The case record itself is
never changed (9.4.3).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from interop.store import schema as t
from interop.store.archive import Archive

__all__ = ["latest_case_issues", "record_case_issues"]

_KEYS = ("severity", "path", "code", "requirement", "message")


def record_case_issues(archive: Archive, case_number: str, issues: list[dict[str, Any]]) -> int:
    """Record ``issues`` for the latest stored version of a case; return that version."""
    cr, ci = t.case_records.c, t.case_issues.c
    with archive.transaction() as conn:
        version = conn.execute(
            sa.select(sa.func.max(cr.version)).where(cr.case_number == case_number)
        ).scalar_one()
        conn.execute(
            t.case_issues.delete().where(ci.case_number == case_number, ci.version == version)
        )
        if issues:
            conn.execute(
                t.case_issues.insert(),
                [
                    {"case_number": case_number, "version": version, "seq": n}
                    | {k: i.get(k) for k in _KEYS}
                    for n, i in enumerate(issues)
                ],
            )
    return int(version)


def latest_case_issues(archive: Archive, case_number: str) -> list[dict[str, Any]]:
    """The issues recorded with the latest version of a case (empty when none)."""
    cr, ci = t.case_records.c, t.case_issues.c
    latest = (
        sa.select(sa.func.max(cr.version)).where(cr.case_number == case_number).scalar_subquery()
    )
    q = (
        sa.select(*(getattr(ci, k) for k in _KEYS))
        .where(ci.case_number == case_number, ci.version == latest)
        .order_by(ci.seq)
    )
    with archive.engine.connect() as conn:
        return [dict(zip(_KEYS, row, strict=True)) for row in conn.execute(q)]
