"""转介 from the console: a care role creates a referral for one of their cases (routine:
waits for a supervisor; crisis: break-glass, at once) through the code of ``interop
referral create``; the crisis one is a break-glass review due on 审批, which a supervisor
records there. Roles by the policy table (deny by default), CSRF on the form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from web_support import (
    PASSWORD,
    REFERRAL_CASE,
    REFERRAL_HOSPITAL,
    csrf_of,
    hospital_console,
    serving,
    sign_in,
)

from interop.engine import Engine
from interop.store import Archive
from interop.web.context import Console


@pytest.fixture
def hconsole(web_archive: Archive, tmp_path: Path, engine: Engine) -> Iterator[Console]:
    console = hospital_console(web_archive, tmp_path, engine)
    yield console
    console.close()


def _form(csrf: str, urgency: str, **over: str) -> dict[str, str]:
    form = {"csrf": csrf, "case": REFERRAL_CASE, "partner": REFERRAL_HOSPITAL, "urgency": urgency,
            "trigger": "RT-02", "crisis_type": "life-self", "mode": "concurrent",
            "reason": "需要精神科评估"}  # fmt: skip
    form.update(over)
    return form


def test_roles_on_the_referral_routes(hconsole: Console) -> None:
    with serving(hconsole) as base:
        anon = requests.Session()
        r = anon.get(f"{base}/referrals", allow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/signin"
        assert anon.post(f"{base}/referrals/create", data=_form("x", "routine")).status_code == 401
        for who, status in (("staff-01", 200), ("staff-03", 200), ("lead-01", 200),
                            ("adm-01", 403), ("view-01", 403)):  # fmt: skip
            s = sign_in(base, who)
            page = s.get(f"{base}/referrals")
            assert page.status_code == status, who
            if status == 200:
                assert 'action="/referrals/create"' in page.text and REFERRAL_HOSPITAL in page.text
        # An administrator's valid form is still refused (deny by default), nothing made.
        adm = sign_in(base, "adm-01")
        r = adm.post(f"{base}/referrals/create", data=_form(csrf_of(adm, base), "crisis"))
        assert r.status_code == 403
        # A worker not on the case may not refer it.
        out = sign_in(base, "outsider")
        r = out.post(f"{base}/referrals/create", data=_form(csrf_of(out, base), "crisis"))
        assert r.status_code == 403 and "E822" in r.text
        # A form without the session's CSRF token is refused before anything is done.
        w = sign_in(base, "staff-01")
        r = w.post(f"{base}/referrals/create", data=_form("forged", "crisis"))
        assert r.status_code == 403 and "E823" in r.text
        # Incomplete or not a hospital: plain 400s.
        token = csrf_of(w, base)
        r = w.post(f"{base}/referrals/create", data=_form(token, "crisis", reason=" "))
        assert r.status_code == 400 and "E852" in r.text and "Traceback" not in r.text
        r = w.post(
            f"{base}/referrals/create", data=_form(token, "routine", partner="school-mingde")
        )
        assert r.status_code == 400 and "E853" in r.text
    assert hconsole.referrals.find() == []


def test_routine_waits_and_crisis_is_break_glass_reviewed_on_approvals(hconsole: Console) -> None:
    with serving(hconsole) as base:
        w = sign_in(base, "staff-01")
        token = csrf_of(w, base)
        routine = w.post(f"{base}/referrals/create", data=_form(token, "routine"),
                         allow_redirects=False)  # fmt: skip
        assert routine.status_code == 303
        assert routine.headers["location"].endswith("?done=under-review")
        crisis = w.post(f"{base}/referrals/create", data=_form(token, "crisis"),
                        allow_redirects=False)  # fmt: skip
        assert crisis.status_code == 303
        ref_id = crisis.headers["location"].split("/referrals/")[1].split("?")[0]
        ref = hconsole.referrals.get(ref_id)
        assert ref.requester == "staff-01" and ref.break_glass and ref.trigger == "RT-01"
        assert ref.state != "under-review"  # left at once (the outbox has it)
        d = hconsole.discloser.get(ref.disclosure_id)
        assert d.break_glass and d.requester == "staff-01" and d.review_outcome is None
        page = w.get(f"{base}/referrals/{ref_id}").text
        assert "紧急调阅" in page and "需要精神科评估" not in page  # the reason is not shown

        # The supervisor finds the review due on 审批 and records it.
        sup = sign_in(base, "staff-03")
        approvals = sup.get(f"{base}/approvals").text
        assert ref.disclosure_id in approvals.split("待完成的紧急调阅事后审核")[1]
        review = sup.get(f"{base}/approvals/{ref.disclosure_id}").text
        assert 'class="approve"' in review
        r = sup.post(f"{base}/approvals/{ref.disclosure_id}/approve",
                     data={"csrf": csrf_of(sup, base)}, allow_redirects=False)  # fmt: skip
        assert r.status_code == 303
        assert hconsole.discloser.get(ref.disclosure_id).review_outcome == "justified"
        assert ref.disclosure_id not in sup.get(f"{base}/approvals").text
        # The routine one waits for a supervisor's approval (not the requester: G-16).
        routine_ref = next(r for r in hconsole.referrals.find() if r.id != ref_id)
        assert hconsole.discloser.get(routine_ref.disclosure_id).status == "pending"
        # One referral's page: its case's staff and the overseers, nobody else.
        for who, status in (("staff-01", 200), ("lead-01", 200), ("outsider", 403),
                            ("adm-01", 403), ("view-01", 403)):  # fmt: skip
            assert sign_in(base, who).get(f"{base}/referrals/{ref_id}").status_code == status
        r = requests.get(f"{base}/referrals/{ref_id}", allow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/signin"
    assert PASSWORD not in page
