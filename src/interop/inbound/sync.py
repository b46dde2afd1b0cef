"""Reconciliation of a civil-affairs child list with the archive (T-01, R-7.1.1-01).

Each row is new, changed (which fields) or unchanged; a bad row goes to
quarantine with its reason and never blocks the good rows; with a full list,
children absent from it are marked delisted for review, never deleted.

How the work is shaped (the sync's speed targets, bench/bench_sync.py):

- a first pass reads the list once and classifies every row, writing
  nothing: a row whose mapped cells hash to what the archive already holds
  is unchanged and is done with (the cost of a re-sync grows with the
  number of changes, not with the size of the list); duplicates of a key
  are found in the same pass — of a known child through the ids seen (one
  int per child in the archive), of a new one through a temporary SQLite
  file of key hashes (memory does not grow with the list);
- the rows that need work (new, changed, bad, duplicated) then go in
  batches, each one transaction (crash safety): kept from the first pass
  when they are few, read again from the file when they are many; a row
  whose key the first pass did not find in the archive is not looked up
  again (a second row of its key is a duplicate, quarantined);
- each row needing work is first prepared — mapped, checked, its case
  record built (:mod:`interop.inbound.prepare`, no archive needed) — then
  decided against the archive and written (:meth:`Reconciler.commit`);
- a large CSV list does both passes with worker processes on all cores
  (:mod:`interop.inbound.firstpass`, :mod:`interop.inbound.parallel`), the
  result the same as in one process;
- the record schema is checked by a compiled predicate equivalent to
  jsonschema (:mod:`interop.inbound.fastschema`).
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import os
import sqlite3
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from interop import faults
from interop.core.deadlines import Deadline, earliest, start_deadline
from interop.core.workdays import WorkCalendar
from interop.inbound import guard
from interop.inbound.guard import DelistRefused
from interop.inbound.mapping import CodeLookup, Finding, InboundMapping
from interop.inbound.prepare import (
    DRY_RUN,
    FreshKeys,
    KnownRows,
    Prepared,
    Preparer,
    SyncOptions,
    changed_fields,
    key_hash,
)
from interop.inbound.readers import RawRow
from interop.store.archive import (
    Archive,
    Batch,
    ChangedChild,
    Known,
    NewChild,
    QuarantinedRow,
    Stored,
)
from interop.store.peek import Found

if TYPE_CHECKING:
    from interop.inbound.csvparts import CsvPlan
    from interop.inbound.firstpass import FirstPass

log = logging.getLogger(__name__)

#: Rows needing work kept from the first pass; beyond this the file is read again.
KEEP_ROWS = 20000
#: Rows per archive look-up in the first pass.
SCAN_CHUNK = 2000
#: Test hook: SIGKILL the process after this many committed batches.


@dataclass(slots=True)
class SyncReport:
    run_id: str
    source: str
    mapping: str
    status: str = "running"
    rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    delisted: int = 0
    quarantined: int = 0
    message: str | None = None
    issues: list[dict[str, Any]] = field(default_factory=list)
    changes: dict[str, list[str]] = field(default_factory=dict)  # case number → fields
    layout: dict[str, Any] | None = None  # what stage 1 found (a list file)

    def to_json(self) -> dict[str, Any]:
        return {
            "layout": self.layout,
            "run_id": self.run_id,
            "source": self.source,
            "mapping": self.mapping,
            "status": self.status,
            "rows": self.rows,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "delisted": self.delisted,
            "quarantined": self.quarantined,
            "message": self.message,
            "changes": self.changes,
            "issues": self.issues,
        }


def _groups(groups: Iterable[list[int]]) -> dict[int, list[int]]:
    """``{row: [other rows]}`` for groups of rows sharing a key."""
    found: dict[int, list[int]] = {}
    for group in groups:
        numbers = sorted(group)
        for n in numbers:
            found[n] = [m for m in numbers if m != n]
    return found


class SeenChildren:
    """Known children a list names: the first row of each, by child id (4 bytes a child).

    A positive row is a row found unchanged, a negative one a row that needs
    work; 0 is a child not (yet) named by the list.
    """

    def __init__(self, size: int) -> None:
        self.first = array("i", bytes(4 * (size + 1)))

    def __contains__(self, child_id: object) -> bool:
        return (
            isinstance(child_id, int)
            and 0 <= child_id < len(self.first)
            and (self.first[child_id] != 0)
        )

    def get(self, child_id: int) -> int:
        return self.first[child_id] if child_id < len(self.first) else 0

    def set(self, child_id: int, row: int) -> None:
        if child_id >= len(self.first):
            self.first.extend(array("i", bytes(4 * (child_id + 1 - len(self.first)))))
        self.first[child_id] = row


def _grow(bitmap: bytearray, index: int) -> None:
    """Room in a row bitmap for byte ``index``, and half as much again (rows come in order)."""
    bitmap.extend(bytes(index + 1 - len(bitmap) + (len(bitmap) >> 1)))


@dataclass(slots=True)
class Scan:
    """What the first pass found: counts, duplicates, and which rows need work."""

    seen: SeenChildren
    total: int = 0
    unchanged: int = 0
    work: bytearray = field(default_factory=bytearray)  # one bit per row number
    fresh: bytearray = field(default_factory=bytearray)  # rows whose key the archive lacked
    kept: list[RawRow] | None = field(default_factory=list)  # the rows needing work, if few
    duplicates: dict[int, list[int]] = field(default_factory=dict)

    def needs_work(self, number: int) -> bool:
        i = number >> 3
        return i < len(self.work) and bool(self.work[i] & (1 << (number & 7)))

    def rows_needing_work(self, start: int, end: int) -> list[int]:
        """The rows numbered ``start`` up to ``end`` (excluded) that need work, in order;
        reads the bitmap a byte at a time (most bytes of a re-sync's are 0)."""
        work, out = self.work, []
        for i in range(start >> 3, min((end - 1 >> 3) + 1, len(work))):
            if byte := work[i]:
                base = i << 3
                out += [base + b for b in range(8) if byte >> b & 1 and start <= base + b < end]
        return out

    def any_work(self, start: int, end: int) -> bool:
        """Whether a row numbered ``start`` up to ``end`` (excluded) may need work.

        Looks at whole bytes of the bitmap: a neighbour's row can answer yes.
        """
        return any(self.work[start >> 3 : (end >> 3) + 1])

    def mark(self, row: RawRow | int, keep_limit: int) -> None:
        number = row if isinstance(row, int) else row.number
        i = number >> 3
        if i >= len(self.work):
            _grow(self.work, i)
        self.work[i] |= 1 << (number & 7)
        if self.kept is not None:
            if isinstance(row, int) or len(self.kept) >= keep_limit:
                self.kept = None  # read the file again in the second pass
            else:
                self.kept.append(row)

    def mark_fresh_rows(self, numbers: list[int]) -> None:
        """:meth:`mark` (by number: nothing kept) and :meth:`mark_fresh` of many rows."""
        if not numbers:
            return
        self.kept = None
        top = max(numbers) >> 3
        work, fresh = self.work, self.fresh
        for bitmap in (work, fresh):
            if top >= len(bitmap):
                _grow(bitmap, top)
        for number in numbers:
            i, bit = number >> 3, 1 << (number & 7)
            work[i] |= bit
            fresh[i] |= bit

    def mark_fresh(self, number: int) -> None:
        i = number >> 3
        if i >= len(self.fresh):
            _grow(self.fresh, i)
        self.fresh[i] |= 1 << (number & 7)

    def is_fresh(self, number: int) -> bool:
        i = number >> 3
        return i < len(self.fresh) and bool(self.fresh[i] & (1 << (number & 7)))

    @property
    def pending(self) -> int:
        return self.total - self.unchanged


class Triage:
    """The first pass's decisions, a chunk of rows at a time (see :meth:`Reconciler.scan`).

    Fed rows as they are read, it looks their keys up in the archive
    (:meth:`~interop.store.archive.Archive.digests`), counts unchanged rows,
    marks the others as work and finds the duplicates of a key. Workers of a
    parallel sync do the look-up themselves and report each row's class
    (:meth:`fresh`, :meth:`known`).
    """

    def __init__(
        self, archive: Archive, mapping: InboundMapping, *, keep: int, chunk: int = SCAN_CHUNK
    ) -> None:
        self.archive = archive
        self.mapping = mapping
        self.keep = keep
        self.chunk = chunk
        self.scan = Scan(seen=SeenChildren(archive.max_child_id()))
        self.again: dict[int, list[int]] = {}  # known child → its rows, when named twice
        self.pending: list[tuple[str, RawRow]] = []
        self._tmp = tempfile.TemporaryDirectory(prefix="interop-dups-")
        self.db = sqlite3.connect(os.path.join(self._tmp.name, "keys.sqlite3"))
        self.db.execute("PRAGMA journal_mode=OFF")  # a scratch file, not the archive
        self.db.execute("PRAGMA synchronous=OFF")
        # the hashes of new keys, in the order read (rowid n: the n-th of fresh_rows)
        self.db.execute("CREATE TABLE k (h INTEGER NOT NULL)")
        self.fresh_rows = array("i")

    def __enter__(self) -> Triage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.close()
        self._tmp.cleanup()

    def work(self, row: RawRow | int) -> None:
        """A row that needs work whatever the archive holds (unusable, or without a key)."""
        self.scan.total += 1
        self.scan.mark(row, self.keep)

    def keyed(self, key: str, row: RawRow) -> None:
        """A row with a key, to look up with the next chunk."""
        self.pending.append((key, row))
        if len(self.pending) >= self.chunk:
            self.flush()

    def flush(self) -> None:
        raw_digest, pending = self.mapping.raw_digest, self.pending
        found = self.archive.digests([k for k, _ in pending])
        hashes: list[int] = []
        numbers: list[int] = []
        fresh_rows: list[RawRow] = []
        known = KnownRows()
        known_rows: list[RawRow] = []
        for key, row in pending:
            f = found.get(key)
            if f is None:
                hashes.append(key_hash(key))
                numbers.append(row.number)
                fresh_rows.append(row)
            else:
                child_id, raw = f
                known.add(row.number, child_id, raw is not None and raw == raw_digest(row.values))
                known_rows.append(row)
        self.fresh(FreshKeys.of(hashes, numbers), fresh_rows)
        self.known(known, known_rows)
        pending.clear()

    def fresh(self, found: FreshKeys, kept: list[RawRow] | None = None) -> None:
        """Rows whose key the archive lacks: new, unless the list names the key twice
        (``kept``: the same rows as read, to keep for the second pass)."""
        scan, keep, rows = self.scan, self.keep, found.rows
        if not rows:
            return
        scan.total += len(rows)
        self.db.execute(
            "INSERT INTO k (rowid, h) SELECT ? + key, value FROM json_each(?)",
            (len(self.fresh_rows) + 1, found.hashes),
        )
        self.fresh_rows.extend(rows)
        if kept is None:  # (a parallel sync's tally: rows by number only)
            scan.mark_fresh_rows(rows)
            return
        mark, mark_fresh = scan.mark, scan.mark_fresh
        for i, number in enumerate(rows):
            mark(kept[i], keep)
            mark_fresh(number)

    def known(self, rows: KnownRows, kept: list[RawRow] | None = None) -> None:
        """Rows of known children: unchanged, changed, or a second row of the same child
        (``kept``: as for :meth:`fresh`)."""
        scan, keep, again = self.scan, self.keep, self.again
        first_of = scan.seen.first
        mark = scan.mark
        unchanged_rows = 0
        for i, (number, child_id, unchanged) in enumerate(rows.rows()):
            if child_id >= len(first_of):  # a child added since the scan began
                scan.seen.set(child_id, 0)
                first_of = scan.seen.first
            first = first_of[child_id]
            if first:
                again.setdefault(child_id, [abs(first)]).append(number)
                mark(number if kept is None else kept[i], keep)
            elif unchanged:
                first_of[child_id] = number
                unchanged_rows += 1
            else:
                first_of[child_id] = -number
                mark(number if kept is None else kept[i], keep)
        scan.total += len(rows)
        scan.unchanged += unchanged_rows

    def finish(self) -> Scan:
        self.flush()
        scan, seen = self.scan, self.scan.seen
        fresh_rows = self.fresh_rows
        groups = [
            [fresh_rows[int(x) - 1] for x in str(g).split(",")]
            for (g,) in self.db.execute(
                "SELECT group_concat(rowid) FROM k GROUP BY h HAVING count(*) > 1"
            )
        ]
        for child_id, numbers in self.again.items():
            first = seen.get(child_id)
            if first > 0:  # its first row was counted unchanged: it is a duplicate too
                scan.unchanged -= 1
                scan.mark(first, self.keep)
            groups.append(numbers)
        scan.duplicates = _groups(groups)
        return scan


def load_digests(archive: Archive) -> dict[str, Found]:
    """:meth:`~interop.store.archive.Archive.digests` of every child, in one read."""
    return archive.listed_digests()


def _dl(d: Deadline | None) -> tuple[str, str, str, bool] | None:
    return None if d is None else (d.rule, d.start.isoformat(), d.due.isoformat(), d.provisional)


class Reconciler(Preparer):
    """One sync run: feed it batches of rows; it decides and writes each batch."""

    def __init__(
        self,
        archive: Archive,
        mapping: InboundMapping,
        terms: CodeLookup,
        calendar: WorkCalendar,
        options: SyncOptions,
        *,
        source: str,
        partner: str | None = None,
    ) -> None:
        super().__init__(mapping, terms, options)
        self.archive = archive
        self.calendar = calendar
        self.partner = partner
        self.known_columns = mapping.columns
        self.reported_columns: set[str] = set()
        self.seen = SeenChildren(0)
        self.scanned_rows = 0
        self.scanned_unchanged = 0
        self.batches = 0
        self._received = options.received.isoformat()
        self._deadlines: dict[str | None, Deadline | None] = {}
        self._stored_deadlines: dict[str | None, tuple[str, str, str, bool] | None] = {}
        self.would_delist = 0
        #: Called with each issue as it is found (printed at once by the command).
        self.on_issue: Callable[[dict[str, Any]], None] | None = None
        run_id = (
            DRY_RUN
            if options.dry_run
            else archive.begin_run(source, mapping.name, partner=partner, full=options.full)
        )
        self.report = SyncReport(run_id=run_id, source=source, mapping=mapping.name)

    # -- issues -------------------------------------------------------------

    def _issue(self, row: int, f: Finding) -> None:
        item = {"row": row, "field": f.field, "code": f.code, "message": f.message}
        item["severity"] = f.severity
        if f.requirement:
            item["requirement"] = f.requirement
        self._add(item)

    def _add(self, item: dict[str, Any]) -> None:
        self.report.issues.append(item)
        if self.on_issue is not None:
            self.on_issue(item)

    def _quarantine(
        self, batch: Batch, number: int, values: dict[str, str], findings: list[Finding]
    ) -> None:
        for f in findings:
            self._issue(number, f)
            batch.quarantined.append(QuarantinedRow(number, f.field, f.code, f.message, values))
        self.report.quarantined += 1

    def check_header(self, header: list[str]) -> None:
        """:meth:`_check_columns` once for a file whose rows share ``header``."""
        self._check_columns(dict.fromkeys(header, ""))

    def _check_columns(self, values: dict[str, str]) -> None:
        if values.keys() <= self.known_columns:
            return
        extra = values.keys() - self.known_columns
        if extra and not extra <= self.reported_columns:
            for col in sorted(extra - self.reported_columns):
                self._add(
                    {
                        "row": 1,
                        "field": col,
                        "code": "extra-column",
                        "message": f"{col}: not a column of mapping {self.mapping.name}; ignored",
                        "severity": "information",
                    }
                )
            self.reported_columns |= extra

    def _start_deadline(self, risk: str | None) -> Deadline | None:
        """The start deadline this list sets for a child of this risk (the same all run)."""
        try:
            return self._deadlines[risk]
        except KeyError:
            found = start_deadline(
                risk,
                self.options.received,
                self.calendar,
                agreement_date=self.options.agreement_date,
            )
            self._deadlines[risk] = found
            return found

    def _new_deadline(self, risk: str | None) -> tuple[str, str, str, bool] | None:
        """:meth:`_start_deadline` as the archive stores it (one tuple per risk, shared)."""
        try:
            return self._stored_deadlines[risk]
        except KeyError:
            found = self._stored_deadlines[risk] = _dl(self._start_deadline(risk))
            return found

    # -- the first pass (list files) ---------------------------------------

    def scan(
        self, rows: Iterable[RawRow], *, chunk: int = SCAN_CHUNK, keep: int = KEEP_ROWS
    ) -> Scan:
        """Classify every row without writing: unchanged, or needing work (and why later).

        Finds duplicates of the key across the whole list, counts unchanged
        rows, and remembers which known children the list names (for
        ``--full``). Memory: one bit per row, 4 bytes per known child and at
        most ``keep`` rows; the keys of new children go to a temporary file.
        """
        m = self.mapping
        with Triage(self.archive, m, keep=keep, chunk=chunk) as triage:
            for row in rows:
                if row.problem is not None:
                    triage.work(row)
                    continue
                values = row.values
                self._check_columns(values)
                key, _ = m.key_of(values)
                if key is None:
                    triage.work(row)
                else:
                    triage.keyed(key, row)
            return triage.finish()

    # -- the work -----------------------------------------------------------

    def process(
        self, rows: list[RawRow], cursor: tuple[str, str] | None = None, *, count: bool = True
    ) -> None:
        """Decide and write one batch (one transaction).

        ``count=False`` when the rows were counted by :meth:`scan` already.
        """
        if count:
            for row in rows:
                if row.problem is None:
                    self._check_columns(row.values)
        self.commit([self.prepare(r) for r in rows], cursor, count=count)

    def commit(
        self, items: list[Prepared], cursor: tuple[str, str] | None = None, *, count: bool = True
    ) -> None:
        """Decide against the archive and write one batch of prepared rows (one transaction)."""
        batch = Batch(rows=len(items) if count else 0, cursor=cursor)
        is_new = self.fresh
        # what the workers read ahead of a changed child is not read again (see Prepared.stored)
        ahead = {
            p.number: Stored.of(p.stored, entry=p.decided is None)
            for p in items
            if p.stored is not None
        }
        known = self.archive.lookup(
            [
                p.key
                for p in items
                if p.key is not None
                and p.number not in ahead
                and (is_new is None or not is_new(p.number))
            ]
        )
        known.update(
            (p.key, ahead[p.number].known) for p in items if p.key is not None and p.number in ahead
        )
        compare: list[tuple[Prepared, Known]] = []
        received = self._received
        for p in items:
            if p.key is None:  # quarantined
                self._quarantine(batch, p.number, p.values or {}, p.findings)
                continue
            k = known.get(p.key)
            if k is not None and k.raw_digest == p.raw_digest and k.status == "listed":
                batch.unchanged += 1
                continue
            for f in p.findings:
                self._issue(p.number, f)
            if k is None:
                record = p.record or self.parts.new_record(orjson.loads(p.entry_json))
                batch.new.append(
                    NewChild(
                        match_key=p.key,
                        resident_id=p.resident_id,
                        entry_json=p.entry_json,
                        entry_digest=p.entry_digest,
                        raw_digest=p.raw_digest,
                        risk_level=p.risk,
                        received=received,
                        deadline=self._new_deadline(p.risk),
                        record_json=record,
                    )
                )
            else:
                compare.append((p, k))
        if compare:
            stored = self.archive.entries(k for p, k in compare if p.number not in ahead)
            stored.update(
                (k.child_id, ahead[p.number].entry) for p, k in compare if p.number in ahead
            )
            decided: list[tuple[Known, Prepared, list[str], dict[str, Any] | None]] = []
            for p, k in compare:
                entry: dict[str, Any] | None = None
                if p.decided is not None:  # (by the worker that read the child ahead)
                    changed = list(p.decided[0])
                else:
                    entry = orjson.loads(p.entry_json)
                    changed = changed_fields(entry, stored.get(k.child_id, {}), k.status)
                if not changed:
                    batch.retouched.append((k.child_id, p.raw_digest))
                    batch.unchanged += 1
                    continue
                decided.append((k, p, changed, entry))
            risky = [
                k.case_number
                for k, p, changed, _ in decided
                if "risk_level" in changed and p.number not in ahead
            ]
            old_deadlines = self.archive.case_deadlines(risky) if risky else {}
            for k, p, _, _ in decided:
                dl = ahead[p.number].deadline if p.number in ahead else None
                if dl is not None:
                    old_deadlines[k.case_number] = dl
            for k, p, changed, entry in decided:
                deadline = None
                if "risk_level" in changed:
                    fresh = self._start_deadline(p.risk)
                    old_dl = old_deadlines.get(k.case_number)
                    previous = (
                        Deadline(
                            old_dl[0],
                            dt.date.fromisoformat(old_dl[1]),
                            dt.date.fromisoformat(old_dl[2]),
                            old_dl[3],
                        )
                        if old_dl
                        else None
                    )
                    deadline = earliest(previous, fresh)  # G-06
                merged = p.decided[1] if p.decided is not None else None
                if merged is None and entry is None:
                    entry = orjson.loads(p.entry_json)
                batch.changed.append(
                    ChangedChild(
                        known=k,
                        entry_json=p.entry_json,
                        raw_digest=p.raw_digest,
                        changed=changed,
                        risk_level=p.risk,
                        deadline=_dl(deadline),
                        merge=None if entry is None else self.parts.of(entry),
                        latest=ahead[p.number].latest if p.number in ahead else None,
                        record=merged,
                    )
                )
                self.report.changes[k.case_number] = changed
        if not self.options.dry_run:
            self.archive.apply_batch(
                self.report.run_id, batch, case_prefix=self.options.case_prefix
            )
        self.report.rows += batch.rows
        self.report.new += len(batch.new)
        self.report.changed += len(batch.changed)
        self.report.unchanged += batch.unchanged
        self.batches += 1
        faults.reached("sync.batch-written", self.batches)

    def take(self, scan: Scan) -> None:
        """What the first pass found, for the second; a ``--full`` list that would delist
        more than allowed stops here, before the first write (:mod:`interop.inbound.guard`)."""
        self.duplicates = scan.duplicates
        self.seen = scan.seen
        self.fresh = scan.is_fresh
        if self.options.full:
            would, listed = self.archive.delisting(scan.seen)
            self.would_delist = would
            try:
                guard.check(self.options.delist_limit, would=would, listed=listed, rows=scan.total)
            except DelistRefused as exc:
                if not self.options.dry_run:
                    raise
                self.report.message = f"a real run would stop: {exc.message}"
        self.scanned_rows = scan.total
        self.scanned_unchanged = scan.unchanged

    def finish(self, *, status: str = "completed", message: str | None = None) -> SyncReport:
        self.report.rows += self.scanned_rows
        # (a full list of no rows delists nobody: it was not understood)
        full = self.options.full and status == "completed" and self.report.rows > 0
        self.report.unchanged += self.scanned_unchanged
        if self.options.dry_run:  # (nothing written: what a real run would have done)
            self.report.delisted = self.would_delist if full else 0
            self.report.status = DRY_RUN if status == "completed" else status
            self.report.message = message or self.report.message
            return self.report
        self.report.delisted = self.archive.finish_run(
            self.report.run_id,
            status=status,
            full=full,
            message=message,
            seen=self.seen,
            rows=self.scanned_rows,
            unchanged=self.scanned_unchanged,
        )
        self.report.status = status
        self.report.message = message
        return self.report


def duplicates_in(rows: Iterable[RawRow], mapping: InboundMapping) -> dict[int, list[int]]:
    """Duplicate keys within a small set of rows (one page of a feed), in memory."""
    by_key: dict[str, list[int]] = {}
    for r in rows:
        if r.problem is None:
            key, _ = mapping.key_of(r.values)
            if key is not None:
                by_key.setdefault(key, []).append(r.number)
    return {n: [m for m in ns if m != n] for ns in by_key.values() if len(ns) > 1 for n in ns}


def batched(rows: Iterable[RawRow], size: int) -> Iterator[list[RawRow]]:
    batch: list[RawRow] = []
    for r in rows:
        batch.append(r)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def sync_file_rows(
    archive: Archive,
    rows: Iterable[RawRow],
    mapping: InboundMapping,
    terms: CodeLookup,
    calendar: WorkCalendar,
    options: SyncOptions,
    *,
    source: str,
    progress: Callable[[int, int], Any] | None = None,
    early: FirstPass | None = None,
    on_issue: Callable[[dict[str, Any]], None] | None = None,
) -> SyncReport:
    """Sync a re-iterable source of rows (a list file) into the archive.

    First pass: :meth:`Reconciler.scan`. Second pass: the rows that need
    work, in batches of one transaction each. A large CSV file is read and
    mapped by worker processes on both cores (:mod:`interop.inbound.parallel`);
    the result is the same. ``early``: the first pass of ``rows``, started
    before the archive was opened (:func:`interop.inbound.firstpass.start`).
    """
    from interop.inbound import csvparts, parallel, workers
    from interop.inbound.readers import FileSource

    plan: CsvPlan | None
    if early is not None:
        plan, count = early.plan, early.workers
    else:
        plan = csvparts.plan(rows) if isinstance(rows, FileSource) else None
        count = (
            workers.worker_count(plan.rows, options.workers, options.parallel_min)
            if plan is not None
            else 0
        )
    rec = Reconciler(archive, mapping, terms, calendar, options, source=source)
    rec.on_issue = on_issue
    # What is loaded now (terminology, mappings, modules) is no garbage: keep the
    # collector from walking it again and again while a large list streams through
    # (and forked workers from copying it when they touch it).
    gc.freeze()
    threshold = workers.fewer_collections()
    try:
        with archive.checkpoints_behind():
            if plan is not None and count and not options.dry_run:
                parallel.sync(rec, plan, count, progress, early=early)
            else:
                _sync_here(rec, rows, progress)
    except DelistRefused as exc:
        rec.finish(status="refused", message=exc.message)
        raise
    except KeyboardInterrupt:
        # Ctrl-C ends with exit 130 whatever happens here: a run that cannot be recorded
        # now stays "running" and the next run marks it interrupted.
        try:
            rec.finish(status="interrupted", message="interrupted (Ctrl-C)")
        except Exception as exc:
            log.warning("the interrupted run could not be recorded now (%s)", type(exc).__name__)
        raise
    except BaseException as exc:
        rec.finish(status="failed", message=type(exc).__name__)
        raise
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
    return rec.finish()


def _sync_here(
    rec: Reconciler, rows: Iterable[RawRow], progress: Callable[[int, int], Any] | None
) -> None:
    """Both passes in this process."""
    scan = rec.scan(rows)
    rec.take(scan)
    if progress is not None and scan.unchanged:
        progress(scan.unchanged, scan.total)
    work: Iterable[RawRow] = (
        scan.kept if scan.kept is not None else (r for r in rows if scan.needs_work(r.number))
    )
    if scan.pending:
        for batch in batched(work, rec.options.effective_batch_size()):
            rec.process(batch, count=False)
            if progress is not None:
                progress(len(batch), scan.total)
