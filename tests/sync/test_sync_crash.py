"""Crash safety: a sync killed midway, then re-run, ends as an uninterrupted run does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from child_lists import FIXTURE, RECEIVED, init_archive

from interop.store import Archive

FAULT_ENTRY = Path(__file__).resolve().parents[1] / "fault_entry.py"


def _sync(
    db: str, *, crash_after: int | None, full: bool = True
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, INTEROP_SYNC_BATCH_SIZE="40")
    cmd = [sys.executable, "-m", "interop.cli"]
    if crash_after is not None:  # the test entry point kills the run after N batches
        cmd = [sys.executable, str(FAULT_ENTRY), f"sync.batch-written:{crash_after}", "--"]
    init_archive(db)
    cmd += ["--db", db, "sync", str(FIXTURE)]
    cmd += ["--received", RECEIVED, "--json"] + (
        ["--full", "--allow-delist", "100%"] if full else []
    )
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_killed_run_then_rerun_equals_uninterrupted(db_url: str, tmp_path: Path) -> None:
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    assert _sync(reference, crash_after=None).returncode == 0

    killed = _sync(db_url, crash_after=3)
    assert killed.returncode == -signal.SIGKILL
    with Archive.open(db_url) as a:
        partial = a.snapshot()
        assert 0 < len(partial["children"]) < 200  # some batches were committed …
        with a.engine.connect() as conn:
            import sqlalchemy as sa

            from interop.store.schema import sync_runs

            statuses = [r[0] for r in conn.execute(sa.select(sync_runs.c.status))]
        assert statuses == ["running"]  # … and the run is visibly unfinished

    done = _sync(db_url, crash_after=None)
    assert done.returncode == 0, done.stderr
    with Archive.open(db_url) as a, Archive.open(reference) as r:
        assert a.snapshot() == r.snapshot()
