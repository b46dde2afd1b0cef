"""``--full`` never delists by accident; runs killed or interrupted are marked and shown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from child_lists import FIXTURE, RECEIVED, good_row, init_archive, run_cli, write_csv

from interop.store import Archive


def _full(db: str, path: Path, *extra: str) -> tuple[int, Any]:
    return run_cli(
        "--db", db, "sync", str(path), "--received", RECEIVED, "--json", "--full", *extra
    )


def _statuses(db: str) -> dict[str, int]:
    with Archive.open(db) as a, a.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT status, count(*) FROM children GROUP BY status")
        return {s: int(n) for s, n in rows}


@pytest.fixture
def twenty(tmp_path: Path) -> str:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    path = write_csv(tmp_path / "all.csv", [good_row(i) for i in range(1, 21)])
    rc, rep = _full(db, path)
    assert rc == 0 and rep["new"] == 20
    return db


def test_full_list_that_would_delist_too_many_stops_before_writing(
    twenty: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    part = write_csv(
        tmp_path / "part.csv", [good_row(i, 监护人电话="13900000000") for i in range(1, 16)]
    )
    capsys.readouterr()
    rc, out = _full(twenty, part)
    err = capsys.readouterr().err
    assert rc == 1 and not out
    assert "[E187]" in err and "would delist 5 of the 20 listed children (25%)" in err
    assert "--allow-delist 5" in err
    assert _statuses(twenty) == {"listed": 20}  # nothing changed, not even the phones
    rc, runs = run_cli("--db", twenty, "sync", "--status", "--json")
    assert runs["runs"][0]["status"] == "refused" and runs["runs"][0]["changed"] == 0

    rc, rep = _full(twenty, part, "--allow-delist", "5")
    assert rc == 0 and (rep["delisted"], rep["changed"]) == (5, 15)
    assert _statuses(twenty) == {"listed": 15, "delisted": 5}
    with Archive.open(twenty) as a, a.engine.connect() as conn:
        runs = {r for (r,) in conn.exec_driver_sql(
            "SELECT changed_run FROM children WHERE status = 'delisted'"
        )}  # fmt: skip
    assert runs == {rep["run_id"]}  # delisting is recorded with its run


def test_a_share_and_the_default_limit(twenty: str, tmp_path: Path) -> None:
    nineteen = write_csv(tmp_path / "n.csv", [good_row(i) for i in range(1, 20)])
    rc, rep = _full(twenty, nineteen)  # 1 of 20 (5 %): within the default 10 %
    assert rc == 0 and rep["delisted"] == 1
    ten = write_csv(tmp_path / "t.csv", [good_row(i) for i in range(1, 11)])
    assert _full(twenty, ten, "--allow-delist", "40%")[0] == 1
    rc, rep = _full(twenty, ten, "--allow-delist", "50%")
    assert rc == 0 and rep["delisted"] == 9


def test_a_full_list_whose_rows_fail_their_checks_delists_nobody(
    twenty: str, tmp_path: Path
) -> None:
    # a quarantined row still names its child: it is kept, not delisted
    bad = write_csv(tmp_path / "bad.csv", [good_row(i, 风险等级="极高") for i in range(1, 21)])
    rc, rep = _full(twenty, bad)
    assert rc == 0 and (rep["quarantined"], rep["delisted"]) == (20, 0)
    # rows without their key do not: the guard stops the run
    nokey = write_csv(tmp_path / "nokey.csv", [good_row(i, 身份证号="") for i in range(1, 21)])
    assert _full(twenty, nokey)[0] == 1
    assert _statuses(twenty) == {"listed": 20}


def test_allow_delist_must_be_a_number_or_share(
    twenty: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "l.csv", [good_row(1)])
    assert _full(twenty, path, "--allow-delist", "many")[0] == 2
    assert "[E188]" in capsys.readouterr().err


FAULT_ENTRY = Path(__file__).resolve().parents[1] / "fault_entry.py"


def _subprocess_sync(db: str, signal_name: str | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, INTEROP_SYNC_BATCH_SIZE="40", INTEROP_SYNC_WORKERS="0")
    init_archive(db)
    spec = "sync.batch-written:2" + (f"@{signal_name}" if signal_name else "")
    cmd = [sys.executable, str(FAULT_ENTRY), spec, "--", "--db", db, "sync", str(FIXTURE)]
    cmd += ["--received", RECEIVED, "--progress-every", "0"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_a_killed_run_is_marked_interrupted_by_the_next(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    killed = _subprocess_sync(db, None)
    assert killed.returncode == -signal.SIGKILL
    # quarantine lines are printed as they are found, not at the end
    assert "row 11: error [resident-id]" in killed.stderr, killed.stderr
    assert run_cli("--db", db, "sync", "--status", "--json")[1]["runs"][0]["status"] == "running"
    rc, rep = run_cli("--db", db, "sync", str(FIXTURE), "--received", RECEIVED, "--json")
    assert rc == 0
    rc, out = run_cli("--db", db, "sync", "--status", "--json")
    runs = out["runs"]
    assert [r["status"] for r in runs] == ["completed", "interrupted"]
    assert "ended before the run finished" in runs[1]["message"]
    rc, text = run_cli("--db", db, "sync", "--status")
    assert "interrupted" in text and rep["run_id"] in text


def test_ctrl_c_exits_130_with_the_partial_run_recorded(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    interrupted = _subprocess_sync(db, "INT")
    assert interrupted.returncode == 130, interrupted.stderr
    assert "Traceback" not in interrupted.stderr
    assert "interop: interrupted" in interrupted.stderr
    # off a terminal: progress lines (rows, quarantined so far, rate)
    assert "sync: 40 of " in interrupted.stderr and "quarantined so far" in interrupted.stderr
    _, out = run_cli("--db", db, "sync", "--status", "--json")
    [run] = out["runs"]
    assert run["status"] == "interrupted" and run["new"] + run["quarantined"] == 80
    with Archive.open(db) as a:
        assert len(a.snapshot()["children"]) == run["new"]  # the two batches, whole
    assert json.dumps(run)  # (plain JSON)


def test_delisting_is_recorded_with_who_and_which_run_and_can_be_undone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A full list's delistings belong to its run, and the run to the person of
    INTEROP_TOKEN (or "unattended", as a scheduled job runs); named again, a delisted
    child is listed again, in a run of its own (T-01, R-7.1.1-01)."""
    from staff_support import register_people, tokens

    db = init_archive(f"sqlite:///{tmp_path / 'a.db'}")
    with Archive.open(db) as a:
        register_people(a)
        token = tokens(a, "staff-03")["staff-03"]
    monkeypatch.delenv("INTEROP_TOKEN", raising=False)
    everyone = write_csv(tmp_path / "all.csv", [good_row(i) for i in range(1, 21)])
    fewer = write_csv(tmp_path / "part.csv", [good_row(i) for i in range(1, 16)])
    rc, first = _full(db, everyone)
    assert rc == 0 and first["actor"] == "unattended"

    monkeypatch.setenv("INTEROP_TOKEN", token)
    rc, cut = _full(db, fewer, "--allow-delist", "5")
    assert rc == 0 and cut["delisted"] == 5 and cut["actor"] == "staff-03"
    with Archive.open(db) as a, a.engine.connect() as conn:
        gone = conn.exec_driver_sql(
            "SELECT c.changed_run, r.actor FROM children c JOIN sync_runs r"
            " ON r.run_id = c.changed_run WHERE c.status = 'delisted'"
        ).all()
    assert [tuple(g) for g in gone] == [(cut["run_id"], "staff-03")] * 5
    rc, out = run_cli("--db", db, "sync", "--status")
    shown = out.splitlines()
    assert rc == 0 and cut["run_id"] in shown[0] and shown[0].endswith("by staff-03")
    assert shown[1].endswith("by unattended")

    monkeypatch.delenv("INTEROP_TOKEN")
    rc, back = _full(db, everyone)
    assert rc == 0 and back["changed"] == 5 and back["delisted"] == 0
    assert all(fields == ["status"] for fields in back["changes"].values())
    assert _statuses(db) == {"listed": 20}

    monkeypatch.setenv("INTEROP_TOKEN", "not-a-token")
    rc, out = _full(db, everyone)
    assert rc != 0 and not out and "[E813]" in capsys.readouterr().err
    rc, runs = run_cli("--db", db, "sync", "--status", "--json")
    assert len(runs["runs"]) == 3  # (the refused person started no run)
