"""Tables of the durable outbox and of hospital referrals (发送箱与转介).

Used by interop.exchange.outbox, interop.referral, read through :mod:`interop.store.schema`.
"""

from __future__ import annotations

import sqlalchemy as sa

from interop.store.tables import metadata

__all__ = [
    "outbox",
    "outbox_attempts",
    "outbox_partners",
    "referral_events",
    "referral_outcomes",
    "referral_partners",
    "referrals",
]

# ---------------------------------------------------------------------------
# Version 3 — durable outbox and hospital referrals
# (interop.exchange.outbox, interop.referral). 6.2.1, R-6.2.1-02, DL-07/08/10/17.
# ---------------------------------------------------------------------------

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
    sa.Column("priority", sa.Integer, nullable=False, server_default="0"),  # crisis first (v5)
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

#: One row per referral (转介, 6.2.1): our side of the closed loop (ServiceRequest + Task).
referrals = sa.Table(
    "referrals",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),  # our identifier value
    sa.Column("case_number", sa.String(40), nullable=False, index=True),
    sa.Column("partner", sa.String(100), nullable=False, index=True),
    sa.Column("trigger", sa.String(8), nullable=False),  # RT-01 … RT-10
    sa.Column("mode", sa.String(16), nullable=False),  # transfer | concurrent (G-13)
    sa.Column("reason", sa.Text, nullable=False),  # stored, never logged
    sa.Column("requester", sa.String(64), nullable=False),
    sa.Column("break_glass", sa.Boolean, nullable=False, default=False),
    # R-6.2.1-02: under-review | rejected | refused | approved | info-prepared | handed-over
    # | feedback-received | closed  (+ cancel-requested | cancelled)
    sa.Column("state", sa.String(24), nullable=False, index=True),
    sa.Column("task_status", sa.String(16)),  # FHIR Task.status last applied
    sa.Column("business_status", sa.Text),  # the hospital's Task.businessStatus text
    sa.Column("status_reason", sa.Text),  # the hospital's Task.statusReason text
    sa.Column("disclosure_id", sa.String(40), index=True),
    sa.Column("outbox_id", sa.String(32)),
    sa.Column("remote_task", sa.String(200)),  # Task/<id> at the hospital
    sa.Column("remote_service_request", sa.String(200)),
    sa.Column("remote_patient", sa.String(200)),
    sa.Column("remote_version", sa.String(64)),  # Task meta.versionId last seen
    sa.Column("remote_updated", sa.String(40)),  # Task meta.lastUpdated last seen
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("sent_at", sa.String(32)),
    sa.Column("accept_due", sa.String(10)),  # date: accepted within N working days
    sa.Column("accept_due_provisional", sa.Boolean, nullable=False, default=False),
    sa.Column("accepted_at", sa.String(32)),
    sa.Column("finished_at", sa.String(32)),
    sa.Column("follow_up", sa.Text),  # JSON list of {"due", "provisional"} (DL-17)
    sa.Column("updated_at", sa.String(32), nullable=False),
    sa.Column("polled_at", sa.String(32)),  # when its Task was last read back (v5)
)

#: The history of each referral: our steps, the hospital's transitions, and anomalies.
referral_events = sa.Table(
    "referral_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("referral_id", sa.String(40), nullable=False, index=True),
    sa.Column("at", sa.String(32), nullable=False),
    # created | under-review | approved | queued | delivered | delivery-dead | status
    # | anomaly | outcome | outcome-dropped | cancel-requested | cancelled | follow-up
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("from_status", sa.String(24)),
    sa.Column("to_status", sa.String(24)),
    sa.Column("remote_version", sa.String(64)),
    sa.Column("detail", sa.Text),  # plain words, no personal data
)

#: Outcomes fetched from the hospital (Task.output): stored in the child's file.
referral_outcomes = sa.Table(
    "referral_outcomes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("referral_id", sa.String(40), nullable=False, index=True),
    sa.Column("case_number", sa.String(40), nullable=False, index=True),
    sa.Column("reference", sa.String(200), nullable=False),
    sa.Column("resource_type", sa.String(64), nullable=False),
    sa.Column("version", sa.String(64)),
    sa.Column("body", sa.Text, nullable=False),  # FHIR JSON as received
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("fetched_at", sa.String(32), nullable=False),
    # The case-record version that holds it (v9; None until filed: interop.casework.outcomes).
    sa.Column("case_version", sa.Integer),
    sa.UniqueConstraint("referral_id", "reference", "version", name="uq_referral_outcome"),
)

#: Per hospital: our Organization's reference there and the polling cursor.
referral_partners = sa.Table(
    "referral_partners",
    metadata,
    sa.Column("partner", sa.String(100), primary_key=True),
    sa.Column("requester", sa.String(200)),  # Organization/<id> at the hospital
    sa.Column("cursor", sa.String(40)),  # greatest Task meta.lastUpdated seen
    sa.Column("polled_at", sa.String(32)),
)
