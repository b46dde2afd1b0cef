"""Sync of a large CSV list on both cores.

The two passes of :func:`interop.inbound.sync.sync_file_rows`, with the
reading, keying and mapping of rows done by worker processes, each reading
its own parts of the file (:mod:`interop.inbound.csvparts`):

1. workers read their parts, key and look up every row and, where few rows
   of a part need work, prepare those (:mod:`interop.inbound.firstpass`,
   which ``interop sync`` starts before the archive is even open); this
   process keeps the run's tally (:class:`~interop.inbound.sync.Triage`):
   duplicates, the children the list names;
2. the rows that need work are prepared
   (:meth:`~interop.inbound.prepare.Preparer.prepare`: mapped, checked, case
   record built) — already, or by workers reading their parts again — and
   this process commits them in file order, in the same batches as a
   one-process run (:meth:`~interop.inbound.sync.Reconciler.commit`).

What the second pass's workers need — the run, the plan, what the first
pass found — is in this module's ``_JOB`` when they are forked; they get
part numbers and return plain tuples.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from interop.inbound import firstpass
from interop.inbound import workers as pool_of
from interop.inbound.csvparts import CsvPlan, Part, cells_of, lines
from interop.inbound.firstpass import FirstPass, Kept
from interop.inbound.prepare import Packer, Prepared, unpack_all
from interop.inbound.readers import csv_row
from interop.inbound.sync import KEEP_ROWS, Reconciler, Scan, Triage, load_digests


@dataclass(slots=True)
class _Job:
    rec: Reconciler
    plan: CsvPlan
    scan: Scan


_JOB: _Job | None = None


def sync(
    rec: Reconciler,
    plan: CsvPlan,
    workers: int,
    progress: Callable[[int, int], Any] | None,
    *,
    early: FirstPass | None = None,
) -> None:
    """Both passes; ``early``: a first pass started before the archive was opened."""
    global _JOB
    found = None
    if early is not None:
        try:
            # (if the pass read another state of the archive, it is done again)
            if _same_archive(rec, early.version):
                found = _tally(rec, early)
        finally:
            early.close()
    if found is None:
        job = firstpass.Job(plan, rec.mapping.shape(plan.header), rec, archive=rec.archive)
        children = rec.archive.count_children()
        if firstpass.read_at_once(plan.rows, children):
            # one read here beats a query per chunk there
            job.known = load_digests(rec.archive) if children else {}
        first = firstpass.FirstPass(job, workers)
        try:
            found = _tally(rec, first)
        finally:
            first.close()
    scan, kept, whole_rows = found
    rec.take(scan)
    if whole_rows:  # (as the one-process scan, which checks the columns of such rows)
        rec.check_header(plan.header)
    if progress is not None and scan.unchanged:
        progress(scan.unchanged, scan.total)
    if not scan.pending:
        return
    _JOB = _Job(rec, plan, scan)
    try:
        _second_pass(rec, plan, scan, kept, workers, progress)
    finally:
        _JOB = None


def _tally(rec: Reconciler, first: FirstPass) -> tuple[Scan, list[Kept | None], bool]:
    """The workers' reports, taken in file order: the scan, what they kept of each part,
    and whether a row used the header's columns."""
    kept: list[Kept | None] = []
    kept_rows = 0
    whole_rows = False
    with Triage(rec.archive, rec.mapping, keep=0) as triage:
        for part in first.results():
            whole_rows = whole_rows or part.whole
            for number in part.work:
                triage.work(number)
            triage.fresh(part.fresh)
            triage.known(part.known)
            kept_rows += len(part.kept or ())
            kept.append(part.kept if kept_rows <= KEEP_ROWS else None)
        return triage.finish(), kept, whole_rows


def _same_archive(rec: Reconciler, version: int | None) -> bool:
    """Whether an early pass read the archive this process opened: of this schema
    version, or none yet (then it must still hold no child)."""
    from interop.store import schema

    if version == schema.SCHEMA_VERSION:
        return True
    return version is None and rec.archive.count_children() == 0


def _second_pass(
    rec: Reconciler,
    plan: CsvPlan,
    scan: Scan,
    kept: list[Kept | None],
    workers: int,
    progress: Callable[[int, int], Any] | None,
) -> None:
    size = rec.options.effective_batch_size()
    todo = [_work_of(rec, scan, p, plan, kept[p.index]) for p in plan.parts]
    again = [w for w in todo if isinstance(w, int)]
    window = 2 * workers + 2
    with pool_of.pool(workers, behind_writer=True) if again else contextlib.nullcontext() as ex:
        read = iter(pool_of.InOrder(ex, _prepare_part, again, window=window)) if ex else None
        batch: list[Prepared] = []
        for w in todo:
            if w is None:
                continue
            if isinstance(w, int):
                assert read is not None
                batch += unpack_all(next(read))
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


def _work_of(
    rec: Reconciler, scan: Scan, part: Part, plan: CsvPlan, kept: Kept | None
) -> list[Prepared] | int | None:
    """What the second pass does with a part: nothing, take the rows the first pass
    prepared, or have a worker read the part again (its index)."""
    nxt = part.index + 1
    end = plan.parts[nxt].first if nxt < len(plan.parts) else plan.end
    if not scan.any_work(part.first, end):
        return None
    if kept is None:
        return part.index
    needed = scan.rows_needing_work(part.first, end)
    if not all(n in kept for n in needed):
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


def _prepare_part(index: int) -> list[bytes]:
    """The second pass over one part: each row needing work, prepared (:class:`Packer`)."""
    job = _job()
    plan, rec, scan = job.plan, job.rec, job.scan
    needs, header, delimiter = scan.needs_work, plan.header, plan.delimiter
    out = Packer()
    for number, line in lines(plan, plan.parts[index]):
        if needs(number):
            row = csv_row(number, header, cells_of(line, delimiter))
            if row is not None:
                out.add(rec.prepare(row))
    return out.done()
