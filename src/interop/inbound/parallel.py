"""Sync of a large CSV list on both cores (issue 3, Performance).

The two passes of :func:`interop.inbound.sync.sync_file_rows`, with the
reading, keying and mapping of rows done by worker processes, each reading
its own parts of the file (:mod:`interop.inbound.csvparts`):

1. workers read their parts, look the keys up — in the archive's digests
   read once before they were forked, when the list names a fair share of
   the archive, else each with its own connection — and report each row's
   class: needing work anyway, new key, known child (unchanged or not);
   this process keeps the run's tally (:class:`~interop.inbound.sync.Triage`):
   duplicates, the children the list names. When few rows of a part need
   work, the worker prepares them there and then;
2. the rows that need work are prepared
   (:meth:`~interop.inbound.sync.Reconciler.prepare`: mapped, checked, case
   record built) — already, or by workers reading their parts again — and
   this process commits them in file order, in the
   same batches as a one-process run (:meth:`~interop.inbound.sync.Reconciler.commit`).

What the workers need — the run, the plan, what the first pass found — is
in this module's ``_JOB`` when they are forked; they get part numbers and
return plain tuples.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from interop.inbound import workers as pool_of
from interop.inbound.csvparts import CsvPlan, Part, cells_of, lines
from interop.inbound.mapping import RowShape
from interop.inbound.prepare import Prepared, key_hash
from interop.inbound.readers import csv_row
from interop.inbound.sync import (
    KEEP_ROWS,
    SCAN_CHUNK,
    Found,
    Reconciler,
    Scan,
    Triage,
    load_digests,
    lookup,
)
from interop.store import Archive

#: Read the archive's digests at once, before the workers start, up to this many children …
LOAD_ALL_MAX = 250_000
#: … when the list is at least this share of the archive (else each worker queries by chunk).
LOAD_ALL_SHARE = 0.25

#: Lines a worker keeps of one part for the second pass (rows new, changed or bad);
#: beyond these, or beyond ``KEEP_ROWS`` of the whole list, the part is read again.
KEEP_PER_PART = 400

#: A part's rows that need work, prepared by the first pass: row → (line, prepared).
Kept = dict[int, tuple[str, tuple[Any, ...]]]
ScanPart = tuple[
    list[int],
    list[tuple[int, int]],
    list[tuple[int, int, bool, int]],
    Kept | None,
    bool,
]


@dataclass(slots=True)
class _Job:
    rec: Reconciler
    plan: CsvPlan
    shape: RowShape
    known: dict[str, Found] | None = None  # the archive's digests, when read at once
    scan: Scan | None = None


_JOB: _Job | None = None


def sync(
    rec: Reconciler, plan: CsvPlan, workers: int, progress: Callable[[int, int], Any] | None
) -> None:
    global _JOB
    _JOB = job = _Job(rec, plan, rec.mapping.shape(plan.header))
    children = rec.archive.count_children()
    if children <= LOAD_ALL_MAX and plan.rows >= LOAD_ALL_SHARE * children:
        # one read here beats a query per chunk there
        job.known = load_digests(rec.archive) if children else {}
    window = 2 * workers + 2
    try:
        with pool_of.pool(workers) as ex:
            results = pool_of.InOrder(ex, _scan_part, range(len(plan.parts)), window=window)
            kept: list[Kept | None] = []  # what the workers kept of each part
            kept_rows = 0
            with Triage(rec.archive, rec.mapping, keep=0) as triage:
                whole_rows = False  # a row not cut short: the header's columns are used
                for work, fresh, known, part_kept, whole in results:
                    whole_rows = whole_rows or whole
                    for number in work:
                        triage.work(number)
                    triage.fresh(fresh)
                    triage.known(known)
                    kept_rows += len(part_kept or ())
                    kept.append(part_kept if kept_rows <= KEEP_ROWS else None)
                scan = triage.finish()
        job.known = None
        rec.take(scan)
        if whole_rows:  # (as the one-process scan, which checks the columns of such rows)
            rec.check_header(plan.header)
        if progress is not None and scan.unchanged:
            progress(scan.unchanged, scan.total)
        if not scan.pending:
            return
        job.scan = scan
        size = rec.options.effective_batch_size()
        todo = [_work_of(rec, scan, p, plan, kept[p.index]) for p in plan.parts]
        again = [w for w in todo if isinstance(w, int)]
        with pool_of.pool(workers, behind_writer=True) if again else contextlib.nullcontext() as ex:
            read = iter(pool_of.InOrder(ex, _prepare_part, again, window=window)) if ex else None
            batch: list[Prepared] = []
            for w in todo:
                if w is None:
                    continue
                if isinstance(w, int):
                    assert read is not None
                    batch += map(Prepared._make, next(read))
                else:
                    batch += w
                while len(batch) >= size:
                    rec.commit(batch[:size], count=False)
                    del batch[:size]
                    if progress is not None:
                        progress(size, scan.total)
            if batch:
                rec.commit(batch, count=False)
                if progress is not None:
                    progress(len(batch), scan.total)
    finally:
        _JOB = None


def _work_of(
    rec: Reconciler, scan: Scan, part: Part, plan: CsvPlan, kept: Kept | None
) -> list[Prepared] | int | None:
    """What the second pass does with a part: nothing, take the rows the first pass
    prepared, or have a worker read the part again (its index)."""
    nxt = part.index + 1
    end = plan.parts[nxt].first if nxt < len(plan.parts) else plan.rows + 2
    if not scan.any_work(part.first, end):
        return None
    needed = [n for n in range(part.first, end) if scan.needs_work(n)]
    if kept is None or not all(n in kept for n in needed):
        return part.index
    out = []
    for n in needed:
        line, prepared = kept[n]
        if n in rec.duplicates:  # found out only now, with the whole list read
            row = csv_row(n, plan.header, cells_of(line, plan.delimiter))
            assert row is not None
            out.append(rec.prepare(row))
        else:
            out.append(Prepared._make(prepared))
    return out


# -- in the workers ----------------------------------------------------------


def _job() -> _Job:
    assert _JOB is not None, "a worker of a parallel sync runs only with its job"
    return _JOB


def _scan_part(index: int) -> ScanPart:
    """The first pass over one part: rows needing work anyway, new keys, known children."""
    job = _job()
    plan, shape, archive, loaded = job.plan, job.shape, job.rec.archive, job.known
    if loaded is None:
        _own_connections(archive)
    width, delimiter = len(plan.header), plan.delimiter
    key, digest = shape.key, shape.digest
    work: list[int] = []
    fresh: list[tuple[int, int]] = []
    known: list[tuple[int, int, bool, int]] = []
    pending: list[tuple[int, str, list[str]]] = []
    kept: dict[int, str] | None = {}  # the lines of rows likely to need work, while few
    new_keys: set[int] = set()
    short = 0

    def flush() -> None:
        for (number, _, cells), found in zip(
            pending, lookup(archive, [k for _, k, _ in pending]), strict=True
        ):
            if isinstance(found, int):
                fresh.append((found, number))
            else:
                child_id, raw = found
                known.append((number, child_id, raw is not None and raw == digest(cells), number))
        pending.clear()

    get = loaded.get if loaded is not None else None
    for number, line in lines(plan, plan.parts[index]):
        cells = cells_of(line, delimiter)
        if len(cells) != width:
            if not any(c.strip() for c in cells):
                continue  # blank line
            if len(cells) < width:
                work.append(number)  # cut short
                short += 1
                if kept is not None:
                    kept[number] = line
                continue
        k = key(cells)[0]
        if k is None:
            work.append(number)
        elif get is None:
            pending.append((number, k, cells))
            if len(pending) >= SCAN_CHUNK:
                flush()
            continue
        elif (found := get(k)) is None:
            fresh.append((key_hash(k), number))
            new_keys.add(number)
        elif found[1] is not None and found[1] == digest(cells):
            known.append((number, found[0], True, number))
            continue
        else:
            known.append((number, found[0], False, number))
        if kept is not None:
            kept[number] = line
            if len(kept) > KEEP_PER_PART:
                kept = None
    flush()
    whole = len(work) + len(fresh) + len(known) > short
    if get is None or kept is None:  # (rows looked up by chunk are not sorted out here)
        return work, fresh, known, None, whole
    # Few rows of this part need work: prepare them now, while the part is at hand — the
    # second pass then only commits them (unless the whole list shows one a duplicate).
    rec, header = job.rec, plan.header
    ready: Kept = {}
    for number, line in kept.items():
        row = csv_row(number, header, cells_of(line, delimiter))
        if row is not None:
            ready[number] = (line, tuple(rec.prepare(row, fresh=number in new_keys)))
    return work, fresh, known, ready, whole


_OWN: list[int] = []


def _own_connections(archive: Archive) -> None:
    """A forked worker opens its own database connections (never its parent's)."""
    if os.getpid() not in _OWN:
        archive.engine.dispose(close=False)
        _OWN.append(os.getpid())


def _prepare_part(index: int) -> list[tuple[Any, ...]]:
    """The second pass over one part: each row needing work, prepared."""
    job = _job()
    plan, rec, scan = job.plan, job.rec, job.scan
    assert scan is not None
    needs, header, delimiter = scan.needs_work, plan.header, plan.delimiter
    out: list[tuple[Any, ...]] = []
    for number, line in lines(plan, plan.parts[index]):
        if needs(number):
            row = csv_row(number, header, cells_of(line, delimiter))
            if row is not None:
                out.append(tuple(rec.prepare(row)))
    return out
