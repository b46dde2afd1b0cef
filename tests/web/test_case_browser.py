"""A case step in a real browser (Debian's Chromium through Playwright, as the console's
other browser test): a worker signs in, opens their case (个案), records a session through
the step's form with the keyboard and mouse, sees the new version and the warning it left;
the same worker is refused (403) on a case that is not theirs. Screenshots are kept in
``test-artefacts/console/``."""

from __future__ import annotations

import json
from typing import Any

from test_browser import _shot, _sign_in, chromium  # noqa: F401  (the browser fixture)
from web_support import CASES, serving

from archive_support import store
from interop.engine import Engine
from interop.store import Archive
from interop.web.context import Console

CASE = "JX0101-2025-00001"
OTHER = "JX0101-2025-00901"


def _cases(archive: Archive, engine: Engine) -> None:
    text = (CASES / "01-medium-in-service.json").read_text("utf-8")
    store(archive, engine, json.loads(text))
    other = json.loads(text.replace("staff-01", "staff-09"))  # nobody of the register
    other["case"]["case_number"] = OTHER
    other["child"].pop("resident_id", None)
    store(archive, engine, other)


def test_a_worker_records_a_session_in_the_browser(
    chromium: Any,  # noqa: F811
    console: Console,
    web_archive: Archive,
    engine: Engine,
) -> None:
    _cases(web_archive, engine)
    with serving(console) as base:
        context = chromium.new_context(locale="zh-CN")
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        _sign_in(page, base, "staff-01")
        page.wait_for_url(f"{base}/due")
        page.click("nav >> text=个案")
        page.wait_for_url(f"{base}/cases")
        assert OTHER not in page.content()
        page.click(f"a[href='/cases/{CASE}']")
        page.wait_for_url(f"{base}/cases/{CASE}")
        assert "in-service" in page.inner_text("#state")
        _shot(page, "20-case")
        page.click(f"a[href='/cases/{CASE}/session']")
        page.wait_for_url(f"{base}/cases/{CASE}/session")
        fill = {
            "#f-start": "2025-12-31T14:30",
            "#f-end": "2025-12-31T14:45",  # 15 minutes: CL-05 warns, the step is kept
            "#f-goal": "巩固情绪调节方法",
            "#f-process": "回顾练习，角色扮演，布置作业。",
            "#f-reflection": "节奏合适。",
            "#f-record_date": "2025-12-31",
            "#f-effect": json.dumps(
                {"cognition": "能说出要点", "emotion": "情绪平稳", "volition": "愿意练习"},
                ensure_ascii=False,
            ),
        }
        for selector, value in fill.items():
            page.fill(selector, value)
        for selector, value in {
            "#f-location": "office",
            "#f-service_type": "counselling",
            "#f-method": "individual",
            "#f-theoretical_orientation": "rebt",
            "#f-attendance": "attended",
        }.items():
            page.fill(selector, value)
        _shot(page, "21-session-form")
        page.focus("#f-record_date")
        page.keyboard.press("Enter")  # submitted from the keyboard
        page.wait_for_url(f"{base}/cases/{CASE}?done=2")
        assert "第 2 版" in page.inner_text("#recorded")
        assert "CL-05" in page.inner_text("#warnings")
        assert page.locator("#sessions tr").count() >= 2
        _shot(page, "22-session-recorded")
        assert web_archive.case_versions(CASE)[-1]["version"] == 2
        assert errors == []  # no script errors (the console has no script)

        answer = page.goto(f"{base}/cases/{OTHER}")
        assert answer is not None and answer.status == 403
        assert "E822" in page.inner_text("main")
        _shot(page, "23-not-their-case")
        context.close()
