"""Outbox deliveries of disclosures whose outcome the disclosure does not record yet.

Exchange queues an approved disclosure as an outbox item of kind
``disclosure`` (``ref`` = the disclosure id); once the outbox has delivered or
dead-lettered it, the outcome is written back to the disclosure and its
audit log. This is the one query that finds what is left to write back.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from interop.store import schema as t
from interop.store.archive import Archive

__all__ = ["Unrecorded", "unrecorded_disclosure_deliveries"]

#: The outbox kind of a disclosure carried as it is.
DISCLOSURE_KIND = "disclosure"


@dataclass(frozen=True, slots=True)
class Unrecorded:
    """An outbox item's outcome and what its disclosure recorded of deliveries so far."""

    item_id: str
    disclosure_id: str
    status: str  # delivered | dead
    last_error: str | None
    recorded: str | None  # the disclosure's delivery column (JSON), if any


def unrecorded_disclosure_deliveries(
    archive: Archive, item_ids: list[str] | None = None
) -> list[Unrecorded]:
    """Delivered or dead disclosure items whose disclosure is not marked delivered."""
    o, d = t.outbox.c, t.disclosures.c
    q = (
        sa.select(o.id, o.ref, o.status, o.last_error, d.delivery)
        .join(t.disclosures, d.id == o.ref)
        .where(
            o.kind == DISCLOSURE_KIND,
            o.status.in_(("delivered", "dead")),
            d.delivered_at.is_(None),
        )
        .order_by(o.created_at, o.id)
    )
    if item_ids is not None:
        q = q.where(o.id.in_(item_ids))
    with archive.engine.connect() as conn:
        return [Unrecorded(*row) for row in conn.execute(q)]
