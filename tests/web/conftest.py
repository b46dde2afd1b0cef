"""Fixtures of the console tests: a SQLite archive with the staff register and the school
case, a Console over it, and the server running on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web_support import NOW, school_case, serving, write_config

from interop.engine import Engine
from interop.store import Archive
from interop.web.context import Console
from staff_support import register_people


@pytest.fixture
def web_archive(tmp_path: Path, engine: Engine) -> Iterator[Archive]:
    with Archive.create(f"sqlite:///{tmp_path / 'archive.sqlite3'}") as archive:
        register_people(archive, NOW.date())
        school_case(archive, engine)
        yield archive


@pytest.fixture
def console(web_archive: Archive, tmp_path: Path, engine: Engine) -> Iterator[Console]:
    c = Console(web_archive, write_config(tmp_path), now=lambda: NOW)
    c._engine = engine  # the session's engine: loaded once for all tests
    yield c
    c.close()


@pytest.fixture
def base(console: Console) -> Iterator[str]:
    with serving(console) as url:
        yield url
