"""Tables of purpose-of-use disclosures, supervisor reviews and the audit log (披露与审计日志).

Used by interop.privacy, read through :mod:`interop.store.schema`.
"""

from __future__ import annotations

import sqlalchemy as sa

from interop.store.tables import metadata

__all__ = ["audit_head", "audit_log", "disclosures", "reviews"]

# ---------------------------------------------------------------------------
# Version 2 — purpose-of-use disclosures, supervisor reviews, audit log
# (interop.privacy). 9.3, requirements §4.6–4.8, G-12, G-16.
# ---------------------------------------------------------------------------

#: Every outbound disclosure request: the exact payload, its hash and its fate.
disclosures = sa.Table(
    "privacy_disclosures",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("case_number", sa.String(40), nullable=False, index=True),
    sa.Column("case_version", sa.Integer),
    sa.Column("purpose", sa.String(40), nullable=False),
    sa.Column("partner", sa.String(100), nullable=False),
    sa.Column("partner_kind", sa.String(40), nullable=False),
    sa.Column("policy", sa.String(120)),  # file@version of the purpose policy
    sa.Column("requester", sa.String(64), nullable=False),
    # approved | pending | refused | rejected
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("break_glass", sa.Boolean, nullable=False, default=False),
    sa.Column("reason_code", sa.String(40)),
    sa.Column("reason_text", sa.Text),  # stored, never printed or logged
    sa.Column("payload", sa.LargeBinary),
    sa.Column("sha256", sa.String(64)),
    sa.Column("elements", sa.Text, nullable=False),  # JSON list of element paths
    sa.Column("reasons", sa.Text, nullable=False),  # JSON list of plain sentences
    sa.Column("entities", sa.Text, nullable=False),  # JSON list of [type, id]
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("decided_at", sa.String(32)),
    sa.Column("approver", sa.String(64)),
    sa.Column("decision_reason", sa.Text),
    sa.Column("delivered_at", sa.String(32)),
    sa.Column("delivery", sa.Text),  # JSON receipt or failure
)

#: Supervisor review tasks: post-hoc review of a break-glass disclosure (4.7, G-26).
reviews = sa.Table(
    "privacy_reviews",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("disclosure_id", sa.String(40), nullable=False, index=True),
    sa.Column("case_number", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),  # break-glass
    sa.Column("due", sa.String(10), nullable=False),
    sa.Column("provisional", sa.Boolean, nullable=False, default=False),
    sa.Column("status", sa.String(16), nullable=False),  # requested | completed
    sa.Column("outcome", sa.String(16)),  # justified | not-justified
    sa.Column("reviewer", sa.String(64)),
    sa.Column("flag", sa.Text, nullable=False),  # the crisis Flag raised (FHIR JSON)
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("completed_at", sa.String(32)),
)

#: Append-only, hash-chained audit log of AuditEvents (4.8); ``seq`` has no gaps.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("recorded", sa.String(32), nullable=False),
    sa.Column("case_number", sa.String(40), index=True),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("disclosure_id", sa.String(40), index=True),
    sa.Column("purpose", sa.String(40)),
    sa.Column("partner", sa.String(100)),
    sa.Column("actor", sa.String(64)),
    sa.Column("event", sa.Text, nullable=False),  # AuditEvent (FHIR R4 JSON)
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

#: The head of the chain (one row): last seq and hash; appends lock it.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)
