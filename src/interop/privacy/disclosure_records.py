"""Reading stored disclosures and the break-glass report (信息提供, 9.3; §4.7)."""

from __future__ import annotations

from typing import Any

import orjson

from interop._errors import InputError
from interop.privacy.disclosure_base import DiscloserBase
from interop.privacy.disclosure_model import Disclosure
from interop.store import disclosures as stored


class DisclosureRecords(DiscloserBase):
    """Stored disclosures, read back."""

    def get(self, disclosure_id: str) -> Disclosure:
        """A stored disclosure (InputError when unknown)."""
        with self.archive.engine.connect() as conn:
            found = stored.get(conn, disclosure_id)
        if found is None:
            raise InputError(f"no disclosure {disclosure_id}", code="E604")
        row, review = found
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
        with self.archive.engine.connect() as conn:
            ids = stored.ids(conn, case_number=case_number, status=status)
        return [self.get(i) for i in ids]

    def break_glass_report(
        self, *, since: str | None = None, until: str | None = None
    ) -> list[dict[str, Any]]:
        """Every break-glass disclosure with its review (requirements §4.7: monthly report)."""
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
            rows = stored.break_glass_rows(conn, since=since, until=until)
        return [dict(zip(keys, row, strict=True)) for row in rows]
