"""WAL checkpoints in a thread of their own while a long sync writes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from interop.store import Archive
from interop.store.archive import Batch
from interop.store.checkpoints import Checkpoints


def _writer(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA wal_autocheckpoint=0")  # only the thread copies the log into the file
    con.execute("CREATE TABLE t (body TEXT)")
    return con


def _commits(con: sqlite3.Connection, n: int, after: Checkpoints | None = None) -> None:
    for _ in range(n):
        con.execute("BEGIN")
        con.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,)] * 200)
        con.execute("COMMIT")
        if after is not None:
            after.nudge()


def test_nudged_checkpoints_copy_commits_into_the_file_while_the_writer_goes_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.db"
    con = _writer(path)
    before = path.stat().st_size
    with Checkpoints(path) as checkpoints:
        _commits(con, 5, after=checkpoints)
    assert checkpoints.done >= 1
    # what the thread checkpointed is in the file itself, the writer still open
    assert path.stat().st_size > before + 500_000
    assert con.execute("SELECT count(*) FROM t").fetchone() == (1000,)
    con.close()


def test_without_nudges_the_file_waits_for_the_log(tmp_path: Path) -> None:
    """The control: the same writes, no thread — the file stays as it was."""
    path = tmp_path / "a.db"
    con = _writer(path)
    before = path.stat().st_size
    _commits(con, 5)
    assert path.stat().st_size == before
    con.close()


def test_a_checkpoint_thread_never_started_closes_at_once(tmp_path: Path) -> None:
    checkpoints = Checkpoints(tmp_path / "none.db")
    checkpoints.close()
    assert checkpoints.done == 0


def test_an_archive_on_postgresql_or_in_memory_has_no_thread(db_url: str) -> None:
    with Archive.create(db_url) as archive, archive.checkpoints_behind():
        assert (archive._checkpoints is not None) == db_url.startswith("sqlite")
    with Archive.create("sqlite://") as archive, archive.checkpoints_behind():
        assert archive._checkpoints is None


def test_a_sync_s_batches_are_checkpointed_behind_the_writer(tmp_path: Path) -> None:
    archive = Archive.create(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        run = archive.begin_run("test", "civil-affairs-default", partner=None, full=False)
        with archive.checkpoints_behind():
            checkpoints = archive._checkpoints
            assert checkpoints is not None
            for _ in range(3):
                archive.apply_batch(run, Batch(rows=1), case_prefix="ORG")
        assert archive._checkpoints is None
        assert checkpoints.done >= 1
    finally:
        archive.close()


def test_a_path_that_is_no_archive_file_gets_no_new_file(tmp_path: Path) -> None:
    odd = tmp_path / "file:odd.db?mode=ro"
    checkpoints = Checkpoints(odd)
    checkpoints.nudge()
    checkpoints.close()
    assert list(tmp_path.iterdir()) == []
    assert checkpoints.done == 0
