"""One batch of a list sync, written in one transaction (同步批次).

The sync (:mod:`interop.inbound.reconcile`) hands over one batch at a
time; each batch is one transaction, so a run killed midway leaves every
committed batch whole and nothing of the batch in flight. The writes are
set-based (a few executemany per table and batch: :mod:`interop.store.driver`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa

from interop.store import schema as t
from interop.store.children import VERSION_COLUMNS, Known
from interop.store.driver import insert_rows, run_many, select_in
from interop.store.jsontext import digest, dumps
from interop.store.records import merge_list_fields

__all__ = [
    "Batch",
    "ChangedChild",
    "NewChild",
    "QuarantinedRow",
    "apply_batch",
    "with_case_number",
]


@dataclass(slots=True)
class NewChild:
    match_key: str
    resident_id: str | None
    entry_json: bytes  # canonical JSON of the list entry (see :func:`dumpb`)
    entry_digest: str
    raw_digest: str
    risk_level: str | None
    received: str
    deadline: tuple[str, str, str, bool] | None  # rule, start, due, provisional
    record_json: bytes  # canonical JSON of the case record, its case number "" (filled in here)


@dataclass(slots=True)
class ChangedChild:
    known: Known
    entry_json: bytes
    raw_digest: str
    changed: list[str]
    risk_level: str | None
    deadline: tuple[str, str, str, bool] | None
    merge: dict[str, Any]  # list-owned parts of the case record (merge_list_fields)


@dataclass(slots=True)
class QuarantinedRow:
    row: int
    field: str
    code: str
    message: str
    raw: dict[str, Any]


@dataclass(slots=True)
class Batch:
    new: list[NewChild] = field(default_factory=list)
    changed: list[ChangedChild] = field(default_factory=list)
    retouched: list[tuple[int, str]] = field(default_factory=list)  # (child_id, raw_digest)
    quarantined: list[QuarantinedRow] = field(default_factory=list)
    rows: int = 0
    unchanged: int = 0
    cursor: tuple[str, str] | None = None  # (partner, cursor) advanced with this batch


_NO_NUMBER = b'"case_number":""'
_NO_DEADLINE = (None, None, None, False)


def with_case_number(record: bytes, number: str) -> bytes:
    """The canonical JSON of a case record whose ``case.case_number`` was "", with ``number``.

    Equal to :func:`dumpb` of the record with the number in it: keys are sorted by
    name, not value, and only JSON structure (never a string's inside, where
    quotes are escaped) can read ``"case_number":""``.
    """
    if _NO_NUMBER not in record:
        raise ValueError("the case record has no empty case number to fill in")
    return record.replace(_NO_NUMBER, b'"case_number":' + orjson.dumps(number), 1)


_CHILD_COLUMNS = (
    "id",
    "match_key",
    "resident_id",
    "case_number",
    "status",
    "version",
    "raw_digest",
    "entry_digest",
    "first_run",
    "changed_run",
)
_CASE_COLUMNS = (
    "case_number",
    "child_id",
    "state",
    "risk_level",
    "received",
    "deadline_rule",
    "deadline_start",
    "deadline_due",
    "provisional",
    "version",
    "updated_at",
)
_RECORD_COLUMNS = ("case_number", "version", "digest", "body", "source", "run_id", "created_at")

_RECORDS = sa.select(
    t.case_records.c.case_number,
    t.case_records.c.version,
    t.case_records.c.body,
    t.case_records.c.digest,
)


def apply_batch(
    conn: sa.Connection, run_id: str, batch: Batch, *, case_prefix: str, stamp: str
) -> None:
    """Write one batch, with the run's counters (and cursor), in the caller's transaction."""
    if batch.new:
        insert_new(conn, run_id, batch.new, case_prefix, stamp)
    if batch.changed:
        apply_changes(conn, run_id, batch.changed, stamp)
    c = t.children.c
    run_many(
        conn,
        "children-retouched",
        lambda: (
            t.children.update()
            .where(c.id == sa.bindparam("cid"))
            .values(raw_digest=sa.bindparam("rd"))
        ),
        [{"cid": cid, "rd": rd} for cid, rd in batch.retouched],
    )
    if batch.quarantined:
        insert_rows(
            conn,
            t.quarantine,
            ("run_id", "row", "field", "code", "message", "raw"),
            [(run_id, q.row, q.field, q.code, q.message, dumps(q.raw)) for q in batch.quarantined],
        )
    r = t.sync_runs.c
    conn.execute(
        t.sync_runs.update()
        .where(r.run_id == run_id)
        .values(
            rows=r.rows + batch.rows,
            new=r.new + len(batch.new),
            changed=r.changed + len(batch.changed),
            unchanged=r.unchanged + batch.unchanged,
            quarantined=r.quarantined + len({q.row for q in batch.quarantined}),
        )
    )
    if batch.cursor is not None:
        partner, cur = batch.cursor
        values = {"cursor": cur, "run_id": run_id, "updated_at": stamp}
        done = conn.execute(
            t.cursors.update().where(t.cursors.c.partner == partner).values(**values)
        )
        if done.rowcount == 0:
            conn.execute(t.cursors.insert(), [{"partner": partner, **values}])


def next_numbers(conn: sa.Connection, name: str, n: int) -> int:
    """Reserve ``n`` numbers of sequence ``name``; returns the first."""
    s = t.sequences.c
    current = conn.execute(
        sa.select(s.value).where(s.name == name).with_for_update()
    ).scalar_one_or_none()
    if current is None:
        conn.execute(t.sequences.insert(), [{"name": name, "value": n}])
        return 1
    conn.execute(t.sequences.update().where(s.name == name).values(value=current + n))
    return int(current) + 1


def insert_new(
    conn: sa.Connection, run_id: str, new: list[NewChild], prefix: str, stamp: str
) -> None:
    """Four plain inserts per batch (executemany), ids and case numbers reserved up front.

    Each table's rows are built by one comprehension over the batch (no
    per-row appends to four lists: this is the writer's hot path).
    """
    by_year: dict[str, list[NewChild]] = {}
    for n in new:
        by_year.setdefault(n.received[:4], []).append(n)
    items: list[NewChild] = []
    numbers: list[str] = []
    for year, group in by_year.items():
        first = next_numbers(conn, f"case:{prefix}:{year}", len(group))
        items += group
        numbers += [f"{prefix}-{year}-{i:05d}" for i in range(first, first + len(group))]
    first_id = next_numbers(conn, "child", len(items))
    rows = list(zip(range(first_id, first_id + len(items)), numbers, items, strict=True))
    insert_rows(
        conn,
        t.children,
        _CHILD_COLUMNS,
        [
            (
                cid,
                n.match_key,
                n.resident_id,
                num,
                "listed",
                1,
                n.raw_digest,
                n.entry_digest,
                run_id,
                run_id,
            )
            for cid, num, n in rows
        ],
    )
    insert_rows(
        conn,
        t.child_versions,
        VERSION_COLUMNS,
        [(cid, 1, run_id, "listed", n.entry_json, "[]", stamp) for cid, _, n in rows],
    )
    insert_rows(
        conn,
        t.cases,
        _CASE_COLUMNS,
        [
            (
                num,
                cid,
                "listed",
                n.risk_level,
                n.received,
                *(n.deadline or _NO_DEADLINE),
                1,
                stamp,
            )
            for cid, num, n in rows
        ],
    )
    bodies = [with_case_number(n.record_json, num) for _, num, n in rows]
    insert_rows(
        conn,
        t.case_records,
        _RECORD_COLUMNS,
        [
            (num, 1, digest(body), body, "sync", run_id, stamp)
            for (_, num, _), body in zip(rows, bodies, strict=True)
        ],
    )


def apply_changes(
    conn: sa.Connection, run_id: str, changes: list[ChangedChild], stamp: str
) -> None:
    """A new version of each changed child, set-based: a few statements per batch."""
    c = t.children.c
    run_many(
        conn,
        "children-changed",
        lambda: (
            t.children.update()
            .where(c.id == sa.bindparam("cid"))
            .values(
                status=sa.bindparam("st"),
                version=sa.bindparam("v"),
                raw_digest=sa.bindparam("rd"),
                entry_digest=sa.bindparam("ed"),
                changed_run=sa.bindparam("run"),
            )
        ),
        [
            {
                "st": "listed",
                "cid": ch.known.child_id,
                "v": ch.known.version + 1,
                "rd": ch.raw_digest,
                "ed": digest(ch.entry_json),
                "run": run_id,
            }
            for ch in changes
        ],
    )
    insert_rows(
        conn,
        t.child_versions,
        VERSION_COLUMNS,
        [
            (
                ch.known.child_id,
                ch.known.version + 1,
                run_id,
                "listed",
                ch.entry_json,
                dumps(ch.changed),
                stamp,
            )
            for ch in changes
        ],
    )
    numbers = [ch.known.case_number for ch in changes]
    latest: dict[str, tuple[int, str, str]] = {}
    for i in range(0, len(numbers), 500):
        for number, version, body, d in select_in(
            conn, _RECORDS, numbers[i : i + 500], t.case_records.c.case_number
        ):
            if number not in latest or latest[number][0] < version:
                latest[number] = (version, body, d)
    records = []
    for ch in changes:
        found = latest.get(ch.known.case_number)
        if found is None:
            continue
        version, old_body, old_digest = found
        body = dumps(merge_list_fields(orjson.loads(old_body), ch.merge))
        new_digest = digest(body)
        if new_digest != old_digest:
            records.append(
                (ch.known.case_number, version + 1, new_digest, body, "sync", run_id, stamp)
            )
    insert_rows(conn, t.case_records, _RECORD_COLUMNS, records)
    k = t.cases.c
    # the case row holds the risk (and the deadline it sets): touched only when the
    # risk changed — a new address or phone number leaves it as it is
    plain = [ch for ch in changes if ch.deadline is None and "risk_level" in ch.changed]
    timed = [ch for ch in changes if ch.deadline is not None]
    run_many(
        conn,
        "cases-risk",
        lambda: (
            t.cases.update()
            .where(k.case_number == sa.bindparam("cn"), k.state == sa.bindparam("st"))
            .values(risk_level=sa.bindparam("rl"), updated_at=sa.bindparam("at"))
        ),
        [
            {"cn": ch.known.case_number, "st": "listed", "rl": ch.risk_level, "at": stamp}
            for ch in plain
        ],
    )
    run_many(
        conn,
        "cases-risk-deadline",
        lambda: (
            t.cases.update()
            .where(k.case_number == sa.bindparam("cn"), k.state == sa.bindparam("st"))
            .values(
                risk_level=sa.bindparam("rl"),
                updated_at=sa.bindparam("at"),
                deadline_rule=sa.bindparam("dr"),
                deadline_start=sa.bindparam("ds"),
                deadline_due=sa.bindparam("dd"),
                provisional=sa.bindparam("dp"),
            )
        ),
        [
            {
                "cn": ch.known.case_number,
                "st": "listed",
                "rl": ch.risk_level,
                "at": stamp,
                "dr": ch.deadline[0],
                "ds": ch.deadline[1],
                "dd": ch.deadline[2],
                "dp": ch.deadline[3],
            }
            for ch in timed
            if ch.deadline is not None
        ],
    )
