"""Deadline reminders (截止提醒): the console's job records one reminder per deadline,
person and day from the deadlines of ``interop cases due``, whatever the number of runs or
restarts; the 待办 page and ``/api/reminders`` show a worker their own (no names), the job's
last run is on 后台任务."""

from __future__ import annotations

import datetime as dt

import requests
from web_support import NOW, SCHOOL_CASE, serving, sign_in, token_for

from interop.casework.due import DueFilter, due_items
from interop.core.workdays import WorkCalendar
from interop.store.reminders import Reminders
from interop.web.context import Console
from interop.web.jobs import Job, Jobs


def _job(jobs: Jobs, name: str) -> Job:
    return next(j for j in jobs.jobs if j.name == name)


def _standard(console: Console) -> Jobs:
    return Jobs.standard(console, outbox_every=60, poll_every=60, remind_within=3)


def test_one_reminder_per_deadline_person_and_day_across_restarts(console: Console) -> None:
    expected = due_items(console.archive, NOW, WorkCalendar.load(), DueFilter(within=3))
    assert expected, "the school case has deadlines due"
    job = _job(_standard(console), "deadline-reminders")
    job.run_once()
    assert job.last_error is None
    first = job.last_result
    assert first["recorded"] == len(expected) and first["day"] == "2026-11-30"
    assert first["overdue"] + first["due_soon"] == len(expected)
    job.run_once()
    assert job.last_result["recorded"] == 0
    # A restart (new jobs over the same archive) records nothing more that day.
    again = _job(_standard(console), "deadline-reminders")
    again.run_once()
    assert again.last_result["recorded"] == 0
    assert Reminders(console.archive).count() == len(expected)
    # The next day is another reminder of each deadline still open.
    console.now = lambda: NOW + dt.timedelta(days=1)
    again.run_once()
    assert again.last_result["recorded"] > 0 and again.last_result["day"] == "2026-12-01"


def test_the_worker_sees_their_reminders_on_due_and_the_api(console: Console) -> None:
    jobs = _standard(console)
    console.jobs = jobs
    _job(jobs, "deadline-reminders").run_once()
    with serving(console) as base:
        page = sign_in(base, "staff-01").get(f"{base}/due").text
        assert "今日提醒" in page and SCHOOL_CASE in page and "已逾期" in page
        assert "测试人员" not in page  # no names on the page
        outsider = sign_in(base, "outsider").get(f"{base}/due").text
        assert "今日无提醒" in outsider and SCHOOL_CASE not in outsider

        def api(who: str | None) -> requests.Response:
            headers = {"Authorization": f"Bearer {token_for(console.archive, who)}"} if who else {}
            return requests.get(f"{base}/api/reminders", headers=headers, timeout=30)

        mine = api("staff-01")
        assert mine.status_code == 200
        rows = mine.json()
        assert rows and {r["case_number"] for r in rows} == {SCHOOL_CASE}
        assert all(r["worker"] == "staff-01" and r["day"] == "2026-11-30" for r in rows)
        assert set(rows[0]) == {"day", "worker", "case_number", "rule", "deadline", "ref",
                                "overdue", "provisional", "event"}  # fmt: skip
        assert api("outsider").json() == []
        assert len(api("staff-03").json()) == len(rows)  # a supervisor sees every one
        assert api("adm-01").status_code == 403  # deny by default: not a care role
        assert api("view-01").status_code == 403
        assert api(None).status_code == 401
        other_day = requests.get(
            f"{base}/api/reminders?day=2026-11-29",
            headers={"Authorization": f"Bearer {token_for(console.archive, 'staff-01')}"},
            timeout=30,
        )
        assert other_day.json() == []
        # The job's last run and result on 后台任务.
        jobs_page = sign_in(base, "lead-01").get(f"{base}/jobs").text
        assert "截止提醒" in jobs_page and f"recorded {len(rows)}" in jobs_page
