"""The children a list is classified against, read from an archive in one statement
(名单摘要): every child's id by match key, and each listed child's by raw digest.

A sync looks up each row's raw digest first (an unchanged row is done with unparsed),
its match key only when the digest is not found
(:meth:`interop.store.archive.Archive.listed_digests`). On SQLite the read builds JSON
arrays instead of a row object per child; on PostgreSQL :data:`LISTED_DIGESTS_SQL` is
run as it is. A SQLite archive of this schema version is read here without the database
library (:func:`early_archive`, :func:`read_listed`): the sync's first pass reads it while
that library loads.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import NamedTuple, cast

import orjson

from interop._errors import StoreError
from interop.store.location import sqlite_path

#: Version of the archive's tables (:mod:`interop.store.schema`, which needs the database
#: library); stored in ``interop_meta`` under ``schema_version``.
SCHEMA_VERSION = 12

#: ``(match key, child id, raw digest while listed, else NULL)`` of every child.
LISTED_DIGESTS_SQL = (
    "SELECT match_key, id, CASE WHEN status = 'listed' THEN raw_digest END FROM children"
)

#: :data:`LISTED_DIGESTS_SQL` as three aligned JSON arrays, on SQLite (strings, not a row
#: object per child).
LISTED_DIGESTS_JSON_SQL = (
    "SELECT json_group_array(match_key), json_group_array(id),"
    " json_group_array(CASE WHEN status = 'listed' THEN raw_digest END) FROM children"
)


class Listed(NamedTuple):
    """Child ids by match key (every child) and by raw digest (listed children; a digest
    two children share is left out: their rows are looked up by key)."""

    by_key: dict[str, int]
    by_digest: dict[str, int]

    @classmethod
    def of(cls, keys: list[str], ids: list[int], digests: list[str | None]) -> Listed:
        """From aligned lists: each child's match key, id, raw digest while listed."""
        by_digest = dict(zip(digests, ids, strict=True))  # (in C; the delisted under None)
        by_digest.pop(None, None)
        if len(by_digest) < len(digests) - digests.count(None):
            for raw, n in Counter(digests).items():
                if n > 1 and raw is not None:
                    del by_digest[raw]
        return cls(dict(zip(keys, ids, strict=True)), cast(dict[str, int], by_digest))


def listed_digests(con: sqlite3.Connection) -> Listed:
    """:class:`Listed` read from a SQLite archive."""
    return Listed.of(*map(orjson.loads, con.execute(LISTED_DIGESTS_JSON_SQL).fetchone()))


def early_archive(url: str | None) -> Path | None:
    """The file of the SQLite archive at ``url`` when it is one of this schema version,
    checked without the database library (a sync's first pass then reads its children
    with :func:`read_listed`, in worker processes, while the sync loads that library); or
    None: not a SQLite file, or not an archive of this version — the archive is then
    opened, and refused, as every other command opens it."""
    path = sqlite_path(url)
    if path is None or not path.is_file():
        return None
    try:
        with closing(_connect(path)) as con:
            return path if _current(con) else None
    except (sqlite3.Error, ValueError):
        return None


def read_listed(path: Path) -> Listed:
    """:class:`Listed` of the archive file :func:`early_archive` found (still of this
    version: another program may have changed it since)."""
    try:
        with closing(_connect(path)) as con:
            if _current(con):
                return listed_digests(con)
    except sqlite3.Error:
        pass
    raise StoreError(
        "the archive could not be read as the sync began (locked, or changed by another "
        "program?): run the sync again",
        code="E502",
    )


def _connect(path: Path) -> sqlite3.Connection:
    # (mode=rw: opens the file that is there, never makes one)
    return sqlite3.connect(path.resolve().as_uri() + "?mode=rw", uri=True, timeout=10)


def _current(con: sqlite3.Connection) -> bool:
    version = con.execute("SELECT value FROM interop_meta WHERE key = 'schema_version'")
    return bool(version.fetchone() == (str(SCHEMA_VERSION),))
