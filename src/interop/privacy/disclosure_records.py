"""Reading stored disclosures and the break-glass report (信息提供, 9.3; §4.7)."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa

from interop._errors import InputError
from interop.privacy.disclosure_base import DiscloserBase
from interop.privacy.disclosure_model import Disclosure
from interop.store import schema as t


class DisclosureRecords(DiscloserBase):
    """Stored disclosures, read back."""

    def get(self, disclosure_id: str) -> Disclosure:
        """A stored disclosure (InputError when unknown)."""
        with self.archive.engine.connect() as conn:
            row = (
                conn.execute(sa.select(t.disclosures).where(t.disclosures.c.id == disclosure_id))
                .mappings()
                .first()
            )
            review = conn.execute(
                sa.select(t.reviews.c.due, t.reviews.c.outcome).where(
                    t.reviews.c.disclosure_id == disclosure_id
                )
            ).first()
        if row is None:
            raise InputError(f"no disclosure {disclosure_id}", code="E604")
        payload = row["payload"]
        return Disclosure(
            id=row["id"],
            case_number=row["case_number"],
            purpose=row["purpose"],
            partner=row["partner"],
            requester=row["requester"],
            status=row["status"],
            payload=bytes(payload) if payload else None,
            sha256=row["sha256"],
            reasons=tuple(orjson.loads(row["reasons"])),
            elements=tuple(orjson.loads(row["elements"])),
            partner_kind=row["partner_kind"],
            break_glass=bool(row["break_glass"]),
            approver=row["approver"],
            created_at=row["created_at"],
            decided_at=row["decided_at"],
            delivered_at=row["delivered_at"],
            review_due=review[0] if review else None,
            review_outcome=review[1] if review else None,
            policy=row["policy"],
        )

    def disclosures(
        self, *, case_number: str | None = None, status: str | None = None
    ) -> list[Disclosure]:
        c = t.disclosures.c
        q = sa.select(c.id).order_by(c.created_at, c.id)
        if case_number is not None:
            q = q.where(c.case_number == case_number)
        if status is not None:
            q = q.where(c.status == status)
        with self.archive.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(q)]
        return [self.get(i) for i in ids]

    def break_glass_report(
        self, *, since: str | None = None, until: str | None = None
    ) -> list[dict[str, Any]]:
        """Every break-glass disclosure with its review (requirements §4.7: monthly report)."""
        d, r = t.disclosures.c, t.reviews.c
        q = (
            sa.select(
                d.id,
                d.case_number,
                d.partner,
                d.requester,
                d.reason_code,
                d.created_at,
                r.due,
                r.status,
                r.outcome,
                r.reviewer,
            )
            .join(t.reviews, r.disclosure_id == d.id, isouter=True)
            .where(d.break_glass.is_(True), d.status == "approved")
            .order_by(d.created_at)
        )
        if since:
            q = q.where(d.created_at >= since)
        if until:
            q = q.where(d.created_at < until)
        keys = (
            "disclosure",
            "case",
            "partner",
            "requester",
            "reason_code",
            "created_at",
            "review_due",
            "review_status",
            "review_outcome",
            "reviewer",
        )
        with self.archive.engine.connect() as conn:
            return [dict(zip(keys, row, strict=True)) for row in conn.execute(q)]
