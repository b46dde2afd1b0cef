"""Tables of the case as it happens: steps, caseloads, warnings and reminders (个案工作).

Used by interop.casework, read through :mod:`interop.store.schema`.
"""

from __future__ import annotations

import sqlalchemy as sa

from interop.store.tables import metadata

__all__ = ["case_steps", "case_warnings", "case_work", "reminders"]

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


# ---------------------------------------------------------------------------
# Version 9 — warnings of case steps and their supervisor sign-off (interop.casework)
# ---------------------------------------------------------------------------

#: Each warning-level rule issue a case step was recorded with: open until a supervisor who
#: is not the step's author signs it off with a reason (who and when are kept).
case_warnings = sa.Table(
    "case_warnings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_number", sa.String(40), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),  # the case-record version of the step
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("rule", sa.String(32), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("todo", sa.Text, nullable=False),
    sa.Column("author", sa.String(64)),  # staff id of who recorded the step
    sa.Column("recorded_at", sa.String(32), nullable=False),
    sa.Column("signed_by", sa.String(64)),
    sa.Column("signed_at", sa.String(32)),
    sa.Column("reason", sa.Text),
)


# ---------------------------------------------------------------------------
# Version 10 — deadline reminders of the console's job (提醒): one per deadline, person
# and day, whatever the number of runs or restarts.
# ---------------------------------------------------------------------------

#: A reminder of an open deadline (``cases due``) recorded for the person it concerns
#: (``worker``: the case's care manager; ``""`` when the case has none yet, e.g. a listed
#: child waiting to start) on one China day. Only what the 待办 page shows: the case
#: number, the rule, the last day, what started its clock (one deadline per party of DL-13)
#: and whether it has passed — never a name.
reminders = sa.Table(
    "reminders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("day", sa.String(10), nullable=False),
    sa.Column("worker", sa.String(64), nullable=False),
    sa.Column("case_number", sa.String(40), nullable=False),
    sa.Column("rule", sa.String(40), nullable=False),
    sa.Column("deadline", sa.String(10), nullable=False),
    sa.Column("ref", sa.String(40), nullable=False),  # a referral's id, else ""
    sa.Column("overdue", sa.Boolean, nullable=False),
    sa.Column("provisional", sa.Boolean, nullable=False),
    sa.Column("event", sa.String(200), nullable=False),  # what started the clock
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.UniqueConstraint(
        "day",
        "worker",
        "case_number",
        "rule",
        "deadline",
        "ref",
        "event",
        name="uq_reminders_once",
    ),
    sa.Index("ix_reminders_worker_day", "worker", "day"),
)
