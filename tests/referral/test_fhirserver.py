"""The test FHIR server itself: conditional create, validation, search and the fault controls."""

from __future__ import annotations

import time
import urllib.error
import uuid
from typing import Any

import pytest

RID = "urn:oid:2.16.156.10011.1.3"


def _tx(ref: str, patient_id: str) -> dict[str, Any]:
    p, s, t = (f"urn:uuid:{uuid.uuid4()}" for _ in range(3))
    ident = {"system": "urn:test:referral", "value": ref}
    return {
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
                "request": {
                    "method": "POST",
                    "url": "ServiceRequest",
                    "ifNoneExist": f"identifier=urn:test:referral|{ref}",
                },
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
                "request": {
                    "method": "POST",
                    "url": "Task",
                    "ifNoneExist": f"identifier=urn:test:referral|{ref}",
                },
            },
        ],
    }


def test_transaction_with_conditional_create_is_idempotent(fhir: Any) -> None:
    for _ in range(3):
        status, body = fhir.request("POST", "", _tx("R-1", "36010220150101002X"))
        assert status == 200, body
        assert body["type"] == "transaction-response"
    assert len(fhir.search(f"Patient?identifier={RID}|36010220150101002X")) == 1
    assert len(fhir.search("ServiceRequest?identifier=urn:test:referral|R-1")) == 1
    tasks = fhir.search("Task?identifier=urn:test:referral|R-1")
    assert len(tasks) == 1
    sr = fhir.search("ServiceRequest?identifier=urn:test:referral|R-1")[0]
    assert tasks[0]["focus"]["reference"] == f"ServiceRequest/{sr['id']}"


def test_invalid_resource_is_refused_with_an_operation_outcome(fhir: Any) -> None:
    status, body = fhir.request("POST", "Task", {"resourceType": "Task", "unknown": 1})
    assert status == 400
    assert body["resourceType"] == "OperationOutcome"


def test_search_by_id_and_by_requester_since(fhir: Any) -> None:
    fhir.request("POST", "", _tx("R-2", "360102201501010029"))
    task = fhir.search("Task?identifier=urn:test:referral|R-2")[0]
    assert [t["id"] for t in fhir.search(f"Task?_id={task['id']}")] == [task["id"]]
    since = task["meta"]["lastUpdated"]
    assert fhir.search(f"Task?requester=Organization/ours&_lastUpdated=gt{since}") == []
    time.sleep(0.01)
    fhir.put({**task, "status": "accepted"})
    found = fhir.search(f"Task?requester=Organization/ours&_lastUpdated=gt{since}")
    assert [t["status"] for t in found] == ["accepted"]


def test_fault_controls(fhir: Any) -> None:
    fhir.fail_next(1, 500)
    assert fhir.request("GET", "Task")[0] == 500
    fhir.fail_next(1, 400, "Task.owner: required")
    status, body = fhir.request("GET", "Task")
    assert status == 400
    assert body["issue"][0]["details"]["text"] == "Task.owner: required"
    assert fhir.request("GET", "Task")[0] == 200
    fhir.delay_next(300)
    t0 = time.monotonic()
    fhir.request("GET", "Task")
    assert time.monotonic() - t0 >= 0.25
    fhir.down_for(800)
    time.sleep(0.2)
    with pytest.raises((urllib.error.URLError, OSError)):
        fhir.request("GET", "Task")
    fhir.wait_up()
    assert fhir.request("GET", "Task")[0] == 200
