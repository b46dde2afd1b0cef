"""Where the parts of a list are read: here, or in forked worker processes (the one place
that chooses). Mapping a row holds the GIL, so threads would not help.

The pool's workers are forked with the function as this process holds it (a task is
only an index); results come in the parts' order, at most one part ahead per worker,
so batches and case numbers are the same either way and this process stays the only
writer. A worker dies with its parent and ignores Ctrl-C (the parent stops the run).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from interop._errors import WorkerError

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


def in_order(fn: Callable[[T], R], items: Sequence[T], workers: int) -> Iterator[R]:
    """``fn(item)`` of each item, in order: by ``workers`` forked processes, or here (0)."""
    if workers < 1 or len(items) < 2:
        yield from map(fn, items)
        return
    workers = min(workers, len(items))
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(
        workers, context, initializer=_start, initargs=(fn, items, os.getpid())
    )
    gc.freeze()  # (what the workers share: out of the collector's walk, which would copy it)
    try:
        pending: deque[Future[R]] = deque(pool.submit(_call, i) for i in range(workers))
        gc.unfreeze()
        for i in range(len(items)):
            result = pending.popleft().result()
            if i + workers < len(items):  # (the next part starts before this one is used)
                pending.append(pool.submit(_call, i + workers))
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
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # (PR_SET_PDEATHSIG: die with the parent)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORK.append((fn, items))


def _call(i: int) -> Any:  # pragma: no cover - (in a forked worker)
    fn, items = _WORK[-1]
    return fn(items[i])
