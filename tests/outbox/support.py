"""Helpers shared by the outbox and referral tests (loaded by their conftest files)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_pg: Any = None


def _pg_module() -> Any:
    import sys

    return sys.modules["interop_tests_conftest_pg"]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema (dropped afterwards); skipped only where unreachable outside CI."""
    pg = _pg_module()
    problem = pg.pg_unavailable()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    schema = f"interop_test_{uuid.uuid4().hex[:12]}"
    conn = pg._admin_connect()
    try:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        yield pg._schema_url(schema)
    finally:
        conn.execute("SET lock_timeout = '20s'")
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'archive.sqlite3'}"


RID = "urn:oid:2.16.156.10011.1.3"
TEST_SYSTEM = "urn:test:delivery"


def transaction(ref: str, patient_id: str = "36010220150101002X") -> bytes:
    """A referral-shaped transaction Bundle whose resend never duplicates (ifNoneExist)."""
    import json

    p, s, t = (f"urn:uuid:{uuid.uuid4()}" for _ in range(3))
    ident = {"system": TEST_SYSTEM, "value": ref}
    cond = f"identifier={TEST_SYSTEM}|{ref}"
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": p,
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": RID, "value": patient_id}],
                },
                "request": {
                    "method": "POST",
                    "url": "Patient",
                    "ifNoneExist": f"identifier={RID}|{patient_id}",
                },
            },
            {
                "fullUrl": s,
                "resource": {
                    "resourceType": "ServiceRequest",
                    "identifier": [ident],
                    "status": "active",
                    "intent": "order",
                    "subject": {"reference": p},
                },
                "request": {"method": "POST", "url": "ServiceRequest", "ifNoneExist": cond},
            },
            {
                "fullUrl": t,
                "resource": {
                    "resourceType": "Task",
                    "identifier": [ident],
                    "status": "requested",
                    "intent": "order",
                    "focus": {"reference": s},
                    "for": {"reference": p},
                    "requester": {"reference": "Organization/ours"},
                },
                "request": {"method": "POST", "url": "Task", "ifNoneExist": cond},
            },
        ],
    }
    return json.dumps(bundle).encode()
