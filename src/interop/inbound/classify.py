"""Classify (分类): which rows of a list need work, before anything is written.

A row whose key the archive holds with the same raw digest (and still
listed) is unchanged and is done with: the cost of a re-sync grows with the
number of changes, not with the size of the list. Every other row needs
work: unusable or without a key, new key, changed, or a key the list names
twice (every row of it is quarantined as a duplicate). The archive's digests
are read once, through the store (:meth:`interop.store.Archive.listed_digests`).

:func:`classify` reads one part of a list (a worker process may run it);
:func:`tally` puts the parts together in file order.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from interop.inbound.prepare import Prepared
from interop.inbound.rows import RowKeys, key_hash
from interop.inbound.source import RawRow

#: child id, raw digest while listed (None once delisted)
Found = tuple[int, str | None]


@dataclass(slots=True)
class PartFound:
    """What :func:`classify` found in one part: compact arrays, cheap to send."""

    work: array[int] = field(default_factory=lambda: array("i"))  # unusable, or no key
    numbers: array[int] = field(default_factory=lambda: array("i"))  # known children's rows …
    children: array[int] = field(default_factory=lambda: array("i"))  # … their child ids …
    unchanged: bytearray = field(default_factory=bytearray)  # … and whether unchanged
    fresh: array[int] = field(default_factory=lambda: array("i"))  # rows of keys new …
    hashes: array[int] = field(default_factory=lambda: array("q"))  # … and their key hashes
    columns: dict[str, None] = field(default_factory=dict)  # columns not the mapping's
    #: the rows that may need work and whether their key is new, while they are few (else
    #: the part is read again) …
    kept: list[tuple[RawRow, bool]] | None = field(default_factory=list)
    #: … and each prepared, as if its key were named once (the writer prepares a duplicate
    #: again)
    prepared: list[Prepared] = field(default_factory=list)

    def keep(self, row: RawRow, fresh: bool, limit: int) -> None:
        if self.kept is not None and len(self.kept) >= limit:
            self.kept = None
        elif self.kept is not None:
            self.kept.append((row, fresh))


class Rows:
    """Row numbers as a bitmap: one bit a row (a million rows in 125 kB, not a 60 MB set)."""

    def __init__(self) -> None:
        self.bits = bytearray()

    def add(self, n: int) -> None:
        i, bits = n >> 3, self.bits
        if i >= len(bits):
            bits.extend(bytes(i + 1 - len(bits) + (len(bits) >> 1)))  # (rows come in order)
        bits[i] |= 1 << (n & 7)

    def update(self, numbers: Iterable[int]) -> None:
        for n in numbers:
            self.add(n)

    def __contains__(self, n: object) -> bool:
        if not isinstance(n, int):
            return False
        i = n >> 3
        return 0 <= i < len(self.bits) and bool(self.bits[i] >> (n & 7) & 1)

    def __len__(self) -> int:
        return int.from_bytes(self.bits, "little").bit_count()

    def between(self, start: int, end: int) -> list[int]:
        """The numbers from ``start`` up to ``end`` (excluded), in order."""
        bits, out = self.bits, []
        for i in range(start >> 3, min(((end - 1) >> 3) + 1, len(bits))):
            if byte := bits[i]:
                out += [n for b in range(8) if byte >> b & 1 and start <= (n := i << 3 | b) < end]
        return out


@dataclass(slots=True)
class Classified:
    """The whole list: counts, the rows needing work and why, the children it names."""

    total: int = 0
    work: Rows = field(default_factory=Rows)
    fresh: Rows = field(default_factory=Rows)  # rows whose key the archive lacks
    duplicates: dict[int, list[int]] = field(default_factory=dict)  # row → other rows
    seen: set[int] = field(default_factory=set)  # ids of the known children named
    columns: dict[str, None] = field(default_factory=dict)

    @property
    def unchanged(self) -> int:
        return self.total - len(self.work)


def classify(
    rows: Iterable[RawRow],
    keys: RowKeys,
    digests: Mapping[str, Found],
    known: frozenset[str],
    *,
    keep: int,
    prepare: Callable[..., Prepared],
) -> PartFound:
    """One part's rows against the archive's ``digests`` (``known``: the mapping's columns;
    ``keep``: the rows that may need work are kept — and prepared, while the part is at
    hand — when at most this many)."""
    out = PartFound()
    key_of, digest_of, get = keys.key, keys.digest, digests.get
    add_number, add_child, add_unchanged = (
        out.numbers.append,
        out.children.append,
        out.unchanged.append,
    )
    for row in rows:
        values = row.values
        if row.problem is None and not values.keys() <= known:
            out.columns.update(dict.fromkeys(k for k in values if k not in known))
        key = key_of(values)[0] if row.problem is None else None
        if key is None:
            out.work.append(row.number)
            out.keep(row, False, keep)
        elif (found := get(key)) is None:
            out.fresh.append(row.number)
            out.hashes.append(key_hash(key))
            out.keep(row, True, keep)
        else:
            add_number(row.number)
            add_child(found[0])
            same = found[1] is not None and found[1] == digest_of(values)
            add_unchanged(same)
            if not same:
                out.keep(row, False, keep)
    out.prepared = [prepare(row, fresh=fresh) for row, fresh in out.kept or ()]
    return out


def tally(parts: Iterable[PartFound]) -> Classified:
    """The parts' findings put together (in file order): a key named twice anywhere in the
    list — a known child's by its id, a new one's by its hash — makes duplicates."""
    out = Classified()
    work, fresh, seen = out.work, out.fresh, out.seen
    first: dict[int, int] = {}  # key hash → its first row
    by_child: dict[int, int] = {}  # child id → its first row
    again: dict[int, list[int]] = {}  # hash → rows, when named twice
    twice: dict[int, list[int]] = {}  # child id → rows, when named twice
    for part in parts:
        out.total += len(part.work) + len(part.numbers) + len(part.fresh)
        work.update(part.work)
        work.update(part.fresh)
        fresh.update(part.fresh)
        out.columns.update(part.columns)
        for number, h in zip(part.fresh, part.hashes, strict=True):
            if h in first:
                again.setdefault(h, [first[h]]).append(number)
            else:
                first[h] = number
        for number, child, same in zip(part.numbers, part.children, part.unchanged, strict=True):
            if child in by_child:
                twice.setdefault(child, [by_child[child]]).append(number)
            else:
                by_child[child] = number
            if not same:
                work.add(number)
    seen.update(by_child)
    for group in [*again.values(), *twice.values()]:
        work.update(group)
        for n in group:
            out.duplicates[n] = [m for m in group if m != n]
    return out


def duplicates_in(rows: Iterable[RawRow], keys: RowKeys) -> dict[int, list[int]]:
    """Rows sharing a key among a few rows held in memory (one page of a feed)."""
    by_key: dict[str, list[int]] = {}
    for r in rows:
        if r.problem is None and (key := keys.key(r.values)[0]) is not None:
            by_key.setdefault(key, []).append(r.number)
    return {n: [m for m in ns if m != n] for ns in by_key.values() if len(ns) > 1 for n in ns}
