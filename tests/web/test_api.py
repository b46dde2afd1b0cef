"""The JSON API with personal API tokens: the same decisions as the console — a supervisor
of the register approves (the receipt comes back), the requester is refused (G-16), a
rejection needs a reason, unusable bodies are refused in plain words."""

from __future__ import annotations

import requests
from web_support import SCHOOL_CASE, token_for

from interop.store import Archive
from interop.web.context import Console


def _pending(console: Console, requester: str) -> str:
    return console.discloser.request(
        SCHOOL_CASE, purpose="school-support", partner="school-mingde", requester=requester
    ).id


def test_approve_and_reject_over_the_api(console: Console, base: str, web_archive: Archive) -> None:
    sup = {"Authorization": f"Bearer {token_for(web_archive, 'staff-03')}"}
    worker = {"Authorization": f"Bearer {token_for(web_archive, 'staff-01')}"}
    did = _pending(console, "staff-01")
    listed = requests.get(f"{base}/api/disclosures?status=pending", headers=sup).json()
    assert [d["id"] for d in listed] == [did]
    shown = requests.get(f"{base}/api/disclosures/{did}", headers=sup).json()
    assert shown["bundle"]["resourceType"] == "Bundle" and shown["status"] == "pending"
    assert requests.post(f"{base}/api/disclosures/{did}/approve", headers=worker).status_code == 403
    r = requests.post(f"{base}/api/disclosures/{did}/approve", headers=sup, json={})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "approved" and body["approver"] == "staff-03"
    assert body["receipt"]["location"].endswith(f"{did}.json")
    # Decided already: a conflict, in plain words.
    r = requests.post(f"{base}/api/disclosures/{did}/approve", headers=sup)
    assert r.status_code == 409 and r.json()["error"]["code"] == "E607"

    own = _pending(console, "staff-03")
    r = requests.post(f"{base}/api/disclosures/{own}/approve", headers=sup)
    assert r.status_code == 409 and "G-16" in r.json()["error"]["message"]
    r = requests.post(f"{base}/api/disclosures/{own}/reject", headers=sup, json={"reason": ""})
    assert r.status_code == 400 and r.json()["error"]["code"] == "E608"
    r = requests.post(f"{base}/api/disclosures/{own}/reject", headers=sup, data=b"[1]")
    assert r.status_code == 400 and r.json()["error"]["code"] == "E830"
    lead = {"Authorization": f"Bearer {token_for(web_archive, 'lead-01')}"}
    r = requests.post(f"{base}/api/disclosures/{own}/reject", headers=lead,
                      json={"reason": "not needed now"})  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert requests.get(f"{base}/api/disclosures/D-nope", headers=sup).status_code == 404


def test_an_unknown_outbox_delivery_is_not_found(base: str, web_archive: Archive) -> None:
    # E641 names a delivery that is not there: 404, as an unknown disclosure (E604) is.
    lead = {"Authorization": f"Bearer {token_for(web_archive, 'lead-01')}"}
    r = requests.post(f"{base}/api/outbox/O-nope/retry", headers=lead)
    assert r.status_code == 404 and r.json()["error"]["code"] == "E641", r.text
    assert "O-nope" in r.json()["error"]["message"]
