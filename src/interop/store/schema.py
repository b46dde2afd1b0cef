"""Tables of the archive (SQLAlchemy Core), and the schema version.

Permanent retention (9.4.3): list entries and case records are versioned;
a change adds a version and nothing is overwritten or deleted. Children
absent from a full list are marked ``delisted``, never removed.

The tables every archive has had since its first version are defined here; those
added since live by area in :mod:`interop.store.tables` and are gathered here, so
the store modules read every table from this one module. Bump :data:`SCHEMA_VERSION`
(kept in :mod:`interop.store.peek`, which a sync reads before this library is loaded)
with every change of the tables and add the step that brings the previous version
forward to :data:`interop.store.migrations.MIGRATIONS`.
"""

from __future__ import annotations

import sqlalchemy as sa

from interop.store.peek import SCHEMA_VERSION as SCHEMA_VERSION
from interop.store.tables import metadata
from interop.store.tables.casework import (
    case_steps,
    case_warnings,
    case_work,
    reminders,
)
from interop.store.tables.exchange import (
    outbox,
    outbox_attempts,
    outbox_partners,
    referral_events,
    referral_outcomes,
    referral_partners,
    referrals,
)
from interop.store.tables.privacy import (
    audit_head,
    audit_log,
    disclosures,
    reviews,
)
from interop.store.tables.staff import (
    case_staff,
    staff,
    staff_accounts,
    staff_tokens,
    web_sessions,
)

__all__ = [
    "CHILDREN_BY_ID_OFF_KEY",
    "ID_NOT_IN_KEY",
    "SCHEMA_VERSION",
    "audit_head",
    "audit_log",
    "case_issues",
    "case_records",
    "case_staff",
    "case_steps",
    "case_warnings",
    "case_work",
    "cases",
    "child_versions",
    "children",
    "create",
    "cursors",
    "disclosures",
    "meta",
    "metadata",
    "outbox",
    "outbox_attempts",
    "outbox_partners",
    "quarantine",
    "referral_events",
    "referral_outcomes",
    "referral_partners",
    "referrals",
    "reminders",
    "reviews",
    "sequences",
    "staff",
    "staff_accounts",
    "staff_tokens",
    "sync_runs",
    "web_sessions",
]


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
