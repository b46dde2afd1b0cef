"""Fixtures of the referral tests: the real FHIR test server (session) and archives."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest


def _load(name: str, path: Path) -> ModuleType:
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


TESTS = Path(__file__).parents[1]
harness = _load("interop_tests_fhirserver", TESTS / "fhirserver" / "harness.py")
_pg = _load("interop_tests_conftest_pg", TESTS / "conftest_pg.py")
_support = _load("interop_tests_exchange_support", TESTS / "outbox" / "support.py")

db_url = _pg.db_url
pg_url = _support.pg_url


@pytest.fixture(scope="session")
def fhir_server_session() -> Iterator[object]:
    """Medplum's FHIR router on 127.0.0.1 (tests/fhirserver/server.mjs), one per session."""
    yield from harness.serve()


@pytest.fixture
def fhir(fhir_server_session: object) -> Iterator[object]:
    """The server, emptied of resources, faults and counters for this test."""
    fhir_server_session.reset()  # type: ignore[attr-defined]
    yield fhir_server_session
    fhir_server_session.wait_up()  # type: ignore[attr-defined]
    fhir_server_session.reset()  # type: ignore[attr-defined]
