"""Archive databases for tests: a SQLite file, and a fresh PostgreSQL schema per test.

PostgreSQL is taken from ``$INTEROP_TEST_PG`` (default the local server,
database ``test``, user ``postgres``, trust auth). When it cannot be reached
the PostgreSQL cases are skipped with the reason — except under ``CI``,
where they fail. Each test gets its own schema, dropped afterwards: no state
is left behind.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_URL = os.environ.get("INTEROP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")

_pg_problem: list[str] = []


def _admin_connect() -> object:
    import psycopg

    return psycopg.connect(PG_URL, autocommit=True, connect_timeout=5)


def pg_unavailable() -> str | None:
    """Why PostgreSQL cannot be used, or None (checked once per session)."""
    if not _pg_problem:
        try:
            conn = _admin_connect()
            conn.close()  # type: ignore[attr-defined]
            _pg_problem.append("")
        except Exception as exc:  # any failure to connect means: not available
            _pg_problem.append(f"PostgreSQL at {PG_URL} unreachable: {type(exc).__name__}: {exc}")
    return _pg_problem[0] or None


def _schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def fresh_schema() -> Iterator[str]:
    """A URL of a new, empty PostgreSQL schema, dropped afterwards.

    Skips where PostgreSQL is unreachable — except under ``CI``, where it fails.
    """
    problem = pg_unavailable()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    schema = f"interop_test_{uuid.uuid4().hex[:12]}"
    conn = _admin_connect()
    try:
        conn.execute(f'CREATE SCHEMA "{schema}"')  # type: ignore[attr-defined]
        yield _schema_url(schema)
    finally:
        conn.execute("SET lock_timeout = '20s'")  # type: ignore[attr-defined]
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')  # type: ignore[attr-defined]
        conn.close()  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty archive location: SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.sqlite3'}"
        return
    yield from fresh_schema()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema only (for tests of several workers on one archive)."""
    yield from fresh_schema()
