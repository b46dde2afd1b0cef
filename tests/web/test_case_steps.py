"""The case steps in the console and the JSON API, for the signed-in person: each role on
each new route (allowed, 403, 401), CSRF on the new forms, a refused step (409 with the
rule and what to do), unusable input (422 with the field), a warned step and its sign-off
by a supervisor who is not the step's author (the author is refused), second persons
checked against the register, every step in the audit under the person's id."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import requests
from web_support import CASES, csrf_of, sign_in, token_for

from archive_support import store
from interop.engine import Engine
from interop.privacy import audit
from interop.store import Archive

CASE = "JX0101-2025-00001"  # in service; staff-01 its worker, staff-03 its supervisor


def session(**over: Any) -> dict[str, Any]:
    """An Annex C, as ``interop case session --form`` takes it, a week after the last."""
    doc = json.loads((CASES / "01-medium-in-service.json").read_text("utf-8"))
    s = copy.deepcopy(doc["sessions"][0])
    for k in ("id", "number"):
        s.pop(k)
    s.update(
        start="2025-12-31T14:30:00+08:00",
        end="2025-12-31T16:00:00+08:00",
        record_date="2025-12-31",
        staff=["staff-01"],
    )
    s.update(over)
    return s


@pytest.fixture
def in_service(web_archive: Archive, engine: Engine) -> str:
    doc = json.loads((CASES / "01-medium-in-service.json").read_text("utf-8"))
    return store(web_archive, engine, doc)


def _auth(archive: Archive, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(archive, who)}"}


@pytest.mark.parametrize(
    ("who", "view", "record", "sign"),
    [
        ("staff-01", 200, 200, 403),  # the case's worker
        ("outsider", 403, 403, 403),  # a worker not on the case
        ("staff-03", 200, 200, 422),  # a supervisor (nothing open to sign off: 422)
        ("lead-01", 200, 200, 403),  # the organisation's lead: every case; no sign-off
        ("view-01", 403, 403, 403),  # the commissioner reads no case record
        ("adm-01", 403, 403, 403),
        (None, 401, 401, 401),
    ],
)
def test_each_role_on_the_api_routes(
    base: str, web_archive: Archive, in_service: str, who: str | None, view: int, record: int,
    sign: int,
) -> None:  # fmt: skip
    headers = _auth(web_archive, who) if who else {}
    r = requests.get(f"{base}/api/cases/{CASE}", headers=headers)
    assert r.status_code == view, r.text
    if view == 200:
        assert r.json()["state"] == "in-service" and "warnings" in r.json()
    r = requests.post(
        f"{base}/api/cases/{CASE}/signoff", headers=headers, json={"reason": "reviewed"}
    )
    assert r.status_code == sign, r.text
    body = session(staff=[who] if who else ["staff-01"])
    r = requests.post(f"{base}/api/cases/{CASE}/session", headers=headers, json=body)
    assert r.status_code == record, r.text
    if who is None:
        assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("who", "case_page", "step_page", "sign"),
    [
        ("staff-01", 200, 200, 403),
        ("outsider", 403, 403, 403),
        ("staff-03", 200, 200, 422),  # allowed; nothing open to sign off
        ("lead-01", 200, 200, 403),
        ("view-01", 403, 403, 403),
        ("adm-01", 403, 403, 403),
    ],
)
def test_each_role_on_the_case_pages(
    base: str, in_service: str, who: str, case_page: int, step_page: int, sign: int
) -> None:
    s = sign_in(base, who)
    assert s.get(f"{base}/cases/{CASE}").status_code == case_page
    assert s.get(f"{base}/cases/{CASE}/session").status_code == step_page
    listed = s.get(f"{base}/cases")
    assert listed.status_code == (
        200 if who in ("staff-01", "outsider", "staff-03", "lead-01") else 403
    )
    if who == "outsider":
        assert CASE not in listed.text
    r = s.post(f"{base}/cases/{CASE}/signoff", data={"csrf": csrf_of(s, base), "reason": "ok"})
    assert r.status_code == sign


def test_not_signed_in_pages_go_to_sign_in_and_posts_are_401(base: str, in_service: str) -> None:
    r = requests.get(f"{base}/cases/{CASE}", allow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin"
    r = requests.post(f"{base}/cases/{CASE}/session", data={"csrf": "x"}, allow_redirects=False)
    assert r.status_code == 401
    assert requests.post(f"{base}/cases/{CASE}/signoff", data={}).status_code == 401


def test_the_new_forms_need_the_csrf_token(
    base: str, web_archive: Archive, in_service: str
) -> None:
    s = sign_in(base, "staff-01")
    fields = {"start": "2025-12-31T14:30", "end": "2025-12-31T16:00"}
    r = s.post(f"{base}/cases/{CASE}/session", data=fields)
    assert r.status_code == 403 and "E823" in r.text
    r = s.post(f"{base}/cases/{CASE}/session", data={**fields, "csrf": "forged"})
    assert r.status_code == 403 and "E823" in r.text
    sup = sign_in(base, "staff-03")
    r = sup.post(f"{base}/cases/{CASE}/signoff", data={"reason": "ok", "issue": "1"})
    assert r.status_code == 403 and "E823" in r.text
    assert len(web_archive.case_versions(CASE)) == 1  # nothing recorded


def test_refused_and_unusable_steps_over_the_api(
    base: str, web_archive: Archive, in_service: str
) -> None:
    worker = _auth(web_archive, "staff-01")
    url = f"{base}/api/cases/{CASE}"
    r = requests.post(f"{url}/session", headers=worker,
                      json=session(end="2025-12-31T14:30:00+08:00"))  # fmt: skip
    assert r.status_code == 409 and r.json()["error"]["code"] == "E251"
    finding = r.json()["error"]["findings"][0]
    assert finding["rule"] == "R-9.2-05" and finding["todo"]
    r = requests.post(f"{url}/agreement", headers=worker, json={"date": "2025-12-31"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "E250"
    assert "T-07" in r.json()["error"]["message"]
    r = requests.post(f"{url}/session", headers=worker, json={**session(), "goal": 3})
    assert r.status_code == 422 and r.json()["error"]["code"] == "E252"
    assert "goal" in r.json()["error"]["message"]
    r = requests.post(f"{url}/session", headers=worker, json=session(staff=["staff-01", "nobody"]))
    assert r.status_code == 422 and r.json()["error"]["code"] == "E260"
    assert "nobody" in r.json()["error"]["message"]
    r = requests.post(f"{url}/transfer", headers=worker,
                      json={"to": "view-01", "date": "2025-12-31", "reason": "x"})  # fmt: skip
    assert r.status_code == 422 and r.json()["error"]["code"] == "E260"
    r = requests.post(f"{url}/midterm", headers=worker, json={})
    assert r.status_code == 403  # the supervisor's evaluation
    r = requests.post(f"{url}/no-such-step", headers=worker, json={})
    assert r.status_code == 404 and r.json()["error"]["code"] == "E264"
    r = requests.post(f"{url}/session", headers=worker, data=b"[1]")
    assert r.status_code == 422 and r.json()["error"]["code"] == "E830"
    assert len(web_archive.case_versions(CASE)) == 1  # nothing recorded


def test_a_warned_step_and_its_sign_off_over_the_api(
    base: str, web_archive: Archive, in_service: str
) -> None:
    worker, sup = _auth(web_archive, "staff-01"), _auth(web_archive, "staff-03")
    url = f"{base}/api/cases/{CASE}"
    short = session(end="2025-12-31T14:40:00+08:00")
    r = requests.post(f"{url}/session", headers=worker, json=short)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["version"] == 2 and out["state"] == "midterm"  # T-12: the mid-term is due
    cl05 = [w for w in out["open_warnings"] if w["rule"] == "CL-05"]
    assert cl05 and cl05[0]["author"] == "staff-01"
    theirs = cl05[0]["id"]
    # The supervisor's own warned step: they may not sign it off themselves.
    own = session(start="2026-01-07T14:30:00+08:00", end="2026-01-07T14:40:00+08:00",
                  record_date="2026-01-07", staff=["staff-03", "staff-01"])  # fmt: skip
    r = requests.post(f"{url}/session", headers=sup, json=own)
    assert r.status_code == 200, r.text
    mine = next(w["id"] for w in r.json()["open_warnings"] if w["rule"] == "CL-05")
    r = requests.post(f"{url}/signoff", headers=sup, json={"issues": [mine], "reason": "ok"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "E261"
    r = requests.post(f"{url}/signoff", headers=worker, json={"issues": [theirs], "reason": "ok"})
    assert r.status_code == 403
    r = requests.post(f"{url}/signoff", headers=sup, json={"issues": [theirs]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "E263"
    r = requests.post(f"{url}/signoff", headers=sup,
                      json={"issues": [theirs], "reason": "孩子身体不适，提前结束"})  # fmt: skip
    assert r.status_code == 200 and r.json()[0]["signed_by"] == "staff-03"
    shown = requests.get(url, headers=worker).json()
    by_id = {w["id"]: w for w in shown["warnings"]}
    assert by_id[theirs]["signed_off"]["by"] == "staff-03" and by_id[mine]["open"]
    r = requests.post(f"{url}/signoff", headers=sup, json={"issues": [theirs], "reason": "again"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "E262"
    due = requests.get(f"{base}/api/due", headers=sup)
    assert [w["id"] for w in due.json()["warnings"] if w["rule"] == "CL-05"] == [mine]
    page = sign_in(base, "staff-03").get(f"{base}/due")
    assert f"#{mine} CL-05" in page.text and f"#{theirs} CL-05" not in page.text
    with web_archive.engine.connect() as conn:
        rows = audit.rows(conn, case_number=CASE)
    assert [(r.action, r.actor) for r in rows] == [
        ("case-session", "staff-01"),
        ("case-session", "staff-03"),
        ("case-signoff", "staff-03"),
    ]


def test_a_step_through_the_console_form_and_a_refusal_shown(
    base: str, web_archive: Archive, in_service: str
) -> None:
    s = sign_in(base, "staff-01")
    page = s.get(f"{base}/cases/{CASE}/session")
    assert 'name="effect"' in page.text and ">staff-01</textarea>" in page.text
    good = session()
    fields = {
        k: (json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else
            "\n".join(v) if isinstance(v, list) else "yes" if v is True else str(v))
        for k, v in good.items() if v is not None
    }  # fmt: skip
    fields.update(start="2025-12-31T14:30", end="2025-12-31T14:30", csrf=csrf_of(s, base))
    r = s.post(f"{base}/cases/{CASE}/session", data=fields)
    assert r.status_code == 409 and "R-9.2-05" in r.text and "E251" in r.text
    fields["end"] = "2025-12-31T14:40"
    r = s.post(f"{base}/cases/{CASE}/session", data=fields, allow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{CASE}?done=2"
    page = s.get(f"{base}/cases/{CASE}?done=2")
    assert "CL-05" in page.text and "/signoff" not in page.text  # a worker signs nothing off
    sup = sign_in(base, "staff-03")
    page = sup.get(f"{base}/cases/{CASE}")
    assert f'action="/cases/{CASE}/signoff"' in page.text
    issue = page.text.split('name="issue" value="')[1].split('"')[0]
    r = sup.post(f"{base}/cases/{CASE}/signoff",
                 data={"csrf": csrf_of(sup, base), "issue": issue, "reason": "已复核"},
                 allow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert "已复核" in sup.get(f"{base}/cases/{CASE}").text


def test_the_step_form_and_its_findings_in_chinese(
    base: str, web_archive: Archive, in_service: str
) -> None:
    s = sign_in(base, "staff-01")  # the console speaks zh_CN unless the person chose en
    page = s.get(f"{base}/cases/{CASE}/session")
    assert "附录 C，一次服务（T-10/T-11）" in page.text and "<small>要求 C-" in page.text
    # each field by the standard's name, the property name small beside it
    labels = (("服务时间（开始）", "start"), ("服务目标", "goal"), ("服务效果", "effect"))
    for label, name in labels:
        assert f'for="f-{name}">{label} <small><code>{name}</code></small>' in page.text
    fields = {
        k: (json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else
            "\n".join(v) if isinstance(v, list) else "yes" if v is True else str(v))
        for k, v in session().items() if v is not None
    }  # fmt: skip
    fields.update(start="2025-12-31T14:30", end="2025-12-31T14:30", csrf=csrf_of(s, base))
    r = s.post(f"{base}/cases/{CASE}/session", data=fields)
    assert r.status_code == 409
    assert "R-9.2-05: 服务的结束时间须晚于开始时间：结束时间不晚于开始时间" in r.text, r.text
    assert "更正开始和结束时间" in r.text and "a session ends after it starts" not in r.text
    fields["end"] = "2025-12-31T14:40"
    r = s.post(f"{base}/cases/{CASE}/session", data=fields, allow_redirects=False)
    assert r.status_code == 303
    page = s.get(f"{base}/cases/{CASE}?done=2")
    assert "单次服务一般为 60 至 120 分钟（R-7.3-09）：10 分钟" in page.text, page.text


def test_the_step_form_labels_its_fields_by_property_name_in_english(
    base: str, web_archive: Archive, in_service: str
) -> None:
    s = sign_in(base, "staff-01")
    s.get(f"{base}/lang?to=en")
    page = s.get(f"{base}/cases/{CASE}/session")
    assert page.status_code == 200 and "Annex C, one session" in page.text
    for name in ("start", "goal", "effect"):
        assert f'<label for="f-{name}">{name}' in page.text
    assert "服务目标" not in page.text and "<code>goal</code>" not in page.text
