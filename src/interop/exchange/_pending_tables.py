"""Outbox and referral tables (moved into :mod:`interop.store.schema` as version 3)."""

from __future__ import annotations

import sqlalchemy as sa

from interop.store.schema import metadata

#: Every outbound delivery, written before any network call (durable outbox).
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
    sa.Column("partner", sa.String(100), nullable=False, index=True),
    sa.Column("kind", sa.String(40), nullable=False),  # referral | referral-cancel | …
    sa.Column("ref", sa.String(64), index=True),  # the referral (or disclosure) it carries
    sa.Column("method", sa.String(8), nullable=False),
    sa.Column("path", sa.Text, nullable=False),  # relative to the partner's base URL
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    # pending | sending | delivered | dead | cancelled | refused
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.Float, nullable=False, index=True),  # epoch seconds
    sa.Column("lease_until", sa.Float),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("delivered_at", sa.Float),
    sa.Column("last_status", sa.Integer),  # HTTP status of the last attempt
    sa.Column("last_error", sa.Text),  # plain words, partner's OperationOutcome summarised
    sa.Column("receipt", sa.Text),  # JSON: what the partner answered on success
)

#: Partners whose deliveries are paused (the kill switch).
outbox_partners = sa.Table(
    "outbox_partners",
    metadata,
    sa.Column("partner", sa.String(100), primary_key=True),
    sa.Column("paused", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("changed_at", sa.String(32), nullable=False),
)

#: Every attempt of every delivery (the history `interop outbox list --json` shows).
outbox_attempts = sa.Table(
    "outbox_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.String(32), nullable=False, index=True),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("worker", sa.String(64)),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),  # delivered | retry | dead | released
    sa.Column("http_status", sa.Integer),
    sa.Column("error", sa.Text),
)

OUTBOX_TABLES = (outbox, outbox_partners, outbox_attempts)


def ensure(conn: sa.Connection) -> None:
    metadata.create_all(conn, tables=list(OUTBOX_TABLES), checkfirst=True)
