"""Only ``interop init`` creates an archive; every other command refuses a location
without one (saying how to create it) and creates nothing — on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import sqlite3
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import sqlalchemy as sa
from child_lists import FIXTURE, RECEIVED

from interop.cli import main


def _main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(list(argv))
    return code, buf.getvalue(), capsys.readouterr().err


@pytest.mark.parametrize(
    "command",
    [
        ["cases", "due"],
        ["sync", "--status"],
        ["sync", str(FIXTURE), "--received", RECEIVED],
        ["audit", "verify"],
    ],
)
def test_commands_refuse_a_missing_sqlite_archive(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = _main(capsys, "--db", "nonsense", *command)
    assert code == 1, (out, err)
    assert "[E520]" in err and "interop init --db" in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == [], "nothing created"


def test_init_creates_once_and_then_commands_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = _main(capsys, "--db", "sub/archive.db", "init")
    assert code == 0 and "archive ready at" in out
    assert (tmp_path / "sub" / "archive.db").is_file()
    args = ["--db", "sub/archive.db", "sync", str(FIXTURE), "--received", RECEIVED]
    assert _main(capsys, *args)[0] == 0
    assert _main(capsys, "--db", "sub/archive.db", "init")[0] == 0  # idempotent: kept
    code, out, _ = _main(capsys, "--db", "sub/archive.db", "cases", "due", "--json")
    assert code == 0 and out.count('"case"') > 100


def test_postgresql_without_the_schema_is_refused_and_left_empty(
    pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from interop.store.location import resolve_url

    code, _, err = _main(capsys, "--db", pg_url, "cases", "due")
    assert code == 1 and "[E521]" in err and "interop init" in err
    engine = sa.create_engine(resolve_url(pg_url))
    try:
        with engine.connect() as conn:
            assert sa.inspect(conn).get_table_names() == []  # read-only: no tables made
    finally:
        engine.dispose()
    assert _main(capsys, "--db", pg_url, "init")[0] == 0
    assert _main(capsys, "--db", pg_url, "cases", "due")[0] == 0


# -- a sync's first pass reads a SQLite archive's digests itself: never past the archive's checks


def _sync_json(capsys: pytest.CaptureFixture[str], db: str) -> tuple[int, str, str]:
    return _main(capsys, "--db", db, "sync", str(FIXTURE), "--received", RECEIVED, "--json")


def _schema_version(db: Path, value: str | None = None) -> str:
    with sqlite3.connect(db) as con:
        if value is not None:
            con.execute("UPDATE interop_meta SET value = ? WHERE key = 'schema_version'", (value,))
        row = con.execute("SELECT value FROM interop_meta WHERE key = 'schema_version'")
        return str(row.fetchone()[0])


def test_a_sync_into_an_older_archive_migrates_it_and_knows_its_children(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "a.db"
    assert _main(capsys, "--db", str(db), "init")[0] == 0
    code, out, _ = _sync_json(capsys, str(db))
    assert code == 0 and json.loads(out)["new"] > 100
    current = _schema_version(db)
    _schema_version(db, str(int(current) - 1))  # as the previous release left it
    code, out, err = _sync_json(capsys, str(db))
    report = json.loads(out)
    assert code == 0, err
    assert report["new"] == report["changed"] == 0 and report["unchanged"] > 100
    assert _schema_version(db) == current


def test_a_sync_into_a_newer_archive_is_refused_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "a.db"
    assert _main(capsys, "--db", str(db), "init")[0] == 0
    _schema_version(db, "999")
    code, _, err = _sync_json(capsys, str(db))
    assert code == 1 and "[E505]" in err and "Traceback" not in err
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM children").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM sync_runs").fetchone() == (0,)


def test_a_sync_into_a_database_of_another_program_is_refused_and_leaves_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE notes (text TEXT)")
    code, _, err = _sync_json(capsys, str(db))
    assert code == 1 and "[E521]" in err and "interop init" in err
    with sqlite3.connect(db) as con:
        tables = con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert tables == [("notes",)]


def test_an_archive_changed_as_the_sync_begins_is_refused_not_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first pass reads the children where it runs, a moment after the archive was
    found to be of this version: one changed in between is refused (E502), not read."""
    from interop._errors import StoreError
    from interop.store.peek import early_archive, read_listed

    db = tmp_path / "a.db"
    assert _main(capsys, "--db", str(db), "init")[0] == 0
    assert _sync_json(capsys, str(db))[0] == 0
    found = early_archive(str(db))
    assert found is not None and len(read_listed(found).by_key) > 100
    _schema_version(db, "999")
    with pytest.raises(StoreError) as refused:
        read_listed(found)
    assert refused.value.code == "E502" and early_archive(str(db)) is None
