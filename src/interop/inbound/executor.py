"""Where the parts of a list are read: here, or in forked worker processes.

Mapping a row is pure Python and holds the GIL, so threads would not help;
forked processes do. :func:`in_order` is the one place that chooses. Each
worker is forked with the function as this process holds it (nothing is
pickled on the way in), takes every n-th part and sends each result back
through its own pipe (so it runs at most one part ahead); results are taken
in the parts' order, so batches and case numbers are the same either way, and
this process stays the archive's only writer. A worker dies with its parent
(``PR_SET_PDEATHSIG``) and ignores Ctrl-C (the parent stops the run).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from typing import TypeVar

from interop._errors import WorkerError

T = TypeVar("T")
R = TypeVar("R")

#: Below this many rows, forking costs more than it saves.
MIN_ROWS = 20_000
#: At most this many workers (the target machine has two cores).
MAX_WORKERS = 2


def worker_count(rows: int, wanted: int | None, min_rows: int | None) -> int:
    """Workers for a list of ``rows`` rows (0: none); ``wanted`` and ``min_rows`` come
    from the settings (``INTEROP_SYNC_WORKERS``, ``…_PARALLEL_MIN``)."""
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    if wanted is None:
        cores = len(os.sched_getaffinity(0))
        wanted = min(MAX_WORKERS, cores) if cores > 1 else 0
    return wanted if rows >= (MIN_ROWS if min_rows is None else min_rows) else 0


class _Failed(Exception):
    """What a worker sends instead of a result when its part failed."""


def in_order(fn: Callable[[T], R], items: Sequence[T], workers: int) -> Iterator[R]:
    """``fn(item)`` of each item, in order: by ``workers`` forked processes, or here (0)."""
    if workers < 1 or len(items) < 2:
        yield from map(fn, items)
        return
    workers = min(workers, len(items))
    context = multiprocessing.get_context("fork")
    pipes = [context.Pipe(duplex=False) for _ in range(workers)]
    gc.freeze()  # (what the workers share: out of the collector's walk, which would copy it)
    procs = [
        context.Process(
            target=_serve, args=(fn, items[k::workers], pipes, k, os.getpid()), daemon=True
        )
        for k in range(workers)
    ]
    for proc in procs:
        proc.start()
    gc.unfreeze()
    for _, sender in pipes:
        sender.close()
    try:
        for i in range(len(items)):
            try:
                message = pipes[i % workers][0].recv()
            except (EOFError, OSError):
                raise WorkerError(
                    "a worker process stopped unexpectedly (killed, or out of memory?); what "
                    "was committed stays, and the next run goes on from there — with "
                    "$INTEROP_SYNC_WORKERS=0 it runs in one process"
                ) from None
            if isinstance(message, _Failed):
                raise message.args[0]
            yield message
    finally:
        for reader, _ in pipes:
            reader.close()
        for proc in procs:
            proc.kill()
            proc.join()


def _serve(
    fn: Callable[[T], R],
    mine: Sequence[T],
    pipes: list[tuple[Connection, Connection]],
    k: int,
    parent: int,
) -> None:  # pragma: no cover - (in a forked worker; coverage does not follow forks)
    """Worker ``k``: ``fn`` of its items, each result sent in turn."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # (PR_SET_PDEATHSIG)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = pipes[k][1]
    for i, (reader, sender) in enumerate(pipes):
        reader.close()
        if i != k:
            sender.close()
    try:
        for item in mine:
            conn.send(fn(item))
    except BaseException as exc:
        try:
            conn.send(_Failed(exc))
        except Exception:
            conn.send(_Failed(RuntimeError(f"{type(exc).__name__}: {exc}")))
