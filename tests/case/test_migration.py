"""Archive schema 6: an archive of schema 5 gets the case tables, its cases' care
managers taken from their latest records (so the caseload limit counts them). Schema 9:
an archive of schema 8 gets the warnings table (no open warnings from before)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from case_support import Cli

from interop.store import Archive
from interop.store import schema as t
from interop.store.casework import CaseWork


def test_schema_5_archive_is_migrated_with_caseloads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite here; on PostgreSQL the step runs in the store tests' migration from 3.
    db_url = f"sqlite:///{tmp_path / 'v5.sqlite3'}"
    cli = Cli(db_url, capsys, monkeypatch)
    assert cli("import", "fixtures/cases/01-medium-in-service.json")[0] == 0
    with Archive.open(db_url) as a, a.engine.begin() as conn:  # as schema 5 left it
        conn.execute(sa.text("DROP TABLE case_steps"))
        conn.execute(sa.text("DROP TABLE case_work"))
        conn.execute(t.meta.update().where(t.meta.c.key == "schema_version").values(value="5"))
    with Archive.open(db_url) as a:
        work = CaseWork(a)
        assert work.open_cases("staff-01") == {"JX0101-2025-00001"}
        assert work.steps("JX0101-2025-00001") == []
        version = (
            a.engine.connect()
            .execute(sa.select(t.meta.c.value).where(t.meta.c.key == "schema_version"))
            .scalar()
        )
    assert version == str(t.SCHEMA_VERSION)
    show = cli.json("case", "show", "JX0101-2025-00001")
    assert show["state"] == "in-service"


def test_schema_8_archive_gets_the_warnings_table(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(db_url, capsys, monkeypatch)
    assert cli("import", "fixtures/cases/01-medium-in-service.json")[0] == 0
    with Archive.open(db_url) as a, a.engine.begin() as conn:  # as schema 8 left it
        conn.execute(sa.text("DROP TABLE case_warnings"))
        conn.execute(t.meta.update().where(t.meta.c.key == "schema_version").values(value="8"))
    show = cli.json("case", "show", "JX0101-2025-00001")
    assert show["warnings"] == [] and show["state"] == "in-service"
    with Archive.open(db_url) as a:
        assert sa.inspect(a.engine).has_table("case_warnings")
