"""The test FHIR server itself: conditional create, validation, search and the fault controls."""

from __future__ import annotations

import json
import time
import urllib.error
from typing import Any

import pytest

from exchange_support import RID, transaction


def _tx(ref: str, patient_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(transaction(ref, patient_id, system="urn:test:referral"))
    return data


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
