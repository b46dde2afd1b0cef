"""The steps between archive schema versions (模式迁移): each brings an archive one version
forward, so that :mod:`interop.store.migrate` can open an archive an older release wrote.

The tables themselves are :mod:`interop.store.schema`; bump its ``SCHEMA_VERSION`` with every
change of them and add here the step that brings the previous version forward.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from interop.store import schema as t

__all__ = ["MIGRATIONS"]


def _v1_to_v2(conn: sa.Connection) -> None:
    """Adds purpose-of-use disclosures, supervisor reviews and the audit log (9.3, §4.6–4.8)."""
    for table in (t.disclosures, t.reviews, t.audit_log, t.audit_head):
        table.create(conn, checkfirst=True)


def _v2_to_v3(conn: sa.Connection) -> None:
    """Adds the durable outbox and hospital referrals (6.2.1, R-6.2.1-02, DL-07/08/10/17)."""
    for table in (
        t.outbox,
        t.outbox_partners,
        t.outbox_attempts,
        t.referrals,
        t.referral_events,
        t.referral_outcomes,
        t.referral_partners,
    ):
        table.create(conn, checkfirst=True)


def _v3_to_v4(conn: sa.Connection) -> None:
    """Children found by resident ID through their match key where it says the ID: the full
    index gives way to the partial one (a first sync keeps one index fewer)."""
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_children_resident_id"))
    conn.execute(sa.text(t.CHILDREN_BY_ID_OFF_KEY))


def _v4_to_v5(conn: sa.Connection) -> None:
    """Add ``outbox.priority`` (crisis rows claimed first) and ``referrals.polled_at``
    (when each referral's Task was last read back: the crisis cadence is per referral)."""
    # (An archive older than v3 gets these tables from today's metadata, columns included.)
    have = sa.inspect(conn)
    if "priority" not in {c["name"] for c in have.get_columns("outbox")}:
        conn.execute(sa.text("ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0"))
    if "polled_at" not in {c["name"] for c in have.get_columns("referrals")}:
        conn.execute(sa.text("ALTER TABLE referrals ADD COLUMN polled_at VARCHAR(32)"))


def _v5_to_v6(conn: sa.Connection) -> None:
    """Adds case_work and case_steps, and fills case_work from each case's latest record."""
    import json

    t.case_work.create(conn, checkfirst=True)
    t.case_steps.create(conn, checkfirst=True)
    latest = sa.select(t.case_records.c.body, t.cases.c.updated_at).join(
        t.cases,
        sa.and_(
            t.cases.c.case_number == t.case_records.c.case_number,
            t.cases.c.version == t.case_records.c.version,
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
    have = {r[0] for r in conn.execute(sa.select(t.case_work.c.case_number))}
    rows = [r for r in rows if r["case_number"] and r["case_number"] not in have]
    if rows:
        conn.execute(t.case_work.insert(), rows)


def _v6_to_v7(conn: sa.Connection) -> None:
    """Adds ``case_issues``: the rule issues recorded with each imported case version."""
    t.case_issues.create(conn, checkfirst=True)


def _v7_to_v8(conn: sa.Connection) -> None:
    """Adds the staff register, accounts, API tokens, console sessions and the case-staff
    index (filled from the latest version of each case record)."""
    import orjson

    for table in (t.staff, t.staff_accounts, t.staff_tokens, t.web_sessions, t.case_staff):
        table.create(conn, checkfirst=True)
    cr = t.case_records.c
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
    have = set(conn.execute(sa.select(t.case_staff.c.case_number, t.case_staff.c.staff_id)).all())
    links = {k: v for k, v in links.items() if tuple(k) not in have}
    if links:
        conn.execute(
            t.case_staff.insert(),
            [{"case_number": c, "staff_id": i, "role": r} for (c, i), r in links.items()],
        )


def _v8_to_v9(conn: sa.Connection) -> None:
    """Adds case_warnings (steps recorded before it have no open warnings to sign off)."""
    t.case_warnings.create(conn, checkfirst=True)


def _v9_to_v10(conn: sa.Connection) -> None:
    """Adds the reminders table (idempotent: an archive that has it keeps its rows)."""
    t.reminders.create(conn, checkfirst=True)


def _v10_to_v11(conn: sa.Connection) -> None:
    """Adds ``referral_outcomes.case_version`` (None: not yet in the case record).

    Outcomes kept before stay unfiled: the next ``referral poll`` files them.
    """
    have = {c["name"] for c in sa.inspect(conn).get_columns("referral_outcomes")}
    if "case_version" not in have:
        conn.execute(sa.text("ALTER TABLE referral_outcomes ADD COLUMN case_version INTEGER"))


def _v11_to_v12(conn: sa.Connection) -> None:
    """Adds ``sync_runs.actor``: who ran each sync run, so a full list's delistings are
    recorded with who and which run (earlier runs keep NULL: who ran them was not kept)."""
    have = {c["name"] for c in sa.inspect(conn).get_columns("sync_runs")}
    if "actor" not in have:
        conn.execute(sa.text("ALTER TABLE sync_runs ADD COLUMN actor VARCHAR(64)"))


#: from-version → step bringing the schema to from-version + 1.
MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {
    1: _v1_to_v2,
    2: _v2_to_v3,
    3: _v3_to_v4,
    4: _v4_to_v5,
    5: _v5_to_v6,
    6: _v6_to_v7,
    7: _v7_to_v8,
    8: _v8_to_v9,
    9: _v9_to_v10,
    10: _v10_to_v11,
    11: _v11_to_v12,
}
