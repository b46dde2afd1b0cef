"""Four-eyes with signed-in people (G-16, 9.3): a supervisor of the staff register reviews
what a worker asked to disclose — the Bundle as it would leave — and approves it; nobody
approves their own request; the AuditEvent names the signed-in person."""

from __future__ import annotations

import json

import requests
from web_support import SCHOOL_CASE, csrf_of, sign_in

from interop.privacy import audit
from interop.web.context import Console


def _pending(console: Console, requester: str) -> str:
    d = console.discloser.request(
        SCHOOL_CASE, purpose="school-support", partner="school-mingde", requester=requester
    )
    assert d.status == "pending", d.reasons
    return d.id


def test_supervisor_reviews_and_approves_a_workers_request(console: Console, base: str) -> None:
    did = _pending(console, "staff-01")
    s = sign_in(base, "staff-03")
    listing = s.get(f"{base}/approvals")
    assert listing.status_code == 200 and did in listing.text
    review = s.get(f"{base}/approvals/{did}")
    assert review.status_code == 200
    # The Bundle rendered readably (not raw JSON): resource cards and security labels.
    assert 'class="resource' in review.text and "Patient" in review.text
    assert "批准并发送" in review.text  # zh-CN first
    # Without the form's CSRF token nothing happens.
    r = s.post(f"{base}/approvals/{did}/approve", data={}, allow_redirects=False)
    assert r.status_code == 403
    assert console.discloser.get(did).status == "pending"
    r = s.post(
        f"{base}/approvals/{did}/approve", data={"csrf": csrf_of(s, base)}, allow_redirects=False
    )
    assert r.status_code == 303, r.text
    d = console.discloser.get(did)
    assert d.status == "approved" and d.approver == "staff-03" and d.delivered_at
    with console.archive.engine.connect() as conn:
        rows = audit.rows(conn, case_number=SCHOOL_CASE)
    approval = next(r for r in rows if r.action == "approval")
    assert approval.actor == "staff-03"
    assert "staff-03" in json.dumps(approval.event["agent"])


def test_the_requester_is_refused_even_as_a_supervisor(console: Console, base: str) -> None:
    did = _pending(console, "staff-03")
    s = sign_in(base, "staff-03")
    page = s.get(f"{base}/approvals/{did}")
    assert "另一位督导人员审核" in page.text and "/approve" not in page.text
    r = s.post(
        f"{base}/approvals/{did}/approve", data={"csrf": csrf_of(s, base)}, allow_redirects=False
    )
    assert r.status_code == 409 and "G-16" in r.text
    assert console.discloser.get(did).status == "pending"
    # Another reviewer of the register (the org lead) may.
    lead = sign_in(base, "lead-01")
    r = lead.post(
        f"{base}/approvals/{did}/approve",
        data={"csrf": csrf_of(lead, base)},
        allow_redirects=False,
    )
    assert r.status_code == 303
    assert console.discloser.get(did).approver == "lead-01"


def test_a_case_record_makes_nobody_a_supervisor(console: Console, base: str) -> None:
    """staff-02 is a worker in the register; a case record naming them supervisor changes
    nothing: the policy table refuses them the review (403) and the Discloser would too."""
    did = _pending(console, "staff-01")
    s = sign_in(base, "staff-02")
    assert s.get(f"{base}/approvals/{did}", allow_redirects=False).status_code == 403
    r = s.post(
        f"{base}/approvals/{did}/approve", data={"csrf": csrf_of(s, base)}, allow_redirects=False
    )
    assert r.status_code == 403
    assert console.discloser.get(did).status == "pending"


def test_reject_needs_a_reason_and_records_it(console: Console, base: str) -> None:
    did = _pending(console, "staff-01")
    s = sign_in(base, "staff-03")
    token = csrf_of(s, base)
    r = s.post(f"{base}/approvals/{did}/reject", data={"csrf": token, "reason": " "})
    assert r.status_code == 400
    r = s.post(
        f"{base}/approvals/{did}/reject",
        data={"csrf": token, "reason": "not needed"},
        allow_redirects=False,
    )
    assert r.status_code == 303
    assert console.discloser.get(did).status == "rejected"


def test_signed_out_pages_redirect_and_forms_are_refused(base: str) -> None:
    r = requests.get(f"{base}/approvals", allow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin"
    r = requests.post(f"{base}/approvals/D-x/approve", data={"csrf": "x"}, allow_redirects=False)
    assert r.status_code == 401
