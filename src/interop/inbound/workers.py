"""Worker processes for a large list sync: both cores, one writer.

Mapping a row is pure Python and holds the GIL, so threads would not help;
worker processes do. They are forked once the run's state is built (the
mapping, terminology, and what the first pass found), so nothing but part
numbers goes to them and only compact results come back. The process that
started them stays the only writer of the archive, and it takes their
results in the order of the file: batches, transactions and case numbers
are the same as when one process does all the work.

The second pass's workers form a pool (:func:`pool`); the first pass forks
its own, each reading every n-th part (:class:`interop.inbound.firstpass.FirstPass`).

A worker dies with its parent (``PR_SET_PDEATHSIG``): a run killed midway
leaves no orphan behind to hold the terminal or the file. Workers that feed
the writer run at a lower priority (``nice``): it is the stage every row waits for.

``$INTEROP_SYNC_WORKERS`` sets the number of workers (0: none);
``$INTEROP_SYNC_PARALLEL_MIN`` the rows a list needs before workers pay off.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Generic, TypeVar

from interop._errors import WorkerError as WorkerError

ENV_WORKERS = "INTEROP_SYNC_WORKERS"
ENV_MIN_ROWS = "INTEROP_SYNC_PARALLEL_MIN"
#: Below this many rows, forking costs more than it saves.
MIN_ROWS = 20_000
#: At most this many workers (the target machine has two cores).
MAX_WORKERS = 2
#: Workers that feed the writer run at this lower priority (see :func:`pool`).
WORKER_NICENESS = 10
_PR_SET_PDEATHSIG = 1
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (glibc malloc.h)


T = TypeVar("T")
R = TypeVar("R")


def worker_count(rows: int, wanted: int | None = None, min_rows: int | None = None) -> int:
    """Workers for a list of ``rows`` rows; 0 means: do the work in this process.

    ``wanted`` and ``min_rows`` come from the settings (``INTEROP_SYNC_WORKERS``,
    ``INTEROP_SYNC_PARALLEL_MIN``); ``None`` takes the defaults."""
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    if wanted is None:
        cores = len(os.sched_getaffinity(0))
        wanted = min(MAX_WORKERS, cores) if cores > 1 else 0
    return wanted if rows >= (MIN_ROWS if min_rows is None else min_rows) else 0


def fewer_collections() -> tuple[int, int, int]:
    """Collect young objects seldom (a list streams through many, short-lived, and
    keeps few); returns the thresholds it replaced."""
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], 50_000), *threshold[1:])
    return threshold


def reuse_freed_memory() -> None:
    """Have glibc keep freed memory for reuse rather than hand it back at once (Linux).

    A large sync passes many blocks of a few MB between processes (a part's
    prepared rows, each pipe message). By default glibc maps each such block
    afresh and unmaps it when freed, so every use touches new pages, and a
    first touch is a page fault — dear under a hypervisor. Served from the
    heap and kept there, the same pages serve block after block: half of the
    page faults of a first sync of 100,000 rows go. Workers forked later
    inherit the setting. Peak memory did not grow (measured from 100,000 to
    1,000,000 rows): it is reuse, not more.
    """
    if sys.platform != "linux":
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)  # glibc's upper limit on 64-bit
        libc.mallopt(_M_TRIM_THRESHOLD, 256 << 20)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


def worker_died() -> WorkerError:
    """The error of a run whose worker process ended without a word (E170, exit 1)."""
    return WorkerError(
        f"a worker process stopped unexpectedly (killed, or out of memory?); what was "
        f"committed stays, and the next run goes on from there — with ${ENV_WORKERS}=0 "
        "it runs in one process"
    )


def die_with_parent(parent: int, niceness: int) -> None:
    """In a worker: killed when ``parent`` ends, deaf to Ctrl-C (the parent stops the run),
    at ``niceness``, collecting young objects seldom."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # pragma: no cover - not Linux after all
        pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    # Ctrl-C reaches the whole process group: the parent stops the run, not each worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if niceness:
        os.nice(niceness)
    fewer_collections()


@contextmanager
def pool(workers: int, *, behind_writer: bool = False) -> Iterator[ProcessPoolExecutor]:
    """Forked workers that see this process's state as it is now.

    ``behind_writer``: the workers feed this process's writes, the pipeline's
    narrow stage — they run at a lower priority, so the writer gets a core
    whenever it can use one and they take what is left (they need only keep
    ahead of it).
    """
    # What this process holds now is the workers' shared input: out of the collector's
    # reach (its walk would write to every object's header and copy every page).
    gc.freeze()
    ex = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=die_with_parent,
        initargs=(os.getpid(), WORKER_NICENESS if behind_writer else 0),
    )
    try:
        yield ex
    except BrokenProcessPool:
        raise worker_died() from None
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


class InOrder(Generic[T, R]):
    """``fn(item)`` for each item, run by the workers, yielded in the order of ``items``.

    The first ``window`` items are handed out at once (the workers start
    while the caller does something else); after that one more each time a
    result is taken, so results never pile up in memory when the consumer
    (the writer) is slower than the workers.
    """

    def __init__(
        self, ex: ProcessPoolExecutor, fn: Callable[[T], R], items: Iterable[T], *, window: int
    ) -> None:
        self._ex, self._fn, self._items = ex, fn, iter(items)
        self._pending: deque[Future[R]] = deque()
        for item in itertools.islice(self._items, window):
            self._pending.append(ex.submit(fn, item))

    def __iter__(self) -> Iterator[R]:
        while self._pending:
            result = self._pending.popleft().result()
            for item in itertools.islice(self._items, 1):
                self._pending.append(self._ex.submit(self._fn, item))
            yield result
