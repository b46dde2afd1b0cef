"""Helpers shared by the outbox and referral tests (tests/ is on the pytest path)."""

from __future__ import annotations

import uuid
from pathlib import Path


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'archive.sqlite3'}"


RID = "urn:oid:2.16.156.10011.1.3"
TEST_SYSTEM = "urn:test:delivery"


def transaction(
    ref: str, patient_id: str = "36010220150101002X", system: str = TEST_SYSTEM
) -> bytes:
    """A referral-shaped transaction Bundle whose resend never duplicates (ifNoneExist)."""
    import json

    p, s, t = (f"urn:uuid:{uuid.uuid4()}" for _ in range(3))
    ident = {"system": system, "value": ref}
    cond = f"identifier={system}|{ref}"
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
