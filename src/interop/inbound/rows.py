"""The one key and the one digest of a list row (匹配键与原始摘要), both stored: they must
not change for the same row and mapping.

The key matches a row to a child: the mapping's key fields (``k:<ID>``), else its
alternate key (``a:…``; several fields, or a long one, as a blake2b hash). The raw
digest is of the mapped cells as read, with the mapping's fingerprint: equal means the
row maps to the same entry, so a re-sync skips it.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from interop.core.resident_id import as_key
from interop.inbound.mapping import cell_of

if TYPE_CHECKING:
    from interop.inbound.mapping import InboundMapping

#: The longest single-field key kept as it is (longer ones are hashed).
_PLAIN_KEY = 60


def key_hash(key: str) -> int:
    """A 64-bit hash of a key: what finding a key named twice compares."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


class RowKeys:
    """:meth:`key` and :meth:`digest` of one mapping's rows."""

    def __init__(self, mapping: InboundMapping) -> None:
        self.mapping = mapping
        self.columns = [f.columns for f in mapping.fields.values()]
        self.rid = mapping.fields.get("resident_id")
        self.start = hashlib.blake2b((mapping.fingerprint + "\x1f").encode(), digest_size=16)

    def key(self, values: dict[str, str]) -> tuple[str | None, str | None]:
        """``(match key, resident ID text)`` of a row's cells; the key is None when empty."""
        m = self.mapping
        rid = as_key(cell_of(values, self.rid)) if self.rid else ""
        for prefix, names in (("k", m.key), ("a", m.alternate_key)):
            if not names:
                continue
            parts = (
                [rid]
                if names == ("resident_id",)
                else [cell_of(values, m.fields[n]) for n in names]
            )
            if all(parts):
                if len(parts) == 1 and len(parts[0]) <= _PLAIN_KEY:
                    return f"{prefix}:{parts[0].upper()}", rid or None
                joined = "\x1f".join(parts).encode()
                return (
                    f"{prefix}#{hashlib.blake2b(joined, digest_size=16).hexdigest()}",
                    rid or None,
                )
        return None, rid or None

    def digest(self, values: dict[str, str]) -> str:
        """blake2b-128 of the fingerprint and the mapped cells as read, joined by U+001F."""
        get = values.get
        cells = [  # (a field's first column the row has)
            get(cs[0], "") if len(cs) == 1 else next((get(c) or "" for c in cs if c in values), "")
            for cs in self.columns
        ]
        h = self.start.copy()
        h.update("\x1f".join(cells).encode())
        return h.hexdigest()
