"""The one key and the one digest of a list row (匹配键与原始摘要).

The key matches a row to a child of the archive: the resident ID when the
mapping keys on it (``k:<ID>``), else the mapping's key fields, else its
alternate key (``a:…``; several fields go as a blake2b hash). The raw
digest is of the row's mapped cells as read (before normalising), with the
mapping's fingerprint: an equal digest means the row maps to the same entry,
so a re-sync skips it. The archive stores both; they must not change for the
same row and mapping.
"""

from __future__ import annotations

import contextlib
import hashlib
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from interop.inbound.mapping import cell_of
from interop.inbound.normalise import id_key

if TYPE_CHECKING:
    from interop.inbound.mapping import InboundMapping

#: The longest single-field key kept as it is (longer ones are hashed with the others).
_PLAIN_KEY = 60


def key_hash(key: str) -> int:
    """A 64-bit hash of a key: what finding a key named twice compares."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


class RowKeys:
    """:meth:`key` and :meth:`digest` of one mapping's rows."""

    def __init__(self, mapping: InboundMapping) -> None:
        self.mapping = mapping
        self.columns = [spec.columns for spec in mapping.fields.values()]
        rid = mapping.fields.get("resident_id")
        keyed_by_id = mapping.key == ("resident_id",) and rid is not None
        self.rid_column = rid.column if keyed_by_id and rid and len(rid.columns) == 1 else None
        self.start = hashlib.blake2b((mapping.fingerprint + "\x1f").encode(), digest_size=16)
        single = len(self.columns) > 1 and all(len(c) == 1 for c in self.columns)
        # (a C-level pick of every mapped cell, when each field has one column)
        self.pick: Callable[[dict[str, str]], Any] | None = (
            operator.itemgetter(*(c[0] for c in self.columns)) if single else None
        )

    def key(self, values: dict[str, str]) -> tuple[str | None, str | None]:
        """``(match key, resident ID text)`` of a row's cells; the key is None when empty."""
        if self.rid_column is not None:  # the usual key: the resident ID, when present
            v = values.get(self.rid_column)
            rid = id_key(v) if v else ""
            if rid and len(rid) <= _PLAIN_KEY:
                return "k:" + rid, rid
        m = self.mapping
        rid_spec = m.fields.get("resident_id")
        rid = id_key(cell_of(values, rid_spec)) if rid_spec else ""
        for prefix, names in (("k", m.key), ("a", m.alternate_key)):
            if not names:
                continue
            parts = [cell_of(values, m.fields[n]) for n in names]
            if names == ("resident_id",):
                parts = [rid]
            if all(parts):
                if len(parts) == 1 and len(parts[0]) <= _PLAIN_KEY:
                    return f"{prefix}:{parts[0].upper()}", rid or None
                joined = "\x1f".join(parts).encode()
                hashed = hashlib.blake2b(joined, digest_size=16).hexdigest()
                return f"{prefix}#{hashed}", rid or None
        return None, rid or None

    def digest(self, values: dict[str, str]) -> str:
        """blake2b-128 of the fingerprint and the mapped cells as read, joined by U+001F."""
        cells: Any = None
        if self.pick is not None:
            with contextlib.suppress(KeyError):  # (a column absent: cell by cell below)
                cells = self.pick(values)
        if cells is None:
            get = values.get
            cells = [
                get(cols[0], "")
                if len(cols) == 1
                else next((get(c) or "" for c in cols if c in values), "")
                for cols in self.columns
            ]
        h = self.start.copy()
        h.update("\x1f".join(cells).encode())
        return str(h.hexdigest())
