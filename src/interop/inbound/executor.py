"""Where the parts of a list are read: in this process, or in forked worker processes.

Mapping a row is pure Python and holds the GIL, so threads would not help;
forked processes do. :func:`in_order` is the one place that chooses: with
no workers it is ``map``; with workers each one is forked with the function
and everything it closes over as this process holds it (nothing is pickled
on the way in), takes every n-th part, and sends each result back through
its own pipe; the results are taken in the order of the parts, so batches,
transactions and case numbers are the same either way. This process stays
the only writer of the archive.

A worker dies with its parent (``PR_SET_PDEATHSIG``: a run killed midway
leaves no orphan) and ignores Ctrl-C (the parent stops the run). It runs at
the writer's priority: a worker is at most one part ahead (its pipe holds
one result), and on a loaded machine a lower priority starved it.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TypeVar

from interop._errors import WorkerError as WorkerError

T = TypeVar("T")
R = TypeVar("R")

#: Below this many rows, forking costs more than it saves.
MIN_ROWS = 20_000
#: At most this many workers (the target machine has two cores).
MAX_WORKERS = 2
_PR_SET_PDEATHSIG = 1


def worker_count(rows: int, wanted: int | None, min_rows: int | None) -> int:
    """Workers for a list of ``rows`` rows (0: this process does the work); ``wanted`` and
    ``min_rows`` come from the settings (``INTEROP_SYNC_WORKERS``, ``…_PARALLEL_MIN``)."""
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    if wanted is None:
        cores = len(os.sched_getaffinity(0))
        wanted = min(MAX_WORKERS, cores) if cores > 1 else 0
    return wanted if rows >= (MIN_ROWS if min_rows is None else min_rows) else 0


def worker_died() -> WorkerError:
    """The error of a run whose worker process ended without a word (E170, exit 1)."""
    return WorkerError(
        "a worker process stopped unexpectedly (killed, or out of memory?); what was "
        "committed stays, and the next run goes on from there — with "
        "$INTEROP_SYNC_WORKERS=0 it runs in one process"
    )


@dataclass(slots=True)
class _Failed:
    """What a worker sends instead of a result when its part failed."""

    error: BaseException


def in_order(fn: Callable[[T], R], items: Sequence[T], workers: int) -> Iterator[R]:
    """``fn(item)`` of each item, in order: by ``workers`` forked processes, or here (0)."""
    if workers < 1 or len(items) < 2:
        yield from map(fn, items)
        return
    workers = min(workers, len(items))
    context = multiprocessing.get_context("fork")
    pipes = [context.Pipe(duplex=False) for _ in range(workers)]
    gc.freeze()  # (what the workers share: out of the collector's walk, which would copy it)
    procs = []
    for k in range(workers):
        procs.append(
            context.Process(
                target=_serve,
                args=(fn, items[k::workers], pipes, k, os.getpid()),
                daemon=True,
            )
        )
        procs[-1].start()
    gc.unfreeze()
    for _, sender in pipes:
        sender.close()
    try:
        for i in range(len(items)):
            try:
                message = pipes[i % workers][0].recv()
            except (EOFError, OSError):
                raise worker_died() from None
            if isinstance(message, _Failed):
                raise message.error
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

        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
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
