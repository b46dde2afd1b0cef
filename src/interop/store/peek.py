"""A SQLite archive read without the database library: what a sync's first pass needs.

A large sync's worker processes start reading the list before the main
process has loaded SQLAlchemy and opened the archive (:mod:`interop.inbound.firstpass`);
they read the children's digests with the standard library. The archive
itself runs the same statement (:meth:`interop.store.archive.Archive.listed_digests`),
so there is one definition of what is read.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import orjson

#: ``(match key, child id, raw digest while listed, else NULL)`` of every child.
LISTED_DIGESTS_SQL = (
    "SELECT match_key, id, CASE WHEN status = 'listed' THEN raw_digest END FROM children"
)
SCHEMA_VERSION_SQL = "SELECT value FROM interop_meta WHERE key = 'schema_version'"

#: :data:`LISTED_DIGESTS_SQL` as three aligned JSON arrays, on SQLite: a read of every
#: child builds three strings instead of a row object per child (a third less time).
LISTED_DIGESTS_JSON_SQL = (
    "SELECT json_group_array(match_key), json_group_array(id),"
    " json_group_array(CASE WHEN status = 'listed' THEN raw_digest END) FROM children"
)

#: child id, raw digest while listed (None once delisted)
Found = tuple[int, str | None]


def listed_digests(con: sqlite3.Connection) -> dict[str, Found]:
    """Every child's :data:`Found` by match key, read from a SQLite archive."""
    keys, ids, raws = con.execute(LISTED_DIGESTS_JSON_SQL).fetchone()
    return _parsed((None, (keys, ids, raws)))[1]


def children_bound(path: Path) -> int:
    """The highest child id (ids are never reused): how many children, at most — 0 for an
    archive that does not exist or has no tables yet. One index probe."""
    if not path.is_file():
        return 0
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA query_only = 1")
        try:
            row = con.execute("SELECT max(id) FROM children").fetchone()
        except sqlite3.OperationalError:
            return 0
    finally:
        con.close()
    return int(row[0] or 0)


def read_digests(path: Path) -> tuple[int | None, dict[str, Found]]:
    """The archive's schema version and its children's digests by match key.

    An archive that does not exist yet, or has no tables yet, has version
    None and no children. Nothing is written (``query_only``).
    """
    return _parsed(_read_raw(path))


#: What :func:`_read_raw` reads: the schema version and :data:`LISTED_DIGESTS_JSON_SQL`.
_Raw = tuple[int | None, tuple[str, str, str] | None]


def _read_raw(path: Path) -> _Raw:
    if not path.is_file():
        return None, None
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA query_only = 1")
        try:
            row = con.execute(SCHEMA_VERSION_SQL).fetchone()
        except sqlite3.OperationalError:  # no tables yet: a new archive
            return None, None
        version = int(row[0]) if row and str(row[0]).isdigit() else None
        keys, ids, raws = con.execute(LISTED_DIGESTS_JSON_SQL).fetchone()
        return version, (keys, ids, raws)
    finally:
        con.close()


def _parsed(raw: _Raw) -> tuple[int | None, dict[str, Found]]:
    version, arrays = raw
    if arrays is None:
        return version, {}
    keys, ids, raws = arrays
    pairs = zip(orjson.loads(ids), orjson.loads(raws), strict=True)
    return version, dict(zip(orjson.loads(keys), pairs, strict=True))


class DigestsAhead:
    """:func:`read_digests` begun in a thread of its own, while the caller goes on.

    SQLite reads with the interpreter lock released: a large sync starts
    the read first thing, and it costs the start-up nothing (about 30 ms of
    100,000 children, on a core that is idle then). :meth:`join` waits for
    the read — call it before forking, so that no thread is inside SQLite
    at a fork; :meth:`result` makes the digests of what was read, in
    whichever process calls it (a large sync's first worker). An error of
    the read is raised there.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._raw: _Raw = (None, None)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._read, name="interop-digests", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            self._raw = _read_raw(self.path)
        except BaseException as exc:  # (raised where the result is taken)
            self._error = exc

    def join(self) -> None:
        self._thread.join()

    def result(self) -> tuple[int | None, dict[str, Found]]:
        """The schema version and the children's digests by match key (:func:`read_digests`)."""
        self.join()
        if self._error is not None:
            raise self._error
        return _parsed(self._raw)


#: What a change of known children reads, by child id: the child's row, its current list
#: entry, its case's start deadline and its latest case record. A sync's first pass reads it
#: for the rows it found changed, in the workers (a cold read: pages, not rows, cost).
CHANGE_STATES_SQL = (
    "SELECT c.id, c.case_number, c.status, c.version, c.raw_digest, c.entry_digest, v.entry,"
    " k.deadline_rule, k.deadline_start, k.deadline_due, k.provisional,"
    " r.version, r.body, r.digest"
    " FROM children c"
    " JOIN child_versions v ON v.child_id = c.id AND v.version = c.version"
    " LEFT JOIN cases k ON k.case_number = c.case_number"
    " LEFT JOIN case_records r ON r.case_number = c.case_number AND r.version ="
    " (SELECT max(version) FROM case_records WHERE case_number = c.case_number)"
    " WHERE c.id IN ({})"
)

#: A row of :data:`CHANGE_STATES_SQL` (see :class:`interop.store.archive.Stored`).
StoredRow = tuple[Any, ...]


def change_states(con: sqlite3.Connection, child_ids: list[int]) -> dict[int, StoredRow]:
    """:data:`CHANGE_STATES_SQL` of these children, by child id."""
    out: dict[int, StoredRow] = {}
    for i in range(0, len(child_ids), 500):
        chunk = child_ids[i : i + 500]
        sql = CHANGE_STATES_SQL.format(",".join("?" * len(chunk)))
        out.update((row[0], tuple(row)) for row in con.execute(sql, chunk))
    return out
