"""Tables of the staff register, accounts, API tokens and console sessions (人员名册).

Used by interop.staff, interop.web, read through :mod:`interop.store.schema`.
"""

from __future__ import annotations

import sqlalchemy as sa

from interop.store.tables import metadata

__all__ = ["case_staff", "staff", "staff_accounts", "staff_tokens", "web_sessions"]

# ---------------------------------------------------------------------------
# Version 8 — the staff register (人员名册), accounts, API tokens and console
# sessions (interop.staff, interop.web). 5.2; G-16: approval authority comes from
# the register, never from a case record.
# ---------------------------------------------------------------------------

#: One row per person of the service organisation; ids are the ids case records use.
staff = sa.Table(
    "staff",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),  # shown to signed-in staff only, never logged
    sa.Column("roles", sa.Text, nullable=False),  # JSON list of role codes
    sa.Column("qualifications", sa.Text, nullable=False),  # JSON list of {kind, ref, date, until}
    sa.Column("screening", sa.Text, nullable=False),  # JSON list of {kind, date, result} (5.2)
    sa.Column("active_from", sa.String(10), nullable=False),
    sa.Column("active_until", sa.String(10)),  # set by deactivation
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
)

#: The password of a person (argon2id hash) and its lockout counters.
staff_accounts = sa.Table(
    "staff_accounts",
    metadata,
    sa.Column("staff_id", sa.String(64), sa.ForeignKey("staff.id"), primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", sa.Float),  # epoch seconds
    sa.Column("changed_at", sa.String(32), nullable=False),
)

#: Personal API tokens: only the SHA-256 of the secret is kept.
staff_tokens = sa.Table(
    "staff_tokens",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("staff_id", sa.String(64), sa.ForeignKey("staff.id"), nullable=False, index=True),
    sa.Column("secret_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),  # epoch seconds
    sa.Column("revoked_at", sa.String(32)),
    sa.Column("last_used_at", sa.String(32)),
)

#: Signed-in console sessions: the SHA-256 of the cookie's secret and the CSRF token.
web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("secret_sha256", sa.String(64), primary_key=True),
    sa.Column("staff_id", sa.String(64), sa.ForeignKey("staff.id"), nullable=False, index=True),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)


#: Who is staff on which case (the ``staff`` of the latest case record), so that a worker's
#: lists are one indexed query; written with each imported case-record version.
case_staff = sa.Table(
    "case_staff",
    metadata,
    sa.Column("case_number", sa.String(40), primary_key=True),
    sa.Column("staff_id", sa.String(64), primary_key=True, index=True),
    sa.Column("role", sa.String(32), nullable=False),
)
