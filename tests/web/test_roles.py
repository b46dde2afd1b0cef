"""Roles on every route: each person of the register against each page and API call —
allowed (200), refused (403), not signed in (redirect or 401) — deny by default; CSRF on
every form; security headers and cookie flags."""

from __future__ import annotations

import time

import pytest
import requests
from web_support import PEOPLE, SCHOOL_CASE, csrf_of, sign_in, token_for

from interop.staff.accounts import Accounts
from interop.store import Archive

ALL = set(PEOPLE)
CARE = {"staff-01", "staff-02", "outsider", "staff-03", "lead-01"}
LEADS = {"staff-03", "lead-01"}

#: page → who may open it (everyone else: 403).
PAGES = {
    "/due": CARE,
    "/approvals": LEADS,
    "/preview": CARE,
    "/referrals": CARE,
    "/sync": {"staff-03", "lead-01", "adm-01"},
    "/outbox": {"staff-03", "lead-01", "adm-01"},
    "/audit": {"staff-03", "lead-01", "view-01", "adm-01"},
    "/staff": {"lead-01", "adm-01"},
    "/jobs": {"lead-01", "adm-01"},
    "/account": ALL,
}

#: API call → who may make it.
API = {
    "/api/me": ALL,
    "/api/due": CARE,
    "/api/disclosures": LEADS,
    "/api/referrals": CARE,
    "/api/outbox": {"staff-03", "lead-01", "adm-01"},
    "/api/audit": {"staff-03", "lead-01", "view-01", "adm-01"},
    "/api/staff": {"lead-01", "adm-01"},
    "/api/jobs": {"lead-01", "adm-01"},
}

#: Every form target (POST): refused without the session's CSRF token.
FORMS = [
    "/signout",
    "/approvals/D-0/approve",
    "/approvals/D-0/reject",
    "/outbox/X/retry",
    "/outbox/partners/school-mingde",
    "/staff/add",
    "/staff/staff-02/deactivate",
    "/staff/tokens/T-0/revoke",
    "/account/password",
    "/account/tokens",
    "/account/tokens/T-0/revoke",
]


@pytest.mark.parametrize("person", sorted(PEOPLE))
def test_pages_per_role(base: str, person: str) -> None:
    s = sign_in(base, person)
    got = {path: s.get(f"{base}{path}", allow_redirects=False).status_code for path in PAGES}
    expected = {path: 200 if person in who else 403 for path, who in PAGES.items()}
    assert got == expected


def test_pages_need_a_session(base: str) -> None:
    for path in PAGES:
        r = requests.get(f"{base}{path}", allow_redirects=False)
        assert (r.status_code, r.headers.get("location")) == (303, "/signin"), path


def test_api_per_role_with_bearer_tokens(base: str, web_archive: Archive) -> None:
    for person in sorted(PEOPLE):
        auth = {"Authorization": f"Bearer {token_for(web_archive, person)}"}
        got = {p: requests.get(f"{base}{p}", headers=auth).status_code for p in API}
        assert got == {p: 200 if person in who else 403 for p, who in API.items()}, person
    me = requests.get(f"{base}/api/me", headers=auth).json()
    assert me == {"staff_id": person, "roles": PEOPLE[person]}


def test_api_without_or_with_a_bad_token_is_401(base: str, web_archive: Archive) -> None:
    for headers in ({}, {"Authorization": "Bearer itk_nope"}, {"Authorization": "Basic x"}):
        r = requests.get(f"{base}/api/me", headers=headers)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert r.json()["error"]["code"] == "E813"
    # A session cookie is no credential for the API (no CSRF exposure there).
    s = sign_in(base, "staff-03")
    assert s.get(f"{base}/api/me").status_code == 401


def test_expired_and_revoked_tokens_are_refused(base: str, web_archive: Archive) -> None:
    yesterday = Accounts(web_archive, clock=lambda: time.time() - 2 * 86400)
    expired, _row = yesterday.issue_token("staff-03", days=1)
    r = requests.get(f"{base}/api/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "E814"
    accounts = Accounts(web_archive)
    secret, row = accounts.issue_token("staff-03")
    auth = {"Authorization": f"Bearer {secret}"}
    assert requests.get(f"{base}/api/me", headers=auth).status_code == 200
    accounts.revoke_token(row["id"])
    assert requests.get(f"{base}/api/me", headers=auth).status_code == 401
    # Only the hash of a token is stored.
    stored = accounts.store.tokens("staff-03")
    assert all(secret not in str(t) for t in stored)


def test_deactivated_person_loses_session_and_tokens(base: str, web_archive: Archive) -> None:
    token = token_for(web_archive, "staff-02")
    s = sign_in(base, "staff-02")
    admin = sign_in(base, "adm-01")
    r = admin.post(
        f"{base}/staff/staff-02/deactivate",
        data={"csrf": csrf_of(admin, base)},
        allow_redirects=False,
    )
    assert r.status_code == 303
    assert s.get(f"{base}/due", allow_redirects=False).status_code == 303
    assert (
        requests.get(f"{base}/api/me", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )


def test_every_form_needs_the_csrf_token(base: str) -> None:
    s = sign_in(base, "adm-01")
    for path in FORMS:
        r = s.post(f"{base}{path}", data={"csrf": "forged"}, allow_redirects=False)
        assert r.status_code == 403, path
        r = s.post(f"{base}{path}", data={}, allow_redirects=False)
        assert r.status_code == 403, path
    assert s.get(f"{base}/account").status_code == 200  # still signed in: nothing happened


def test_sign_in_form_needs_its_own_token(base: str) -> None:
    r = requests.post(
        f"{base}/signin",
        data={"staff_id": "staff-03", "password": "correct-horse-battery", "presign": "x"},
        allow_redirects=False,
    )
    assert r.status_code == 403


def test_lockout_after_repeated_failures(base: str) -> None:
    s = requests.Session()
    codes = []
    for _ in range(6):
        page = s.get(f"{base}/signin").text
        token = page.split('name="presign" value="')[1].split('"')[0]
        r = s.post(
            f"{base}/signin",
            data={"staff_id": "staff-02", "password": "wrong-password-x", "presign": token},
            allow_redirects=False,
        )
        codes.append(r.status_code)
        if "锁定" in r.text:
            break
    assert codes == [401] * 5 and "锁定" in r.text
    # Locked: even the right password is refused now; another person is not affected.
    page = s.get(f"{base}/signin").text
    token = page.split('name="presign" value="')[1].split('"')[0]
    r = s.post(
        f"{base}/signin",
        data={"staff_id": "staff-02", "password": "correct-horse-battery", "presign": token},
        allow_redirects=False,
    )
    assert r.status_code == 401 and "锁定" in r.text
    sign_in(base, "staff-01")


def test_security_headers_and_cookie_flags(base: str) -> None:
    r = requests.get(f"{base}/signin")
    csp = r.headers["content-security-policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp and r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "<script" not in r.text and "http://" not in r.text.replace(base, "")
    s = requests.Session()
    page = s.get(f"{base}/signin").text
    token = page.split('name="presign" value="')[1].split('"')[0]
    r = s.post(
        f"{base}/signin",
        data={"staff_id": "staff-03", "password": "correct-horse-battery", "presign": token},
        allow_redirects=False,
    )
    cookie = r.headers["set-cookie"]
    assert "interop_session=" in cookie and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie and "Secure" not in cookie
    assert requests.get(f"{base}/healthz").json() == {"status": "ok"}


def test_a_worker_sees_only_their_own_cases(base: str, web_archive: Archive) -> None:
    assert sign_in(base, "staff-01").get(f"{base}/preview?case={SCHOOL_CASE}").status_code == 200
    r = sign_in(base, "outsider").get(f"{base}/preview?case={SCHOOL_CASE}")
    assert r.status_code == 403
