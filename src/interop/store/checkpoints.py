"""Write-ahead-log checkpoints in a thread of their own while a long sync writes.

An SQLite archive runs in WAL mode: a commit appends pages to the log, and
a *checkpoint* copies them into the archive file and waits for the disk
(``fsync``). Left to itself, SQLite checkpoints in the committing thread
once the log is long (``wal_autocheckpoint``): the writer then stands idle
while the disk catches up, about a tenth of a first sync of a large list.

:class:`Checkpoints` moves that wait off the writer: after each commit the
writer nudges a thread, which checkpoints on a connection of its own in
``PASSIVE`` mode — it copies what is committed and never blocks the writer
or makes it wait. SQLite releases the GIL while it works, so the writer
goes on with the next batch meanwhile. The log then stays short, and the
writer's own checkpoint (still armed) fires only if the thread falls behind.

Nothing about what a commit means changes: a commit is in the log, the log
is the archive's (a killed process loses nothing committed); a checkpoint
only moves pages from the log into the file, and SQLite makes it safe to
interrupt at any point.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = ["Checkpoints"]


class Checkpoints:
    """A thread that checkpoints the WAL of the SQLite file at ``path`` when nudged.

    The thread starts at the first :meth:`nudge` — after the writer's worker
    processes are forked, never before (a fork while it is inside SQLite could
    copy a held lock into the child). :meth:`close` lets the thread answer the
    last nudge, then stops it.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._wake = threading.Event()
        self._pending = False
        self._stop = False
        self._thread: threading.Thread | None = None
        self.done = 0  # checkpoints run (for tests)

    def nudge(self) -> None:
        """A commit happened: checkpoint what is in the log (soon, in the thread)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="interop-wal-checkpoints", daemon=True
            )
            self._thread.start()
        self._pending = True
        self._wake.set()

    def close(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop = True
        self._wake.set()
        thread.join()

    def __enter__(self) -> Checkpoints:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        try:
            # the writer's file, never a new one (mode=rw: an odd path opens nothing)
            uri = self._path.resolve().as_uri() + "?mode=rw"
            con = sqlite3.connect(uri, uri=True, timeout=10, check_same_thread=False)
        except (sqlite3.Error, ValueError) as exc:  # the writer's own checkpoints still work
            log.debug("no background checkpoints: %s", exc)
            return
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._pending:
                    self._pending = False
                    try:
                        con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                        self.done += 1
                    except sqlite3.Error as exc:  # busy or gone: the next nudge tries again
                        log.debug("background checkpoint skipped: %s", exc)
                if self._stop and not self._pending:  # (a nudge during the last: once more)
                    return
        finally:
            con.close()
