"""The children a list is classified against, read from an archive in one statement
(名单摘要): every child's id by match key, and each listed child's by raw digest.

A sync looks up each row's raw digest first (an unchanged row is done with unparsed),
its match key only when the digest is not found
(:meth:`interop.store.archive.Archive.listed_digests`). On SQLite the read builds JSON
arrays instead of a row object per child; on PostgreSQL :data:`LISTED_DIGESTS_SQL` is
run as it is.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import NamedTuple

import orjson

#: ``(match key, child id, raw digest while listed, else NULL)`` of every child.
LISTED_DIGESTS_SQL = (
    "SELECT match_key, id, CASE WHEN status = 'listed' THEN raw_digest END FROM children"
)

#: :data:`LISTED_DIGESTS_SQL` as four JSON arrays, on SQLite: keys and ids of every
#: child, digests and ids of the listed ones (strings, not a row object per child).
LISTED_DIGESTS_JSON_SQL = (
    "SELECT json_group_array(match_key), json_group_array(id),"
    " json_group_array(raw_digest) FILTER (WHERE status = 'listed'),"
    " json_group_array(id) FILTER (WHERE status = 'listed') FROM children"
)


class Listed(NamedTuple):
    """Child ids by match key (every child) and by raw digest (listed children; a digest
    two children share is left out: their rows are looked up by key)."""

    by_key: dict[str, int]
    by_digest: dict[str, int]

    @classmethod
    def of(cls, by_key: dict[str, int], digests: list[str], ids: list[int]) -> Listed:
        by_digest = dict(zip(digests, ids, strict=True))
        if len(by_digest) < len(digests):
            for raw, n in Counter(digests).items():
                if n > 1:
                    del by_digest[raw]
        return cls(by_key, by_digest)


def listed_digests(con: sqlite3.Connection) -> Listed:
    """:class:`Listed` read from a SQLite archive."""
    keys, ids, raws, listed = con.execute(LISTED_DIGESTS_JSON_SQL).fetchone()
    by_key = dict(zip(orjson.loads(keys), orjson.loads(ids), strict=True))
    return Listed.of(by_key, orjson.loads(raws or "[]"), orjson.loads(listed or "[]"))
