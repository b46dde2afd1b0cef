"""The first pass of a large CSV sync, in worker processes.

Each worker reads its parts of the file (:mod:`interop.inbound.csvparts`),
keys every row, looks the key up among the archive's children and reports
the row's class: needing work anyway (cut short, no key), new key, or known
child — unchanged (same raw digest, still listed) or not. When few rows of
a part need work, the worker prepares them there and then
(:meth:`interop.inbound.prepare.Preparer.prepare`), while the part is at hand.

Where the children's digests come from:

- *early* (a SQLite archive): a thread reads them with the standard library
  from the moment ``interop sync`` starts (:func:`digests_ahead`,
  :class:`interop.store.peek.DigestsAhead`); :func:`start` then forks the
  first worker, which makes the digests of what the thread read and forks
  the others: the workers read the list while the main process loads the
  database library and opens the archive, which checks then that the
  archive it opened is the one that was read (same schema version) and
  otherwise runs the pass again the ordinary way;
- otherwise the main process reads them at once, with the archive open,
  before forking the workers (a list that names a fair share of the
  archive), or each worker asks the archive for its keys by chunk.

Nothing here loads the database library; the chunked look-up imports it
when it is used, in a process that has it loaded already.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import multiprocessing
import os
import signal
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from interop.inbound import csvparts
from interop.inbound import workers as pool_of
from interop.inbound.csvparts import CsvPlan, cells_of, lines
from interop.inbound.mapping import CodeLookup, InboundMapping, RowShape
from interop.inbound.prepare import (
    FreshKeys,
    KnownRows,
    Prepared,
    Preparer,
    SyncOptions,
    decide_change,
    key_hash,
)
from interop.inbound.readers import FileSource, csv_row
from interop.store.location import sqlite_path
from interop.store.peek import DigestsAhead, Found, change_states, children_bound

#: Lines a worker keeps of one part for the second pass (rows new, changed or bad);
#: beyond these the part is read again.
KEEP_PER_PART = 400
#: Keys per look-up in the archive, when the digests are not read at once.
LOOKUP_CHUNK = 2000
#: Read the archive's digests at once, up to this many children …
LOAD_ALL_MAX = 250_000
#: … when the list is at least this share of the archive (else look keys up by chunk).
LOAD_ALL_SHARE = 0.25


def read_at_once(rows: int, children: int) -> bool:
    """Whether a list of ``rows`` rows reads the digests of ``children`` children at once."""
    return children <= LOAD_ALL_MAX and rows >= LOAD_ALL_SHARE * children


#: A part's rows that need work, prepared by the first pass: row → (line, prepared).
Kept = dict[int, tuple[str, tuple[Any, ...]]]


@dataclass(slots=True)
class PartScan:
    """What a worker found in one part."""

    work: list[int]  # rows needing work whatever the archive holds (cut short, no key)
    fresh: FreshKeys  # the rows whose key the archive lacks, and their key hashes
    known: KnownRows
    kept: Kept | None  # the part's rows that need work, prepared — when few
    whole: bool  # a row not cut short (its columns are the header's)


@dataclass(slots=True)
class Job:
    """What the workers of a first pass see (set before they are forked)."""

    plan: CsvPlan
    shape: RowShape
    preparer: Preparer
    known: dict[str, Found] | None = None  # the archive's digests, read at once …
    archive: Any = None  # … else: the archive to ask by chunk
    #: a SQLite archive from which the workers read ahead what a changed child's change
    #: reads (Prepared.stored), while the part is at hand
    read_ahead: Path | None = None


_JOB: Job | None = None


class FirstPass:
    """A first pass under way: worker processes that each read every n-th part of the
    list, and their reports, taken in file order.

    The first worker is forked from this process, and forks the others once it
    holds what they share: with ``digests`` (an early pass), the children's
    digests, which it makes of what a thread of this process read from that
    SQLite archive — this process never holds them, and loads the database
    library meanwhile. Each worker
    writes its reports to its own pipe, made large so that it can run a few parts
    ahead while this process is busy elsewhere.

    ``version``: for an early pass, the schema version of the archive whose
    digests were read (None: no archive yet; -1: they could not be read).
    """

    def __init__(self, job: Job, workers: int, *, digests: DigestsAhead | None = None) -> None:
        global _JOB
        self.job = job
        self.workers = workers
        self._version: int | None = None
        self._version_due = digests is not None
        self._conns: list[Connection] = []
        self._pid: int | None = None
        _JOB = job
        pipes = [multiprocessing.Pipe(duplex=False) for _ in range(workers)]
        for _, sender in pipes:
            _widen(sender)
        # what this process holds now is the workers' shared input: out of the collector's
        # reach (its walk would write to every object's header and copy every page)
        gc.freeze()
        if digests is not None:
            digests.join()  # (no thread inside SQLite at the fork)
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - (the first worker; coverage does not follow forks)
            _first_worker(parent, [sender for _, sender in pipes], digests)
        self._pid = pid
        for reader, sender in pipes:
            sender.close()
            self._conns.append(reader)

    @property
    def plan(self) -> CsvPlan:
        return self.job.plan

    @property
    def version(self) -> int | None:
        if self._version_due:  # the first message of the first worker
            self._version = self._receive(0)
            self._version_due = False
        return self._version

    def results(self) -> Iterator[PartScan]:
        """Each part's report, in file order (a worker's error is raised here)."""
        if self.version == -1:
            raise RuntimeError("a first pass whose digests could not be read has no results")
        for index in range(len(self.plan.parts)):
            yield self._receive(index % self.workers)

    def _receive(self, worker: int) -> Any:
        try:
            message = self._conns[worker].recv()
        except (EOFError, OSError):
            raise pool_of.worker_died() from None
        if isinstance(message, _Failed):
            raise message.error
        return message

    def close(self) -> None:
        """Stop the workers (once; a second call does nothing)."""
        global _JOB
        pid, self._pid = self._pid, None
        if pid is None:
            return
        try:
            for conn in self._conns:
                conn.close()
            # the first worker's own workers die with it (PR_SET_PDEATHSIG)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        finally:
            _JOB = None
            self.job.known = None  # (the second pass needs no digests)


@dataclass(slots=True)
class _Failed:
    """What a worker sends instead of a report when reading its part failed."""

    error: BaseException


def _widen(conn: Connection) -> None:
    """A pipe of 1 MiB (Linux), so that a worker runs parts ahead of the reader."""
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(conn.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)


def _first_worker(parent: int, senders: list[Connection], digests: DigestsAhead | None) -> None:
    """The first worker: reads the digests (early pass), forks the others, reads its parts,
    then waits for the others (which die with it) and ends."""
    try:
        pool_of.die_with_parent(parent, 0)
        job = _job()
        if digests is not None:
            try:
                version, job.known = digests.result()
            except Exception:  # not an archive one can read: opening it will say why
                senders[0].send(-1)
                return
            senders[0].send(version)
        me, others = os.getpid(), []
        for k in range(1, len(senders)):
            pid = os.fork()
            if pid == 0:
                try:
                    pool_of.die_with_parent(me, 0)
                    _scan_parts(k, senders)
                finally:
                    os._exit(0)
            others.append(pid)
        _scan_parts(0, senders)
        for pid in others:
            os.waitpid(pid, 0)
    finally:
        os._exit(0)


def _scan_parts(k: int, senders: list[Connection]) -> None:
    """Worker ``k`` of n: the first pass over parts k, k + n, …, each report sent in turn."""
    conn, n = senders[k], len(senders)
    for i, other in enumerate(senders):
        if i != k:
            other.close()
    try:
        for index in range(k, len(_job().plan.parts), n):
            conn.send(_scan_part(index))
    except BaseException as exc:
        try:
            conn.send(_Failed(exc))
        except Exception:
            conn.send(_Failed(RuntimeError(f"{type(exc).__name__}: {exc}")))


#: A list file this large may be synced by workers: its sync reads the archive's digests
#: ahead (:func:`digests_ahead`). (A list of 20,000 rows is about 5 MB.)
AHEAD_BYTES = 1 << 20


def digests_ahead(file: Path, db: str | None) -> DigestsAhead | None:
    """The digests of the SQLite archive ``db``, read in a thread from now on, when the list
    ``file`` is large enough for workers — first thing, while ``interop sync`` starts up."""
    path = sqlite_path(db)
    try:
        large = file.stat().st_size >= AHEAD_BYTES
    except OSError:  # (reading the list will say why)
        return None
    if path is None or not large or not path.is_file():
        return None
    return DigestsAhead(path)


def start(
    source: FileSource,
    mapping: InboundMapping,
    terms: CodeLookup,
    options: SyncOptions,
    db: str | None,
    digests: DigestsAhead | None = None,
) -> FirstPass | None:
    """The early first pass of ``source`` into the SQLite archive ``db``, or None when the
    list is not one for workers (small, quoted, not CSV) or the archive is not SQLite.
    ``digests``: the archive's, read ahead (:func:`digests_ahead`)."""
    try:
        return _start(source, mapping, terms, options, db, digests)
    finally:
        if digests is not None:
            digests.join()  # (whatever happens next, no thread is inside SQLite at a fork)


def _start(
    source: FileSource,
    mapping: InboundMapping,
    terms: CodeLookup,
    options: SyncOptions,
    db: str | None,
    digests: DigestsAhead | None,
) -> FirstPass | None:
    path = sqlite_path(db)
    found = csvparts.plan(source) if path is not None else None
    if found is None or path is None:
        return None
    workers = pool_of.worker_count(found.rows, options.workers, options.parallel_min)
    if not workers:
        return None
    try:
        if not read_at_once(found.rows, children_bound(path)):
            return None  # (the ordinary pass asks the archive by chunk)
    except sqlite3.Error:  # not an archive one can read: opening it will say why
        return None
    job = Job(
        found, mapping.shape(found.header), Preparer(mapping, terms, options), read_ahead=path
    )
    if digests is None or digests.path != path:
        digests = DigestsAhead(path)
    return FirstPass(job, workers, digests=digests)


# -- in the workers ----------------------------------------------------------


def _job() -> Job:
    assert _JOB is not None, "a worker of a parallel sync runs only with its job"
    return _JOB


def _scan_part(index: int) -> PartScan:
    """The first pass over one part: rows needing work anyway, new keys, known children."""
    job = _job()
    plan, shape, loaded = job.plan, job.shape, job.known
    width, delimiter = len(plan.header), plan.delimiter
    key, digest = shape.key, shape.digest
    work: list[int] = []
    fresh_hashes: list[int] = []
    fresh_rows: list[int] = []
    known = KnownRows()
    pending: list[tuple[int, str, list[str]]] = []
    kept: dict[int, str] | None = {}  # the lines of rows likely to need work, while few
    new_keys: set[int] = set()
    short = 0

    def classify(
        number: int, k: str, found: Found | None, row: Any, hashed: Callable[[Any], str]
    ) -> bool:
        """Record a keyed row's class; whether it may need work (not known unchanged).
        ``hashed(row)``: the row's raw digest (of its cells, or of its line)."""
        if found is None:
            fresh_hashes.append(key_hash(k))
            fresh_rows.append(number)
            new_keys.add(number)
            return True
        unchanged = found[1] is not None and found[1] == hashed(row)
        known.add(number, found[0], unchanged)
        return not unchanged

    # A whole line in the mapping's own layout is keyed and hashed as it is, not split
    # into cells (RowShape.line_key) — as the bytes it is in the file, where it can be
    # (csvparts.byte_lines): most rows of a re-sync need nothing more.
    raw = csvparts.byte_lines(plan, plan.parts[index]) if loaded is not None else None
    if raw is not None:
        by_line: Any = shape.byte_lines(delimiter)
    else:
        by_line = shape.lines(delimiter) if loaded is not None else None
    line_key, line_digest = by_line if by_line is not None else (None, digest)
    cuts = width - 1
    sep: Any = delimiter.encode() if raw is not None else delimiter
    encoding = plan.encoding

    def flush() -> None:
        if not pending:
            return
        _own_connections(job.archive)
        found = job.archive.digests([k for _, k, _ in pending])
        for number, k, cells in pending:
            classify(number, k, found.get(k), cells, digest)
        pending.clear()

    get = loaded.get if loaded is not None else None
    each: Any = raw if raw is not None else lines(plan, plan.parts[index])
    # (a known child's row, classified here without a call: nearly every row of a re-sync)
    add_number, add_child, add_unchanged = (
        known.numbers.append,
        known.child_ids.append,
        known.unchanged.append,
    )
    for number, line in each:
        if line_key is not None and line.count(sep) == cuts and (k := line_key(line)) is not None:
            assert get is not None
            found = get(k)
            if found is None:
                classify(number, k, found, line, line_digest)
            else:
                unchanged = found[1] is not None and found[1] == line_digest(line)
                add_number(number)
                add_child(found[0])
                add_unchanged(unchanged)
                if unchanged:
                    continue
            if raw is not None:
                line = line.decode(encoding)
        else:
            if raw is not None:
                line = line.decode(encoding)
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
                if any(c.strip() for c in cells[width:]):
                    work.append(number)  # more cells than the header: quarantined
                    if kept is not None:
                        kept[number] = line
                    continue
            k = key(cells)[0]
            if k is None:
                work.append(number)
            elif get is None:
                pending.append((number, k, cells))
                if len(pending) >= LOOKUP_CHUNK:
                    flush()
                continue
            elif not classify(number, k, get(k), cells, digest):
                continue
        if kept is not None:
            kept[number] = line
            if len(kept) > KEEP_PER_PART:
                kept = None
    flush()
    fresh = FreshKeys.of(fresh_hashes, fresh_rows)
    whole = len(work) + len(fresh_rows) + len(known) > short
    if get is None or kept is None:  # (rows looked up by chunk are not sorted out here)
        return PartScan(work, fresh, known, None, whole)
    # Few rows of this part need work: prepare them now, while the part is at hand — the
    # second pass then only commits them (unless the whole list shows one a duplicate).
    preparer, header = job.preparer, plan.header
    ready: Kept = {}
    for number, line in kept.items():
        row = csv_row(number, header, cells_of(line, delimiter))
        if row is not None:
            ready[number] = (line, tuple(preparer.prepare(row, fresh=number in new_keys)))
    if job.read_ahead is not None:
        _read_ahead(job.read_ahead, ready, known)
    return PartScan(work, fresh, known, ready, whole)


_AHEAD: list[sqlite3.Connection] = []  # this worker's own connection, once opened


def _read_ahead(path: Path, ready: Kept, known: KnownRows) -> None:
    """Attach to each prepared row of a known child that changed what its change will read
    from the archive (one query per part, here in the worker, not in the writer), and
    what the writer would decide of it (:func:`decide_change`)."""
    changed = {n: cid for n, cid, unchanged in known.rows() if not unchanged and n in ready}
    if not changed:
        return
    if not _AHEAD:
        con = sqlite3.connect(path)
        con.execute("PRAGMA query_only = 1")
        _AHEAD.append(con)
    states = change_states(_AHEAD[0], sorted(set(changed.values())))
    parts = _job().preparer.parts
    for number, child_id in changed.items():
        state = states.get(child_id)
        line, row = ready[number]
        prepared = Prepared._make(row)
        if state is not None and prepared.key is not None:  # (not quarantined)
            decided = decide_change(prepared, state, parts)
            ready[number] = (line, tuple(prepared._replace(stored=state, decided=decided)))


_OWN: list[int] = []


def _own_connections(archive: Any) -> None:
    """A forked worker opens its own database connections (never its parent's)."""
    if os.getpid() not in _OWN:
        archive.engine.dispose(close=False)
        _OWN.append(os.getpid())
