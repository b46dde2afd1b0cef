"""A large CSV list synced by worker processes ends as a one-process sync does.

Each list is synced twice — with workers (``INTEROP_SYNC_WORKERS=2``,
``INTEROP_SYNC_PARALLEL_MIN=0``) and without (``INTEROP_SYNC_WORKERS=0``) —
into two archives, and the two must agree: the archive (:meth:`Archive.snapshot`),
the quarantine, the run's record and the report. The parts of a file are
made small here (``FileSource.parts`` with a small ``part_bytes``) so that a
list of a few thousand rows is read as many parts, by both workers.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gen_child_list
import pytest
import sqlalchemy as sa
from child_lists import FIXTURE, HEADER, RECEIVED, good_row, init_archive, run_cli, write_csv

from interop._errors import (
    CaseRecordError,
    DataFileError,
    InputError,
    InteropError,
    PluginError,
    ResidentIdError,
    RuleViolation,
)
from interop.inbound import run
from interop.inbound.prepare import PART_BYTES
from interop.inbound.source import FileSource
from interop.resources import mappings_dir
from interop.store import Archive
from interop.store.schema import sync_runs

WORKERS = {"INTEROP_SYNC_WORKERS": "2", "INTEROP_SYNC_PARALLEL_MIN": "0"}
NO_WORKERS = {"INTEROP_SYNC_WORKERS": "0"}
_ENV = ("INTEROP_SYNC_WORKERS", "INTEROP_SYNC_PARALLEL_MIN", "INTEROP_SYNC_BATCH_SIZE")


class Spy:
    """Counts the syncs whose classifying pass used workers, and sets the parts' size."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.parallel = 0
        self.part_bytes = PART_BYTES
        real_parts, real_in_order = FileSource.parts, run.in_order

        def parts(source: FileSource, part_bytes: int) -> Any:
            return real_parts(source, self.part_bytes)

        def in_order(fn: Any, items: Any, workers: int, **kw: Any) -> Any:
            if workers and len(items) > 1 and fn.__name__ == "first":  # (classifying)
                self.parallel += 1
            return real_in_order(fn, items, workers, **kw)

        monkeypatch.setattr(FileSource, "parts", parts)
        monkeypatch.setattr(run, "in_order", in_order)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    return Spy(monkeypatch)


def sync(
    db: str,
    path: Path,
    *extra: str,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    batch: int | None = None,
) -> dict[str, Any]:
    with monkeypatch.context() as m:
        for name in _ENV:
            m.delenv(name, raising=False)
        for name, value in env.items():
            m.setenv(name, value)
        if batch is not None:
            m.setenv("INTEROP_SYNC_BATCH_SIZE", str(batch))
        code, report = run_cli(
            "--db", db, "sync", str(path), "--received", RECEIVED, "--json", *extra
        )
    assert code == 0, report
    assert isinstance(report, dict)
    return report


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """The report without its run id: counts, changes and the issues (sorted)."""
    keys = ("status", "rows", "new", "changed", "unchanged", "quarantined", "delisted", "changes")
    out = {k: report[k] for k in keys}
    out["issues"] = sorted(
        (i["row"], i["field"], i["code"], i["message"], i["severity"]) for i in report["issues"]
    )
    return out


def archived(db: str, run_id: str) -> tuple[dict[str, list[tuple[Any, ...]]], list[Any], Any]:
    """The archive's content, the run's quarantined rows, and the run's record."""
    with Archive.open(db) as a:
        snapshot = a.snapshot()
        quarantined = [
            (q["row"], q["field"], q["code"], q["message"], json.loads(q["raw"]))
            for q in a.quarantined(run_id)
        ]
        c = sync_runs.c
        with a.engine.connect() as conn:
            run = conn.execute(
                sa.select(
                    c.status, c.full_list, c.rows, c.new, c.changed, c.unchanged, c.delisted,
                    c.quarantined, c.message,
                ).where(c.run_id == run_id)
            ).one()  # fmt: skip
    return snapshot, quarantined, tuple(run)


class Pair:
    """Two archives fed the same lists: one synced with workers, one without."""

    def __init__(
        self,
        spy: Spy,
        monkeypatch: pytest.MonkeyPatch,
        parallel_db: str,
        serial_db: str,
        *,
        workers: dict[str, str] = WORKERS,
    ) -> None:
        self.spy, self.monkeypatch, self.workers = spy, monkeypatch, workers
        self.parallel_db, self.serial_db = parallel_db, serial_db

    def sync(self, path: Path, *extra: str, batch: int | None = None) -> dict[str, Any]:
        """Both syncs of ``path``; checks they agree and that only the first used workers."""
        before = self.spy.parallel
        serial = sync(
            self.serial_db, path, *extra, env=NO_WORKERS, monkeypatch=self.monkeypatch, batch=batch
        )
        assert self.spy.parallel == before
        report = sync(
            self.parallel_db,
            path,
            *extra,
            env=self.workers,
            monkeypatch=self.monkeypatch,
            batch=batch,
        )
        # (a list of one part is read in this process: workers would only wait)
        expected = before + (self.spy.part_bytes < path.stat().st_size)
        assert self.spy.parallel == expected, "the run with workers took the parallel path"
        assert summary(report) == summary(serial)
        assert archived(self.parallel_db, report["run_id"]) == archived(
            self.serial_db, serial["run_id"]
        )
        return report


def _pair(spy: Spy, monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> Pair:
    return Pair(spy, monkeypatch, db_url, f"sqlite:///{tmp_path / 'serial.sqlite3'}")


# -- the same result with and without workers ------------------------------------


def test_fixture_with_and_without_workers(
    db_url: str, tmp_path: Path, spy: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = _pair(spy, monkeypatch, db_url, tmp_path)
    spy.part_bytes = 5000  # about 20 rows a part
    first = pair.sync(FIXTURE)
    assert first["rows"] == 300 and first["new"] > 200 and first["quarantined"] > 0
    assert first["new"] + first["quarantined"] == 300
    again = pair.sync(FIXTURE, batch=7)  # nothing to do: no second pass
    assert again["unchanged"] == first["new"] and again["new"] == again["changed"] == 0
    spy.part_bytes = PART_BYTES  # one part
    assert pair.sync(FIXTURE, "--full", "--allow-delist", "100%")["delisted"] == 0


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_generated_list_resync_and_full_list(
    db_url: str, tmp_path: Path, spy: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = _pair(spy, monkeypatch, db_url, tmp_path)
    original, changed = tmp_path / "list.csv", tmp_path / "list-changed.csv"
    gen_child_list.write(original, 3000, bad=0.05, seed=11, change=0.0, encoding="utf-8-sig")
    gen_child_list.write(changed, 3000, bad=0.05, seed=11, change=0.05, encoding="utf-8-sig")

    # 1. all new, in parts of ~850 rows
    spy.part_bytes = 200_000
    first = pair.sync(original, batch=97)
    assert first["rows"] == 3000 and first["new"] > 2700 and first["quarantined"] >= 150
    codes = {i["code"] for i in first["issues"]}
    assert {"duplicate", "short-row", "resident-id", "outside-province"} <= codes

    # 2. a changed variant, in parts of ~40 rows
    spy.part_bytes = 10_000
    second = pair.sync(changed, batch=97)
    assert second["changed"] > 50 and second["new"] == 0
    assert second["unchanged"] > 2500

    # 3. the whole list, less every 9th row: delisted; three known children named twice
    #    (once more unchanged, with a change, unchanged), far apart
    lines = _lines(changed)
    kept = [line for i, line in enumerate(lines) if i == 0 or i % 9]
    before = _lines(original)
    moved = next(  # a good row the variant changed, still in the list
        i for i in range(100, 3000) if i % 9 and i % 20 and (i + 1) % 20 and lines[i] != before[i]
    )
    again = [lines[7], before[moved], lines[203]]  # appended after the last row
    shorter = tmp_path / "list-shorter.csv"
    shorter.write_bytes(b"".join(kept + again))
    third = pair.sync(shorter, "--full", "--allow-delist", "100%", batch=41)
    assert third["delisted"] > 250
    dups = {i["row"] for i in third["issues"] if i["code"] == "duplicate"}
    assert {len(kept) + 1, len(kept) + 2, len(kept) + 3} <= dups
    assert {kept.index(lines[7]) + 1, kept.index(lines[moved]) + 1} <= dups

    # 4. a small part of the list (under a quarter of the archive)
    small = tmp_path / "list-small.csv"
    small.write_bytes(b"".join(lines[:1] + lines[1:600:2] + _lines(original)[2:600:2]))
    fourth = pair.sync(small, "--full", "--allow-delist", "100%", batch=97)
    assert fourth["delisted"] > 2000 and fourth["changed"] > 0
    assert fourth["unchanged"] > 0 and fourth["quarantined"] > 0


def test_generated_gb18030_list_with_crlf(
    tmp_path: Path, spy: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = Pair(
        spy, monkeypatch, f"sqlite:///{tmp_path / 'p.sqlite3'}", f"sqlite:///{tmp_path / 's.db'}"
    )
    path = tmp_path / "list.csv"
    gen_child_list.write(path, 1500, bad=0.08, seed=5, change=0.0, encoding="gb18030")
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n") + b"\r\n\r\n")
    spy.part_bytes = 7_000
    report = pair.sync(path, batch=61)
    assert report["new"] > 1300 and report["quarantined"] > 100
    again = pair.sync(path, "--encoding", "gbk", batch=61)  # named, as a user may
    assert again["unchanged"] == report["new"]


def test_one_worker_and_the_mapping_s_delimiter(
    tmp_path: Path, spy: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = json.loads((mappings_dir() / "inbound" / "civil-affairs-default.json").read_text())
    data["schema"] = str(mappings_dir() / "inbound" / "schemas" / "child-list-entry.schema.json")
    data["csv"] = {"delimiter": ";"}
    mapping = tmp_path / "semicolon.json"
    mapping.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    rows = list(gen_child_list.rows(800, bad=0.05, seed=13))
    assert not any(";" in cell for row in rows for cell in row)
    path = tmp_path / "list.csv"
    path.write_text("\n".join(";".join(r) for r in [gen_child_list.HEADER, *rows]), "utf-8")
    pair = Pair(
        spy,
        monkeypatch,
        f"sqlite:///{tmp_path / 'p.sqlite3'}",
        f"sqlite:///{tmp_path / 's.db'}",
        workers={"INTEROP_SYNC_WORKERS": "1", "INTEROP_SYNC_PARALLEL_MIN": "0"},
    )
    spy.part_bytes = 9_000
    report = pair.sync(path, "--mapping", str(mapping), batch=50)
    assert report["new"] > 700 and report["quarantined"] > 30
    # only the rows made short are short: the cells were split at ";"
    assert not any(i["code"] == "short-row" and (i["row"] - 1) % 20 for i in report["issues"])


EDGE_FILES: dict[str, Callable[[Path], None]] = {}


def _edge(name: str) -> Callable[[Callable[[Path], None]], Callable[[Path], None]]:
    def register(fn: Callable[[Path], None]) -> Callable[[Path], None]:
        EDGE_FILES[name] = fn
        return fn

    return register


@_edge("short rows, long rows, blank lines and an extra column")
def _mixed(path: Path) -> None:
    write_csv(path, [good_row(i) for i in range(1, 40)], header=[*HEADER, "额外列"])
    lines = _lines(path)
    lines[5] = "5,测试5,\r\n".encode()  # short
    lines[7] = lines[7].replace(good_row(7)["身份证号"].encode(), b"")  # no key
    lines[9] = lines[9].rstrip(b"\r\n") + b",x,y\r\n"  # long
    lines[12:12] = [b"\r\n", b",,,\r\n"]
    path.write_bytes(b"".join(lines) + b"\r\n\r\n")


@_edge("no trailing newline")
def _no_newline(path: Path) -> None:
    write_csv(path, [good_row(i) for i in range(1, 30)])
    path.write_bytes(path.read_bytes().rstrip(b"\r\n"))


@_edge("duplicates far apart")
def _dups(path: Path) -> None:
    rows = [good_row(i) for i in range(1, 60)]
    rows += [dict(rows[3], 姓名="重复"), dict(rows[40]), dict(rows[3])]
    write_csv(path, rows)


# (A file with a column named twice, or without the mapping's required columns, is
# refused before either path reads it: tests/sync/test_sync_understand.py.)


@_edge("only short rows, with an extra column")
def _only_short(path: Path) -> None:
    path.write_text(",".join([*HEADER, "额外列"]) + "\n1,测试1,男\n2,测试2,女\n", "utf-8")


@_edge("a blank line before the header")
def _blank_first(path: Path) -> None:
    write_csv(path, [good_row(i) for i in range(1, 4)])
    path.write_bytes(b"\r\n" + path.read_bytes())


@pytest.mark.parametrize("name", list(EDGE_FILES))
def test_edge_files_with_and_without_workers(
    tmp_path: Path, spy: Spy, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    path = tmp_path / "list.csv"
    EDGE_FILES[name](path)
    spy.part_bytes = 300
    pair = Pair(
        spy, monkeypatch, f"sqlite:///{tmp_path / 'p.sqlite3'}", f"sqlite:///{tmp_path / 's.db'}"
    )
    pair.sync(path, batch=5)
    pair.sync(path, "--full", "--allow-delist", "100%", batch=5)


# -- a file the parts reader cannot take ----------------------------------------------


def test_a_file_with_quotes_falls_back_to_one_process(
    db_url: str, tmp_path: Path, spy: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [good_row(i) for i in range(1, 120)]
    rows[10]["常住地址"] = "江西省南昌市东湖区某路1号,2栋"  # written quoted
    rows[20]["备注"] = '说明:"见附件"'
    rows[30]["备注"] = "第一行\n第二行"  # a record over two lines: row numbers by record
    rows[40]["身份证号"] = ""
    rows.append(dict(rows[50]))
    path = write_csv(tmp_path / "list.csv", rows)
    spy.part_bytes = 100
    serial_db = f"sqlite:///{tmp_path / 'serial.sqlite3'}"
    serial = sync(serial_db, path, env=NO_WORKERS, monkeypatch=monkeypatch, batch=9)
    report = sync(db_url, path, env=WORKERS, monkeypatch=monkeypatch, batch=9)
    assert spy.parallel == 0
    assert summary(report) == summary(serial)
    assert archived(db_url, report["run_id"]) == archived(serial_db, serial["run_id"])
    rows_of = {i["row"]: i["code"] for i in report["issues"]}
    assert rows_of[42] == "missing-field" and rows_of[52] == rows_of[121] == "duplicate"


# -- a bad byte far into the file ----------------------------------------------------


def test_an_invalid_utf8_byte_far_into_the_file(
    tmp_path: Path, spy: Spy, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "list.csv"
    gen_child_list.write(path, 5000, bad=0.0, seed=3, change=0.0, encoding="utf-8")
    lines = _lines(path)
    bad_row = 4900  # row N is line N
    lines[bad_row - 1] = lines[bad_row - 1].replace(b",", b",\xff", 1)
    path.write_bytes(b"".join(lines))
    assert sum(map(len, lines[: bad_row - 1])) > 1 << 20  # beyond what detection reads
    assert FileSource(path).encoding == "utf-8"

    db = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    with monkeypatch.context() as m:
        for name, value in WORKERS.items():
            m.setenv(name, value)
        code, _ = run_cli("--db", db, "sync", str(path), "--received", RECEIVED, "--json")
    err = capsys.readouterr().err
    assert spy.parallel == 1
    assert code == 2, err
    assert err.startswith("interop: [E131] list.csv: row 4900 is not valid utf-8 text"), err
    assert "Traceback" not in err
    with Archive.open(db) as a:
        assert a.snapshot()["children"] == []
        with a.engine.connect() as conn:
            runs = conn.execute(sa.select(sync_runs.c.status, sync_runs.c.message)).all()
    assert [tuple(r) for r in runs] == [("failed", "InputError")]

    with monkeypatch.context() as m:  # the one-process reader stops on it too
        m.setenv("INTEROP_SYNC_WORKERS", "0")
        code, _ = run_cli("--db", db, "sync", str(path), "--received", RECEIVED)
    assert code == 2 and "interop: [E131]" in capsys.readouterr().err


# -- a run killed midway ---------------------------------------------------------------


def _session(sid: int) -> list[int]:
    """Processes of session ``sid`` still alive (zombies waiting to be reaped are not)."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # state ppid pgrp session …
        if int(fields[3]) == sid and fields[0] != "Z":
            alive.append(int(entry))
    return alive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")
def test_parallel_run_killed_midway_then_rerun(
    db_url: str, tmp_path: Path, spy: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = f"sqlite:///{tmp_path / 'reference.sqlite3'}"
    sync(
        reference,
        FIXTURE,
        "--full",
        "--allow-delist",
        "100%",
        env=NO_WORKERS,
        monkeypatch=monkeypatch,
        batch=40,
    )

    env = dict(os.environ, **WORKERS, INTEROP_SYNC_BATCH_SIZE="40", INTEROP_SYNC_PART_BYTES="5000")
    init_archive(db_url)
    entry = Path(__file__).resolve().parents[1] / "fault_entry.py"  # killed after 2 batches
    cmd = [sys.executable, str(entry), "sync.batch-written:2", "--", "--db", db_url, "sync"]
    cmd += [str(FIXTURE)]
    cmd += ["--received", RECEIVED, "--json", "--full", "--allow-delist", "100%"]
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    most = 0  # processes seen at once in its session: the run and its workers
    try:
        limit = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < limit:
            most = max(most, len(_session(proc.pid)))
            time.sleep(0.002)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:  # pragma: no cover - only when the run hangs
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL, err
    assert "fault point sync.batch-written reached (2)" in err
    assert most > 1, "the killed run had worker processes"
    left = _session(proc.pid)
    deadline = time.monotonic() + 5
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = _session(proc.pid)
    assert left == [], f"processes of the killed run still alive: {left}"
    with pytest.raises(ProcessLookupError):  # (its group is gone once they are reaped)
        for _ in range(100):
            os.killpg(proc.pid, 0)
            time.sleep(0.05)

    with Archive.open(db_url) as a:
        assert 0 < len(a.snapshot()["children"]) < 200  # some batches were committed …
        with a.engine.connect() as conn:
            statuses = [r[0] for r in conn.execute(sa.select(sync_runs.c.status))]
    assert statuses == ["running"]  # … and the run is visibly unfinished

    spy.part_bytes = 4000
    done = sync(
        db_url,
        FIXTURE,
        "--full",
        "--allow-delist",
        "100%",
        env=WORKERS,
        monkeypatch=monkeypatch,
        batch=40,
    )
    assert spy.parallel == 1 and done["status"] == "completed"
    with Archive.open(db_url) as a, Archive.open(reference) as r:
        assert a.snapshot() == r.snapshot()


# -- errors raised in a worker reach the writer whole -----------------------------------


def _errors() -> Iterator[InteropError]:
    yield InputError("m", code="E131")
    yield InputError("plain")
    yield DataFileError("f", "e", "p")
    yield DataFileError("mappings/x.json", "fields.name (line 3)", "bad", code="E201")
    yield CaseRecordError("record", code="E111")
    yield ResidentIdError("id")
    yield RuleViolation("rule", code="E301")
    yield PluginError("plugin")


@pytest.mark.parametrize("err", list(_errors()), ids=lambda e: f"{type(e).__name__}-{e.code}")
def test_errors_survive_pickling(err: InteropError) -> None:
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert (back.code, back.message, str(back), back.args) == (
        err.code,
        err.message,
        str(err),
        err.args,
    )
    assert back.exit_code == err.exit_code
    if isinstance(err, DataFileError):
        assert isinstance(back, DataFileError)
        assert (back.file, back.entry, back.problem) == (err.file, err.entry, err.problem)


def test_input_error_pickled_keeps_its_code() -> None:
    back = pickle.loads(pickle.dumps(InputError("m", code="E131")))
    assert back.code == "E131" and back.message == "m" and str(back) == "[E131] m"
    data = pickle.loads(pickle.dumps(DataFileError("f", "e", "p")))
    assert (data.file, data.entry, data.problem) == ("f", "e", "p")
    assert data.code == "E200" and str(data) == "[E200] f: e: p"


def test_an_error_in_a_worker_reaches_the_caller_with_its_code() -> None:
    with pytest.raises(DataFileError) as caught:
        list(run.in_order(_raise, ["E207", "E208"], 2))
    assert caught.value.code == "E207" and caught.value.entry == "entry"


def _raise(code: str) -> None:
    raise DataFileError("file", "entry", "problem", code=code)


# -- a worker that dies ----------------------------------------------------------------


def _die(*args: Any, **kw: Any) -> None:
    os._exit(3)  # as the kernel's out-of-memory killer would end it: no exception, no goodbye


def test_a_worker_that_dies_ends_the_run_plainly(
    tmp_path: Path, spy: Spy, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A dead worker is a run that could not complete (exit 1, E170), not a traceback;
    what was committed stays and the next run goes on from there."""
    spy.part_bytes = 20_000  # (parts for the workers)
    path = tmp_path / "list.csv"
    gen_child_list.write(path, 3000, bad=0.0, seed=5, change=0.0, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    with monkeypatch.context() as m:
        for name, value in WORKERS.items():
            m.setenv(name, value)
        m.setattr(run, "classify", _die)  # (only the forked workers classify parts)
        code, _ = run_cli("--db", db, "sync", str(path), "--received", RECEIVED, "--json")
    err = capsys.readouterr().err
    assert spy.parallel == 1
    assert code == 1, err
    assert err.startswith("interop: [E170] a worker process stopped unexpectedly"), err
    assert "Traceback" not in err
    with Archive.open(db) as a, a.engine.connect() as conn:
        runs = conn.execute(sa.select(sync_runs.c.status, sync_runs.c.message)).all()
    assert [tuple(r) for r in runs] == [("failed", "WorkerError")]

    with monkeypatch.context() as m:
        for name, value in WORKERS.items():
            m.setenv(name, value)
        code, report = run_cli("--db", db, "sync", str(path), "--received", RECEIVED, "--json")
    assert code == 0 and report["new"] + report["quarantined"] == 3000


# -- what the workers read ahead of a changed child -------------------------------------
