"""The sync of a list (名单同步), stage by stage: 1. understand the file or refuse it
(``layout``); 2. classify every row against the archive's digests (``classify``; a
``--full`` list that would delist too many stops here); 3. prepare each row needing work
(``prepare``); 4. decide and write, a batch per transaction (``reconcile``). Stages 2 and
3 read the list by parts; stage 2 reads a SQLite archive itself, while this process opens it.

A partner's paged feed (its kind's plugin only fetches pages) is synced a page per batch,
the page's cursor stored with its rows: a page that fails stops the run cleanly, and the
next run resumes from the last good cursor. Duplicates are looked for within a page.

Where parts are read is chosen in one place (:func:`in_order`): here, or in worker
processes forked with the function (mapping a row holds the GIL: threads would not help).
Results come in the parts' order, so batches and case numbers are the same either way and
this process is the only writer. Workers die with it, ignore Ctrl-C and yield it the CPU.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, closing, suppress
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from interop import store
from interop._errors import InputError, InteropError, WorkerError
from interop.inbound.classify import FRESH, Classified, PartFound, RowKeys, classify, tally
from interop.inbound.layout import understand
from interop.inbound.mapping import InboundMapping
from interop.inbound.prepare import BATCH_SIZE, Prepared, Preparer, SyncOptions
from interop.inbound.source import FileSource, Layout, Part, object_row, taken
from interop.store.peek import Listed, early_archive, read_listed

if TYPE_CHECKING:
    from interop.config import Config
    from interop.exchange.transport import Feed
    from interop.inbound.reconcile import Reconciler, SyncReport
    from interop.store import Archive

log = logging.getLogger(__name__)


def sync_list_file(
    path: Path,
    db: str | None,
    options: SyncOptions,
    *,
    mapping_name: str | None = None,
    fmt: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    header_row: int | None = None,
    progress: Callable[[int, int], Any] | None = None,
    on_issue: Callable[[dict[str, Any]], None] | None = None,
    on_note: Callable[[str], None] | None = None,
) -> SyncReport:
    """Understand the list file at ``path`` (or refuse it), then sync it into the archive
    at ``db`` (or, with ``options.dry_run``, only say what the sync would do)."""
    mapping = InboundMapping.load(mapping_name)
    source = FileSource(path, fmt=fmt, encoding=encoding)
    source.options = mapping.reader_options(source.format)
    source.layout = understand(source, mapping, sheet=sheet, header_row=header_row)
    for note in source.layout.notes():
        (on_note or (lambda _: None))(note)
    parts, rows = source.parts(options.part_bytes)
    keys, known = RowKeys(mapping, source.layout), mapping.columns

    def workers(n: int) -> int:  # (for each pass: forking pays for many rows only)
        return worker_count(n, options.workers, options.parallel_min) if len(parts) > 1 else 0

    with ExitStack() as stack:
        threshold = gc.get_threshold()  # (a list streams many short-lived objects through)
        stack.callback(gc.set_threshold, *threshold)
        gc.set_threshold(max(threshold[0], 50_000), *threshold[1:])
        # (a SQLite archive of this version is read where the first pass runs; any other is
        # opened, or refused, first)
        early, archive, listed = early_archive(db), None, list[Listed]()
        if early is None:
            archive = stack.enter_context(store.Archive.open(db))
            listed.append(archive.listed_digests())

        def first(part: Part) -> PartFound:
            if not listed and early is not None:  # (once in each process)
                listed.append(read_listed(early))
            return classify(partial(source.rows, part), keys, listed[0], known)

        firsts = stack.enter_context(closing(in_order(first, parts, workers(rows), ahead=0)))
        archive = archive or stack.enter_context(store.Archive.open(db))
        rec = _reconciler(archive, mapping, options, source.layout, str(path), on_issue=on_issue)
        with rec.recording(), archive.checkpoints_behind():
            found = tally(firsts)
            listed.clear()  # (not needed again: the memory goes back before writing)
            _write(source, parts, found, rec, progress, workers)
        report = rec.finish()
    report.layout = source.layout.to_json()
    return report


def _reconciler(
    archive: Archive, mapping: InboundMapping, options: SyncOptions, layout: Layout | None,
    source: str, **kw: Any,
) -> Reconciler:  # fmt: skip
    """The run's writer, with its preparer (the database library is loaded by now)."""
    from interop.core.workdays import WorkCalendar
    from interop.fhir.terminology import Terminology
    from interop.inbound.reconcile import Reconciler

    preparer = Preparer(mapping, Terminology.load(), options, layout)
    return Reconciler(archive, preparer, WorkCalendar.load(), source=source, **kw)


def _write(
    source: FileSource,
    parts: list[Part],
    found: Classified,
    rec: Reconciler,
    progress: Callable[[int, int], Any] | None,
    workers: Callable[[int], int],
) -> None:
    """Prepare and write the rows that classifying found needing work, batch by batch."""
    preparer, progress = rec.preparer, progress or (lambda done, total: None)
    rec.check_columns([*found.columns, *(source.layout.header if source.layout else ())])
    rec.take(found.total, found.total - found.work, found.seen)
    progress(found.total - found.work, found.total)
    preparer.duplicates = found.duplicates
    # (a first sync needs every row: none is asked about)
    prepare, take = preparer.prepare, None if found.work == found.total else found.take

    def second(part: Part) -> list[tuple[Any, ...]]:  # (plain tuples pickle at half the cost)
        rows = source.rows(part, take)
        return [tuple(prepare(r, fresh=bool(found.flags[r.number] & FRESH))) for r in rows]

    size, batch = preparer.options.batch_size or BATCH_SIZE, list[Prepared]()
    todo = [part for part in parts if found.work and found.any_work(part)]
    # (last: 0 for the last part, after which what is left of the batch is written)
    for last, prepared in enumerate(in_order(second, todo, workers(found.work)), 1 - len(todo)):
        batch += map(Prepared._make, prepared)
        while len(batch) >= size or (batch and last == 0):
            rec.commit(batch[:size], count=False)
            progress(min(size, len(batch)), found.total)
            del batch[:size]


def sync_partner_feed(
    name: str,
    db: str | None,
    config: Config,
    options: SyncOptions,
    *,
    mapping_name: str | None = None,
) -> SyncReport:
    """Pull partner ``name``'s feed into the archive at ``db``, a page per batch."""
    if options.full:
        raise InputError("--full applies to list files, not to incremental feeds", code="E154")
    from interop.exchange.plugins import Plugins

    partner = config.partner(name)
    feed = Plugins().feed(name, partner.kind, partner.settings)
    try:
        with store.Archive.open(db) as archive:
            return _sync(archive, feed, name, options, mapping_name)
    finally:
        feed.close()


def _sync(
    archive: Archive, feed: Feed, name: str, options: SyncOptions, mapping_name: str | None
) -> SyncReport:
    mapping = InboundMapping.load(mapping_name or feed.mapping)
    rec = _reconciler(archive, mapping, options, None, f"partner:{name}", partner=name)
    preparer, cursor, offset = rec.preparer, archive.cursor(name), 0
    keys, known = preparer.keys, mapping.columns
    try:
        with rec.recording(say_why=True):
            for page in feed.pages(cursor):
                rows = [object_row(offset + i + 1, r) for i, r in enumerate(page.records)]
                offset += len(rows)
                # (all keys new to the page: what classifying finds is its duplicates)
                found = tally([classify(partial(taken, rows), keys, Listed({}, {}), known)])
                preparer.duplicates = found.duplicates
                rec.check_columns(found.columns)
                advance = (name, page.next_cursor) if page.next_cursor is not None else None
                rec.commit([preparer.prepare(r, fresh=False) for r in rows], cursor=advance)
    except InteropError as exc:
        if exc.exit_code != 1:  # unusable input: not a partner failure (the run is closed)
            raise
        log.warning("%s", exc.message)  # a partner failure: the run stops, the command ends
        return rec.report
    return rec.finish()


T = TypeVar("T")
R = TypeVar("R")

#: Below this many rows, forking costs more than it saves.
MIN_ROWS = 20_000
#: At most this many workers (the target machine has two cores).
MAX_WORKERS = 2
#: The function and items a worker was forked with (set by :func:`_start`, in workers only).
_WORK: list[tuple[Callable[[Any], Any], Sequence[Any]]] = []


def worker_count(rows: int, wanted: int | None, min_rows: int | None) -> int:
    """Workers for a list of ``rows`` rows (0: none); ``wanted`` and ``min_rows`` come
    from the settings (``INTEROP_SYNC_WORKERS``, ``…_PARALLEL_MIN``)."""
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    if wanted is None:
        cores = len(os.sched_getaffinity(0))
        wanted = min(MAX_WORKERS, cores) if cores > 1 else 0
    return wanted if rows >= (MIN_ROWS if min_rows is None else min_rows) else 0


def in_order(
    fn: Callable[[T], R], items: Sequence[T], workers: int, *, ahead: int = 1
) -> Generator[R, None, None]:
    """``fn(item)`` of each item, in order: by ``workers`` forked processes, which start at
    once with ``ahead`` items each (0: all; their results wait to be taken), or here (0)."""
    if workers < 1 or len(items) < 2:
        return (fn(item) for item in items)
    pooled = _pooled(fn, items, min(workers, len(items)), ahead)
    next(pooled)  # (the workers start now; closing the results stops them)
    return cast(Generator[R, None, None], pooled)


def _pooled(
    fn: Callable[[T], R], items: Sequence[T], workers: int, ahead: int
) -> Generator[R | None, None, None]:
    fork = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(workers, fork, initializer=_start, initargs=(fn, items, os.getpid()))
    try:
        gc.freeze()  # (what the workers share: out of the collector's walk, which would copy it)
        first = len(items) if ahead < 1 else min(len(items), workers * ahead)
        pending: deque[Future[R]] = deque(pool.submit(_call, i) for i in range(first))
        gc.unfreeze()
        yield None
        for i in range(first, len(items) + first):
            result = pending.popleft().result()
            if i < len(items):  # (the next item starts before this result is used)
                pending.append(pool.submit(_call, i))
            yield result
    except BrokenProcessPool:
        raise WorkerError(
            "a worker process stopped unexpectedly (killed, or out of memory?); what was "
            "committed stays, and the next run goes on from there — with "
            "$INTEROP_SYNC_WORKERS=0 it runs in one process"
        ) from None
    finally:
        gc.unfreeze()
        pool.shutdown(wait=False, cancel_futures=True)


def _start(fn: Callable[[Any], Any], items: Sequence[Any], parent: int) -> None:  # pragma: no cover
    """A worker's start (in the forked process, which coverage does not follow)."""
    with suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # (PR_SET_PDEATHSIG: die with the parent)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(5)  # (the writer first: the run waits for it, and for what it loads)
    _WORK.append((fn, items))


def _call(i: int) -> Any:  # pragma: no cover - (in a forked worker)
    fn, items = _WORK[-1]
    return fn(items[i])
