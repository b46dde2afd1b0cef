"""The warnings of case steps (警示) and their sign-off by a supervisor (督导签核).

A step recorded with warning-level rule issues leaves each one here, open, with the
step's author. A supervisor who did not record the step signs it off with a reason;
who and when are kept, the row is never deleted. Written in the transaction of the
step (:func:`add`) or of the sign-off (:meth:`CaseWarnings.sign`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from interop.store import schema as t
from interop.store.archive import Archive, StoreError, now_iso

__all__ = ["CaseWarnings", "add"]

_COLUMNS = (
    "id",
    "case_number",
    "version",
    "action",
    "rule",
    "path",
    "message",
    "todo",
    "author",
    "recorded_at",
    "signed_by",
    "signed_at",
    "reason",
)


def add(
    conn: sa.Connection,
    case_number: str,
    version: int,
    action: str,
    findings: Sequence[dict[str, str]],
    author: str | None,
    stamp: str,
) -> None:
    """Keep the findings of one recorded step (warnings: a blocking one refused it) open."""
    rows = [
        {
            "case_number": case_number,
            "version": version,
            "action": action,
            "rule": f.get("rule", ""),
            "path": f.get("where", ""),
            "message": f.get("message", ""),
            "todo": f.get("todo", ""),
            "author": author,
            "recorded_at": stamp,
        }
        for f in findings
        if f.get("severity") != "block"  # a blocking one refuses the step: never stored
    ]
    if rows:
        conn.execute(t.case_warnings.insert(), rows)


class CaseWarnings:
    """The warnings table of an open :class:`~interop.store.archive.Archive`."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.engine = archive.engine

    def of_case(self, case_number: str) -> list[dict[str, Any]]:
        """Every warning of a case (open and signed off), oldest first."""
        w = t.case_warnings
        q = sa.select(*(w.c[n] for n in _COLUMNS)).where(w.c.case_number == case_number)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q.order_by(w.c.id)).mappings()]

    def open(self, cases: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """The open warnings of every case (or of ``cases``), by case then id."""
        w = t.case_warnings
        q = sa.select(*(w.c[n] for n in _COLUMNS)).where(w.c.signed_by.is_(None))
        if cases is not None:
            q = q.where(w.c.case_number.in_(list(cases)))
        with self.engine.connect() as conn:
            rows = conn.execute(q.order_by(w.c.case_number, w.c.id)).mappings()
            return [dict(r) for r in rows]

    def sign(
        self,
        case_number: str,
        ids: Sequence[int],
        by: str,
        reason: str,
        check: Callable[[list[dict[str, Any]]], None],
        also: Callable[[sa.Connection, list[dict[str, Any]], str], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Sign off the open warnings ``ids`` of a case (all open ones when empty).

        ``check`` sees the rows first (and raises to refuse); ``also`` writes in the same
        transaction (the audit event). Returns the rows as signed.
        """
        w = t.case_warnings
        stamp = now_iso()
        with self.archive.transaction() as conn:
            q = sa.select(*(w.c[n] for n in _COLUMNS)).where(
                w.c.case_number == case_number, w.c.signed_by.is_(None)
            )
            if ids:
                q = q.where(w.c.id.in_(list(ids)))
            rows = [dict(r) for r in conn.execute(q.order_by(w.c.id)).mappings()]
            check(rows)
            done = conn.execute(
                w.update()
                .where(w.c.id.in_([r["id"] for r in rows]), w.c.signed_by.is_(None))
                .values(signed_by=by, signed_at=stamp, reason=reason)
            )
            if done.rowcount != len(rows):  # another supervisor signed some meanwhile
                raise StoreError(
                    f"case {case_number}: warnings were signed off meanwhile: show the case "
                    "and sign again",
                    code="E256",
                )
            signed = [{**r, "signed_by": by, "signed_at": stamp, "reason": reason} for r in rows]
            if also is not None:
                also(conn, signed, stamp)
        return signed
