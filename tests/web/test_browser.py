"""The console in a real browser: Playwright for Python driving Debian's Chromium
(``/usr/bin/chromium``, installed by ``.ci/run``; never downloaded at run time). A supervisor
signs in, reviews and approves a worker's disclosure, is refused on their own request,
follows a referral; an org lead retries a dead letter. A screenshot of each page is kept in
``test-artefacts/console/``."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_support import (
    PASSWORD,
    REFERRAL_CASE,
    REFERRAL_HOSPITAL,
    SCHOOL_CASE,
    hospital_console,
    serving,
)

from interop.engine import Engine
from interop.exchange.http import HttpResult
from interop.exchange.outbox import OutboxItem, RetryPolicy
from interop.store import Archive
from interop.web.context import Console

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "console"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOSPITAL = "jx-childrens-hospital"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = "Debian's chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


class Refusing:
    """A partner that answers every delivery with a server error (a dead letter after one)."""

    retry = RetryPolicy()

    def attempt(self, item: OutboxItem) -> HttpResult:
        return HttpResult(verdict="fatal", status=500, error="HTTP 500 from the partner")

    def close(self) -> None:
        pass


@pytest.fixture
def full_console(
    web_archive: Archive, tmp_path: Path, engine: Engine
) -> Iterator[tuple[Console, dict[str, str]]]:
    console = hospital_console(web_archive, tmp_path, engine)
    ids = {}
    for who in ("staff-01", "staff-03"):
        d = console.discloser.request(
            SCHOOL_CASE, purpose="school-support", partner="school-mingde", requester=who
        )
        ids[who] = d.id
    ref = console.referrals.create(
        REFERRAL_CASE, partner=HOSPITAL, trigger="RT-02", reason="需要评估", requester="staff-01"
    )
    ids["referral"] = ref.id
    box = console.outbox
    item = box.enqueue(partner="school-mingde", kind="test", payload=b"{}",
                       idempotency_key="browser-dead", max_attempts=1)  # fmt: skip
    box.run(lambda partner: Refusing(), ids=[item.id])
    assert box.get(item.id).status == "dead"
    ids["dead"] = item.id
    yield console, ids
    console.close()


def _shot(page: Any, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def _sign_in(page: Any, base: str, staff_id: str) -> None:
    page.goto(f"{base}/signin")
    page.fill("#staff_id", staff_id)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_supervisor_and_org_lead_in_the_browser(
    chromium: Any, full_console: tuple[Console, dict[str, str]]
) -> None:
    console, ids = full_console
    with serving(console) as base:
        context = chromium.new_context(locale="zh-CN")
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{base}/signin")
        _shot(page, "01-signin")
        _sign_in(page, base, "staff-03")
        page.wait_for_url(f"{base}/approvals")
        assert ids["staff-01"] in page.content()
        _shot(page, "02-approvals")

        # Review the worker's request: the Bundle as it would leave, then approve it.
        page.click(f"a[href='/approvals/{ids['staff-01']}']")
        page.wait_for_url(f"{base}/approvals/{ids['staff-01']}")
        assert page.locator("article.resource").count() > 3
        _shot(page, "03-review")
        page.click("button.approve")
        page.wait_for_url(f"{base}/approvals?done=approved")
        assert "已完成" in page.inner_text("main")
        assert console.discloser.get(ids["staff-01"]).approver == "staff-03"

        # Their own request: refused (four-eyes), no button to press.
        page.goto(f"{base}/approvals/{ids['staff-03']}")
        assert "另一位督导人员审核" in page.inner_text("main")
        assert page.locator("button.approve").count() == 0
        _shot(page, "04-own-request-refused")

        # Follow the referral: its state and history.
        page.click("nav >> text=转介")
        page.wait_for_url(f"{base}/referrals")
        _shot(page, "05-referrals")
        page.click(f"a[href='/referrals/{ids['referral']}']")
        assert "审核中" in page.inner_text("main")
        _shot(page, "06-referral")
        for path, name in (("/due", "07-due"), ("/audit?verify=1", "08-audit"),
                           ("/sync", "09-sync"), ("/preview?case=" + SCHOOL_CASE, "10-preview"),
                           ("/account", "11-account")):  # fmt: skip
            page.goto(f"{base}{path}")
            assert page.locator("h1").count() == 1, path
            _shot(page, name)
        page.click("header button[type=submit]")  # sign out
        page.wait_for_url(f"{base}/signin")

        # The org lead retries the dead letter in the outbox.
        _sign_in(page, base, "lead-01")
        page.goto(f"{base}/outbox")
        assert ids["dead"] in page.content()
        _shot(page, "12-outbox")
        page.click(f"form[action='/outbox/{ids['dead']}/retry'] button")
        page.wait_for_url(f"{base}/outbox?done=pending")
        assert console.outbox.get(ids["dead"]).status == "pending"
        page.goto(f"{base}/staff")
        _shot(page, "13-staff")
        page.goto(f"{base}/lang?to=en")
        page.goto(f"{base}/outbox")
        assert "Dead letters" in page.content()
        _shot(page, "14-outbox-en")
        context.close()
        assert errors == []  # no script errors (there is no script; CSP blocks none)


def test_a_worker_refers_in_crisis_and_a_supervisor_reviews_it(
    chromium: Any, web_archive: Archive, tmp_path: Path, engine: Engine
) -> None:
    """转介 → a crisis referral (break-glass, sent at once) by the worker; 审批 → the
    supervisor finds its review due and records it as justified."""
    console = hospital_console(web_archive, tmp_path, engine)
    try:
        with serving(console) as base:
            context = chromium.new_context(locale="zh-CN")
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            _sign_in(page, base, "staff-01")
            page.click("nav >> text=转介")
            page.wait_for_url(f"{base}/referrals")
            page.fill("#case", REFERRAL_CASE)
            page.select_option("#partner", REFERRAL_HOSPITAL)
            page.check("#urgency-crisis")
            page.select_option("#crisis_type", "life-self")
            page.fill("#reason", "孩子有自伤风险，需要立即评估")
            _shot(page, "15-referral-form")
            page.click("button.refer")
            page.wait_for_url(re.compile(r".*/referrals/REF-[0-9A-F]+\?done=.*"))
            assert "紧急调阅" in page.inner_text("main")
            _shot(page, "16-crisis-referral")
            ref_id = page.url.split("/referrals/")[1].split("?")[0]
            ref = console.referrals.get(ref_id)
            assert ref.break_glass and ref.requester == "staff-01"
            page.click("header button[type=submit]")  # sign out
            page.wait_for_url(f"{base}/signin")

            _sign_in(page, base, "staff-03")
            page.wait_for_url(f"{base}/approvals")
            due = page.inner_text("main").split("待完成的紧急调阅事后审核")[1]
            assert ref.disclosure_id in due
            page.click(f"a[href='/approvals/{ref.disclosure_id}']")
            _shot(page, "17-break-glass-review")
            page.click("button.approve")  # 事后审核：合理
            page.wait_for_url(f"{base}/approvals?done=*")
            assert console.discloser.get(ref.disclosure_id).review_outcome == "justified"
            assert ref.disclosure_id not in page.inner_text("main")
            _shot(page, "18-review-recorded")
            context.close()
            assert errors == []
    finally:
        console.close()
