"""Classify (分类): which rows of a list need work, before anything is written.

Each row has one match key and one raw digest (匹配键与原始摘要), both stored: they must
not change for the same row, layout and mapping. The key is the mapping's key fields
(``k:<ID>``), else its alternate key (``a:…``; several fields, or a long one, hashed).
The digest is of the row's bytes as read (:class:`~interop.inbound.source.RawRow`), with
the mapping's fingerprint and the layout's header. A row whose digest is a listed
child's is that child's, unchanged, and is done with before it is even parsed: a re-sync
costs what changed. Every other row is keyed and needs work: unusable, without a key,
new, changed, or with a key the list names twice (each such row is quarantined).
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from interop.core.resident_id import as_key
from interop.inbound.mapping import InboundMapping, cell_of
from interop.inbound.source import Layout, Part, RawRow, Take
from interop.store.peek import Listed

#: A row's flags: it needs work; its key is new to the archive.
WORK, FRESH = 1, 2
#: The longest single-field key kept as it is (longer ones are hashed).
_PLAIN_KEY = 60


class RowKeys:
    """:meth:`key` and :meth:`digest` of one mapping's rows."""

    def __init__(self, mapping: InboundMapping, layout: Layout | None = None) -> None:
        self.mapping = mapping
        self.rid = mapping.fields.get("resident_id")
        seed = [mapping.fingerprint]  # (a row's bytes mean what the layout says they mean)
        if layout is not None:
            seed += [layout.format, layout.encoding or "", *layout.found]
        self.seed = hashlib.blake2b("\x1f".join(seed).encode()).digest()
        self._keyed = hashlib.blake2b(digest_size=16, key=self.seed)  # (copied: keyed once)

    def key(self, values: dict[str, str]) -> tuple[str | None, str | None]:
        """``(match key, resident ID text)`` of a row's cells; the key is None when empty."""
        m = self.mapping
        rid = as_key(cell_of(values, self.rid)) if self.rid else ""
        for prefix, names in (("k", m.key), ("a", m.alternate_key)):
            if not names:
                continue
            by_id = names == ("resident_id",)  # (the ID normalised; in a longer key, as read)
            parts = [rid] if by_id else [cell_of(values, m.fields[n]) for n in names]
            if not all(parts):
                continue
            if len(parts) == 1 and len(parts[0]) <= _PLAIN_KEY:
                return f"{prefix}:{parts[0].upper()}", rid or None
            hashed = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()
            return f"{prefix}#{hashed}", rid or None
        return None, rid or None

    def digest(self, raw: bytes) -> str:
        """blake2b-128 of a row's bytes but a line end, keyed by the mapping's fingerprint
        and the layout."""
        h = self._keyed.copy()
        h.update(raw.rstrip(b"\r\n"))
        return h.hexdigest()


class PartFound:
    """What :func:`classify` found in one part: compact arrays, cheap to send."""

    def __init__(self) -> None:
        self.work = array("i")  # rows unusable, or without a key
        self.fresh, self.hashes = array("i"), array("q")  # rows of new keys, the keys' hashes
        self.numbers, self.children = array("i"), array("i")  # known children's rows, ids
        self.changed = array("i")  # the known children's rows that are not as stored
        self.columns: dict[str, None] = {}  # columns not the mapping's


@dataclass(slots=True)
class Classified:
    """The whole list: counts, each row's flags, duplicates, the known children it names."""

    total: int = 0
    flags: bytearray = field(default_factory=bytearray)  # row number → WORK | FRESH
    duplicates: dict[int, list[int]] = field(default_factory=dict)  # row → other rows
    seen: set[int] = field(default_factory=set)  # ids of the known children named
    columns: dict[str, None] = field(default_factory=dict)
    work: int = 0  # rows needing work

    def mark(self, rows: Iterable[int], flag: int) -> None:
        flags = self.flags  # (one byte a row: a million rows in 1 MB)
        for n in rows:
            if n >= len(flags):  # (rows come in order: grow by half again)
                flags.extend(bytes(n + 1 - len(flags) + (len(flags) >> 1)))
            flags[n] |= flag

    def take(self, number: int, _: bytes = b"") -> bool:
        """Whether row ``number`` needs work (a :data:`~interop.inbound.source.Take`)."""
        return number < len(self.flags) and self.flags[number] & WORK != 0

    def any_work(self, part: Part) -> bool:
        end = len(self.flags) if part.lines is None else part.first + part.lines
        return any(self.flags[part.first : end])


def classify(
    read: Callable[[Take | None], Iterable[RawRow]],
    keys: RowKeys,
    listed: Listed,
    known: frozenset[str],
) -> PartFound:
    """One part's rows (``read(take)``) against the archive's ``listed`` children
    (``known``: the mapping's columns)."""
    out = PartFound()
    by_digest, digest_of = listed.by_digest.get, keys.digest
    by_key, key_of = listed.by_key, keys.key

    def changed(number: int, raw: bytes) -> bool:
        """Whether a row is read further: its digest is no listed child's."""
        child = by_digest(digest_of(raw))
        if child is None:
            return True
        out.numbers.append(number)
        out.children.append(child)
        return False

    for row in read(changed if listed.by_digest else None):  # (no digest to look up: all read)
        values = row.values
        if row.problem is None and not values.keys() <= known:
            out.columns.update(dict.fromkeys(k for k in values if k not in known))
        key = key_of(values)[0] if row.problem is None else None
        if key is None:
            out.work.append(row.number)
        elif (child := by_key.get(key)) is None:
            out.fresh.append(row.number)
            h = hashlib.blake2b(key.encode(), digest_size=8).digest()  # (what duplicates compare)
            out.hashes.append(int.from_bytes(h, "big", signed=True))
        else:  # (a known child's row whose digest is not its listed one: changed, or relisted)
            out.numbers.append(row.number)
            out.children.append(child)
            out.changed.append(row.number)
    return out


def tally(parts: Iterable[PartFound]) -> Classified:
    """The parts put together in file order: a key named twice anywhere in the list — a
    known child's by its id, a new one's by its hash — makes duplicates (the keys met are
    kept as sets, their rows looked up again only for a key named twice)."""
    out, found, new = Classified(), list(parts), set[int]()
    twice: tuple[set[int], set[int]] = (set(), set())  # known children, new keys' hashes
    for part in found:
        out.total += len(part.work) + len(part.numbers) + len(part.fresh)
        out.mark(part.work, WORK)
        out.mark(part.fresh, WORK | FRESH)
        out.mark(part.changed, WORK)
        out.columns.update(part.columns)
        for seen, keys, again in (
            (out.seen, part.children, twice[0]),
            (new, part.hashes, twice[1]),
        ):
            for k in keys:
                if k in seen:
                    again.add(k)
                seen.add(k)
    groups: dict[tuple[int, int], list[int]] = {}
    for part in found if twice[0] or twice[1] else ():
        for kind, keys, numbers in (
            (0, part.children, part.numbers),
            (1, part.hashes, part.fresh),
        ):
            for k, number in zip(keys, numbers, strict=True):
                if k in twice[kind]:
                    groups.setdefault((kind, k), []).append(number)
    for group in groups.values():
        out.mark(group, WORK)
        out.duplicates.update({n: [m for m in group if m != n] for n in group})
    out.work = len(out.flags) - out.flags.count(0)
    return out
