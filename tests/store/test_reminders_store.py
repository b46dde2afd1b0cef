"""The reminders table (schema 10) on SQLite and PostgreSQL: recording is idempotent per
deadline, person and day, also when two consoles record at once; a version 8 archive
gains the table when opened."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from interop.store import Archive
from interop.store import schema as t
from interop.store.reminders import Reminders

ITEMS = [
    {"case": "JX-1", "rule": "DL-13", "deadline": "2026-12-01", "overdue": True,
     "event": "last contact with family", "worker": "staff-01"},
    {"case": "JX-1", "rule": "DL-13", "deadline": "2026-12-01", "overdue": True,
     "event": "last contact with school", "worker": "staff-01"},
    {"case": "JX-2", "rule": "DL-03", "deadline": "2026-12-02", "overdue": False,
     "event": "listed (first session due)", "worker": None, "provisional": True},
    {"case": "JX-3", "rule": "referral-not-accepted", "deadline": "2026-12-02",
     "referral": "REF-1", "worker": "staff-02"},
]  # fmt: skip


def test_recorded_once_per_day_also_by_two_at_once(db_url: str) -> None:
    with Archive.create(db_url) as archive:
        store = Reminders(archive)
        assert store.record("2026-11-30", ITEMS) == 4
        assert store.record("2026-11-30", ITEMS) == 0
        added: list[int] = []
        threads = [
            threading.Thread(target=lambda: added.append(store.record("2026-12-01", ITEMS)))
            for _ in range(2)
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert sorted(added) == [0, 4] or sum(added) == 4
        assert store.count() == 8
        mine = store.of_day("2026-11-30", worker="staff-01")
        assert [r["event"] for r in mine] == ["last contact with family",
                                              "last contact with school"]  # fmt: skip
        assert {
            r["case_number"] for r in store.of_day("2026-11-30", worker="x", cases=["JX-3"])
        } == {"JX-3"}
        every = store.of_day("2026-11-30")
        assert every[0]["overdue"] and len(every) == 4
        assert {r["worker"] for r in every} == {"staff-01", "staff-02", ""}


def test_a_version_8_archive_gains_the_table(db_url: str) -> None:
    with Archive.create(db_url) as archive, archive.transaction() as conn:
        t.reminders.drop(conn)
        conn.execute(t.meta.update().where(t.meta.c.key == "schema_version").values(value="9"))
    with Archive.open(db_url) as archive:
        assert Reminders(archive).record("2026-11-30", ITEMS[:1]) == 1
        with archive.engine.connect() as conn:
            version = conn.execute(
                sa.select(t.meta.c.value).where(t.meta.c.key == "schema_version")
            ).scalar()
        assert version == str(t.SCHEMA_VERSION)
