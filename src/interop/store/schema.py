"""Tables of the archive (SQLAlchemy Core), and the schema version.

Permanent retention (9.4.3): list entries and case records are versioned;
a change adds a version and nothing is overwritten or deleted. Children
absent from a full list are marked ``delisted``, never removed.

Bump :data:`SCHEMA_VERSION` with every change of these tables and add a
step to :data:`MIGRATIONS` that brings the previous version forward.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

#: Version of the tables below; stored in ``interop_meta`` under ``schema_version``.
SCHEMA_VERSION = 9

metadata = sa.MetaData()

meta = sa.Table(
    "interop_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

#: One row per child on a list: the match key and where its current list entry is
#: (``child_versions`` at ``version``; the entry is stored once, guardians included:
#: the current guardians are those of the current entry, no table of their own). Ids come from the
#: ``child`` sequence, so a batch of new children is written without reading ids back.
children = sa.Table(
    "children",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("match_key", sa.String(80), nullable=False, unique=True),
    sa.Column("resident_id", sa.String(18)),  # (indexed where the key does not say it: v4)
    sa.Column("case_number", sa.String(40), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # listed | delisted
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("raw_digest", sa.String(32), nullable=False),
    sa.Column("entry_digest", sa.String(32), nullable=False),
    sa.Column("first_run", sa.String(32), nullable=False),
    sa.Column("changed_run", sa.String(32), nullable=False),
)

#: Every version of every list entry (who said what about the child, and when).
child_versions = sa.Table(
    "child_versions",
    metadata,
    sa.Column("child_id", sa.Integer, sa.ForeignKey("children.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("entry", sa.Text, nullable=False),
    sa.Column("changed", sa.Text, nullable=False),  # JSON list of field names
    sa.Column("created_at", sa.String(32), nullable=False),
)

#: One row per case (个案): state, risk and the start deadline while waiting.
cases = sa.Table(
    "cases",
    metadata,
    sa.Column("case_number", sa.String(40), primary_key=True),
    sa.Column("child_id", sa.Integer, sa.ForeignKey("children.id")),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("risk_level", sa.String(16)),
    sa.Column("received", sa.String(10)),
    sa.Column("deadline_rule", sa.String(8)),
    sa.Column("deadline_start", sa.String(10)),
    sa.Column("deadline_due", sa.String(10), index=True),
    sa.Column("provisional", sa.Boolean, nullable=False, default=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
)

#: Full case records (一人一档), every version.
case_records = sa.Table(
    "case_records",
    metadata,
    sa.Column("case_number", sa.String(40), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("digest", sa.String(32), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),  # sync | import
    sa.Column("run_id", sa.String(32)),
    sa.Column("created_at", sa.String(32), nullable=False),
)

#: The standard's rule issues of each stored case-record version (``interop import``):
#: the FHIR profiles' findings, recorded with the case (refused only with ``--strict``).
case_issues = sa.Table(
    "case_issues",
    metadata,
    sa.Column("case_number", sa.String(40), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("requirement", sa.String(32)),
    sa.Column("message", sa.Text, nullable=False),
)

sync_runs = sa.Table(
    "sync_runs",
    metadata,
    sa.Column("run_id", sa.String(32), primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("mapping", sa.String(100), nullable=False),
    sa.Column("partner", sa.String(100)),
    sa.Column("full_list", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # see interop.store.runs.STATUSES
    sa.Column("started_at", sa.String(32), nullable=False),
    sa.Column("finished_at", sa.String(32)),
    sa.Column("rows", sa.Integer, nullable=False, default=0),
    sa.Column("new", sa.Integer, nullable=False, default=0),
    sa.Column("changed", sa.Integer, nullable=False, default=0),
    sa.Column("unchanged", sa.Integer, nullable=False, default=0),
    sa.Column("delisted", sa.Integer, nullable=False, default=0),
    sa.Column("quarantined", sa.Integer, nullable=False, default=0),
    sa.Column("message", sa.Text),
    # who ran it: a staff id (INTEROP_TOKEN), or "unattended"; a full list's delistings are theirs
    sa.Column("actor", sa.String(64)),
)

#: Rows that could not be taken in, with the reason and the raw row (stored, never printed).
quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(32), nullable=False, index=True),
    sa.Column("row", sa.Integer, nullable=False),
    sa.Column("field", sa.String(100), nullable=False),
    sa.Column("code", sa.String(40), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("raw", sa.Text, nullable=False),
)

#: The ``since`` cursor of each partner feed, advanced with each page committed.
cursors = sa.Table(
    "partner_cursors",
    metadata,
    sa.Column("partner", sa.String(100), primary_key=True),
    sa.Column("cursor", sa.Text, nullable=False),
    sa.Column("run_id", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
)

sequences = sa.Table(
    "sequences",
    metadata,
    sa.Column("name", sa.String(80), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)

#: from-version → step bringing the schema to from-version + 1.
MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {}


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


def _v1_to_v2(conn: sa.Connection) -> None:
    for table in (disclosures, reviews, audit_log, audit_head):
        table.create(conn, checkfirst=True)


MIGRATIONS[1] = _v1_to_v2


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


def _v2_to_v3(conn: sa.Connection) -> None:
    for table in (
        outbox,
        outbox_partners,
        outbox_attempts,
        referrals,
        referral_events,
        referral_outcomes,
        referral_partners,
    ):
        table.create(conn, checkfirst=True)


MIGRATIONS[2] = _v2_to_v3


# ---------------------------------------------------------------------------
# Version 4 — children found by resident ID through their match key where it says
# the ID (a first sync keeps one index fewer).
# ---------------------------------------------------------------------------

#: True for a child whose match key does not say its resident ID (``k:`` + the ID is
#: the key of every list keyed by ID — the default — and its unique index finds those).
ID_NOT_IN_KEY = (
    children.c.match_key != sa.literal_column("'k:'", sa.String) + children.c.resident_id
)

#: The other children by resident ID (a list keyed by another column that has one): a
#: partial index, :data:`ID_NOT_IN_KEY` in SQL that SQLite and PostgreSQL both read. It is
#: DDL rather than an ``sa.Index``: the index's dialect keywords (``sqlite_where``,
#: ``postgresql_where``) would load the PostgreSQL dialect into every command that opens a
#: SQLite archive (25 ms of each start, and of a large sync's critical path).
CHILDREN_BY_ID_OFF_KEY = (
    "CREATE INDEX IF NOT EXISTS ix_children_resident_id_off_key ON children (resident_id)"
    " WHERE match_key != ('k:' || resident_id)"
)


def create(conn: sa.Connection) -> None:
    """The whole schema of a new archive: the tables of :data:`metadata`, and the index
    that is DDL (:data:`CHILDREN_BY_ID_OFF_KEY`)."""
    metadata.create_all(conn)
    conn.execute(sa.text(CHILDREN_BY_ID_OFF_KEY))


def _v3_to_v4(conn: sa.Connection) -> None:
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_children_resident_id"))
    conn.execute(sa.text(CHILDREN_BY_ID_OFF_KEY))


MIGRATIONS[3] = _v3_to_v4


# ---------------------------------------------------------------------------
# Version 5 — the referral loop that never loses sight of a child: crisis deliveries
# claimed first, and each referral followed on its own cadence.
# ---------------------------------------------------------------------------


def _v4_to_v5(conn: sa.Connection) -> None:
    """Add ``outbox.priority`` (crisis rows claimed first) and ``referrals.polled_at``
    (when each referral's Task was last read back: the crisis cadence is per referral)."""
    # (An archive older than v3 gets these tables from today's metadata, columns included.)
    have = sa.inspect(conn)
    if "priority" not in {c["name"] for c in have.get_columns("outbox")}:
        conn.execute(sa.text("ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0"))
    if "polled_at" not in {c["name"] for c in have.get_columns("referrals")}:
        conn.execute(sa.text("ALTER TABLE referrals ADD COLUMN polled_at VARCHAR(32)"))


MIGRATIONS[4] = _v4_to_v5


# ---------------------------------------------------------------------------
# Version 6 — the case as it happens: each step recorded, caseloads (7.1–7.6, §3.3;
# R-7.3-08/CL-04, 9.4.3; interop.store.casework).
# ---------------------------------------------------------------------------

#: One row per case: its state and care manager as of its latest version (CL-04, G-09),
#: and its open deadlines.
case_work = sa.Table(
    "case_work",
    metadata,
    sa.Column("case_number", sa.String(40), primary_key=True),
    sa.Column("care_manager", sa.String(64), index=True),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("risk_level", sa.String(16)),
    sa.Column("updated_at", sa.String(32), nullable=False),
    # The case's own open deadlines (JSON list) as of version ``due_version``, worked out
    # when the version was written, so `cases due` need not rebuild every record.
    sa.Column("due", sa.Text),
    sa.Column("due_version", sa.Integer),
)

#: Every step recorded on a case (and every import): the version it made, the
#: transitions taken (§3.3) and the rules it broke (JSON list; warnings, or issues of
#: an imported record whose state contradicts its content).
case_steps = sa.Table(
    "case_steps",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_number", sa.String(40), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("from_state", sa.String(32)),
    sa.Column("to_state", sa.String(32), nullable=False),
    sa.Column("transitions", sa.String(80), nullable=False),  # "T-10,T-12"
    sa.Column("findings", sa.Text, nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
)


def _v5_to_v6(conn: sa.Connection) -> None:
    """Adds case_work and case_steps, and fills case_work from each case's latest record."""
    import json

    case_work.create(conn, checkfirst=True)
    case_steps.create(conn, checkfirst=True)
    latest = sa.select(case_records.c.body, cases.c.updated_at).join(
        cases,
        sa.and_(
            cases.c.case_number == case_records.c.case_number,
            cases.c.version == case_records.c.version,
        ),
    )
    rows = []
    for body, updated in conn.execute(latest):
        case = json.loads(body).get("case", {})
        rows.append(
            {
                "case_number": case.get("case_number"),
                "care_manager": case.get("care_manager"),
                "state": case.get("state") or "listed",
                "risk_level": case.get("risk_level"),
                "updated_at": updated,
            }
        )
    have = {r[0] for r in conn.execute(sa.select(case_work.c.case_number))}
    rows = [r for r in rows if r["case_number"] and r["case_number"] not in have]
    if rows:
        conn.execute(case_work.insert(), rows)


MIGRATIONS[5] = _v5_to_v6


# ---------------------------------------------------------------------------
# Version 7 — the standard's rules wherever data moves: the issues of each imported
# case version (interop.store.case_issues).
# ---------------------------------------------------------------------------


def _v6_to_v7(conn: sa.Connection) -> None:
    """Adds ``case_issues``: the rule issues recorded with each imported case version."""
    case_issues.create(conn, checkfirst=True)


MIGRATIONS[6] = _v6_to_v7


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


def _v7_to_v8(conn: sa.Connection) -> None:
    """Adds the staff register, accounts, API tokens, console sessions and the case-staff
    index (filled from the latest version of each case record)."""
    import orjson

    for table in (staff, staff_accounts, staff_tokens, web_sessions, case_staff):
        table.create(conn, checkfirst=True)
    cr = case_records.c
    latest = (
        sa.select(cr.case_number, sa.func.max(cr.version).label("v"))
        .group_by(cr.case_number)
        .subquery()
    )
    rows = conn.execute(
        sa.select(cr.case_number, cr.body).join(
            latest, (cr.case_number == latest.c.case_number) & (cr.version == latest.c.v)
        )
    )
    links = {
        (number, str(s["id"])): str(s.get("role") or "")
        for number, body in rows
        for s in orjson.loads(body).get("staff") or ()
        if isinstance(s, dict) and s.get("id")
    }
    # (An archive that already has the table keeps its rows: the step may run again.)
    have = set(conn.execute(sa.select(case_staff.c.case_number, case_staff.c.staff_id)).all())
    links = {k: v for k, v in links.items() if tuple(k) not in have}
    if links:
        conn.execute(
            case_staff.insert(),
            [{"case_number": c, "staff_id": i, "role": r} for (c, i), r in links.items()],
        )


MIGRATIONS[7] = _v7_to_v8


# ---------------------------------------------------------------------------
# Version 9 — who ran each sync run (a full list's delistings are recorded with who
# and which run: interop.store.runs).
# ---------------------------------------------------------------------------


def _v8_to_v9(conn: sa.Connection) -> None:
    """Adds ``sync_runs.actor`` (earlier runs keep NULL: who ran them was not recorded)."""
    have = {c["name"] for c in sa.inspect(conn).get_columns("sync_runs")}
    if "actor" not in have:
        conn.execute(sa.text("ALTER TABLE sync_runs ADD COLUMN actor VARCHAR(64)"))


MIGRATIONS[8] = _v8_to_v9
