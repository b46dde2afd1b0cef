"""Read-only queries of the console's pages (审计, 名单同步, 审批, 待办): one page of rows
each, newest first, without loading payloads — a page answers in milliseconds with
10,000 cases and 100,000 audit events."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import orjson
import sqlalchemy as sa

from interop.store import schema as t
from interop.store.archive import Archive
from interop.store.cases import waiting_cases

__all__ = ["ConsoleQueries"]


class ConsoleQueries:
    def __init__(self, archive: Archive) -> None:
        self.engine = archive.engine

    def audit_page(
        self,
        *,
        limit: int = 100,
        before: int | None = None,
        case_number: str | None = None,
        action: str | None = None,
        actor: str | None = None,
    ) -> list[dict[str, Any]]:
        """Audit rows newest first, ``before`` a sequence number (the next page)."""
        a = t.audit_log.c
        q = sa.select(
            a.seq,
            a.recorded,
            a.case_number,
            a.action,
            a.disclosure_id,
            a.purpose,
            a.partner,
            a.actor,
        ).order_by(a.seq.desc())
        if before is not None:
            q = q.where(a.seq < before)
        if case_number:
            q = q.where(a.case_number == case_number)
        if action:
            q = q.where(a.action == action)
        if actor:
            q = q.where(a.actor == actor)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q.limit(limit)).mappings()]

    def audit_row(self, seq: int) -> dict[str, Any] | None:
        """One audit row with its AuditEvent (FHIR JSON) and hashes."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(t.audit_log).where(t.audit_log.c.seq == seq))
                .mappings()
                .first()
            )
        if row is None:
            return None
        out = dict(row)
        out["event"] = orjson.loads(out["event"])
        return out

    def disclosures(
        self, *, status: str | None = None, limit: int = 200, cases: Collection[str] | None = None
    ) -> list[dict[str, Any]]:
        """Disclosures (newest first) without their payload."""
        d = t.disclosures.c
        q = sa.select(
            d.id,
            d.case_number,
            d.purpose,
            d.partner,
            d.partner_kind,
            d.requester,
            d.status,
            d.break_glass,
            d.created_at,
            d.approver,
            d.policy,
        ).order_by(d.created_at.desc(), d.id)
        if status:
            q = q.where(d.status == status)
        if cases is not None:
            q = q.where(d.case_number.in_(list(cases)))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q.limit(limit)).mappings()]

    def open_reviews(self, cases: Collection[str] | None = None) -> list[dict[str, Any]]:
        """Break-glass reviews not yet done, earliest due first (4.7)."""
        r = t.reviews.c
        q = (
            sa.select(r.disclosure_id, r.case_number, r.kind, r.due, r.provisional)
            .where(r.status == "requested")
            .order_by(r.due)
        )
        if cases is not None:
            q = q.where(r.case_number.in_(list(cases)))
        with self.engine.connect() as conn:
            return [dict(x) for x in conn.execute(q).mappings()]

    def sync_runs(self, limit: int = 50) -> list[dict[str, Any]]:
        s = t.sync_runs.c
        q = sa.select(t.sync_runs).order_by(s.started_at.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def quarantine(self, run_id: str, limit: int = 500) -> list[dict[str, Any]]:
        """Quarantined rows of a run: row, field, code and message (never the raw row)."""
        qt = t.quarantine.c
        q = (
            sa.select(qt.row, qt.field, qt.code, qt.message)
            .where(qt.run_id == run_id)
            .order_by(qt.row, qt.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def waiting(
        self, *, cases: Collection[str] | None = None, limit: int = 300
    ) -> list[dict[str, Any]]:
        """Cases waiting to start with their deadline, earliest first (DL-01..03)."""
        with self.engine.connect() as conn:
            return waiting_cases(conn, cases=cases, limit=limit)

    def count_cases(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(t.cases)).scalar_one())
