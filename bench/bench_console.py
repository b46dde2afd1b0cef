"""Benchmark of the console and its API against a running ``interop serve``. Not a timed test.

    .venv/bin/python bench/bench_console.py                 # 10,000 cases, 100,000 audit events
    .venv/bin/python bench/bench_console.py --cases 1000 --audit 10000 --n 20

A SQLite archive in a temporary folder is filled with N cases waiting to start (deadlines
spread over three months), a staff register (an org lead, a supervisor, a worker on eight
cases), 200 pending disclosures and the audit chain of M events; then ``interop serve`` is
started as its own process on 127.0.0.1 and each page and API call is fetched ``--n`` times
by a signed-in person (org lead, or the worker for the worker's due list): p50 / p95 in ms.
Before that, the deadline-reminder job's run is timed over every case (a first run that
records a reminder of each, and a second that finds them all recorded).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

PAGES = ["/due", "/approvals", "/referrals", "/audit", "/audit?action=approval", "/outbox",
         "/sync", "/staff"]  # fmt: skip
API = ["/api/due", "/api/reminders", "/api/disclosures?status=pending", "/api/audit",
       "/api/outbox"]  # fmt: skip


def fill(url: str, cases: int, events: int) -> None:
    import sqlalchemy as sa

    from interop.privacy import audit
    from interop.store import Archive
    from interop.store import schema as t
    from staff_support import register_people

    with Archive.create(url) as archive:
        register_people(archive)
        start = dt.date(2026, 12, 1)
        stamp = "2026-12-01T08:00:00+00:00"
        with archive.transaction() as conn:
            conn.execute(
                t.cases.insert(),
                [
                    {"case_number": f"ORG-2026-{i:05d}", "state": "listed",
                     "risk_level": ("high", "medium", "low")[i % 3], "received": "2026-11-20",
                     "deadline_rule": "DL-02", "deadline_start": "2026-11-20",
                     "deadline_due": (start + dt.timedelta(days=i % 90)).isoformat(),
                     "provisional": False, "version": 1, "updated_at": stamp}
                    for i in range(cases)
                ],
            )  # fmt: skip
            conn.execute(
                t.case_staff.insert(),
                [{"case_number": f"ORG-2026-{i:05d}", "staff_id": "staff-01", "role": "worker"}
                 for i in range(0, 8 * 97, 97)],
            )  # fmt: skip
            conn.execute(
                t.disclosures.insert(),
                [
                    {"id": f"D-{i:016x}", "case_number": f"ORG-2026-{i:05d}", "case_version": 1,
                     "purpose": "school-support", "partner": "school-mingde",
                     "partner_kind": "school", "policy": "school-support.json@1",
                     "requester": "staff-01", "status": "pending", "break_glass": False,
                     "payload": b"{}", "sha256": "0" * 64, "elements": "[]", "reasons": "[]",
                     "entities": "[]", "created_at": stamp}
                    for i in range(200)
                ],
            )  # fmt: skip
            actions = ("request", "approval", "delivery")
            for i in range(events):
                event = {"resourceType": "AuditEvent", "recorded": stamp, "n": i}
                audit.append(conn, recorded=stamp, action=actions[i % 3], event=event,
                             case_number=f"ORG-2026-{i % cases:05d}", disclosure_id=None,
                             purpose="school-support", partner="school-mingde",
                             actor="staff-01")  # fmt: skip
        with archive.engine.connect() as conn:
            n = conn.execute(sa.select(sa.func.count()).select_from(t.audit_log)).scalar()
        print(f"archive: {cases:,} cases, {n:,} audit events", flush=True)


def sign_in(base: str, who: str) -> requests.Session:
    from staff_support import PASSWORD

    s = requests.Session()
    token = re.search(r'name="presign" value="([^"]+)"', s.get(f"{base}/signin").text)
    assert token
    r = s.post(f"{base}/signin", data={"staff_id": who, "password": PASSWORD,
               "presign": token.group(1)}, allow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.status_code
    return s


def timed(s: requests.Session, url: str, n: int) -> tuple[float, float]:
    s.get(url).raise_for_status()  # warm
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        s.get(url).raise_for_status()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def reminders(url: str) -> None:
    """The reminder job's run over every deadline (within 90 days): first and again."""
    from interop.casework.reminders import remind
    from interop.core.workdays import WorkCalendar
    from interop.store import Archive

    calendar = WorkCalendar.load()
    now = dt.datetime.now(dt.UTC)
    with Archive.open(url) as archive:
        for run in ("first", "again"):
            t0 = time.perf_counter()
            got = remind(archive, now, within_days=90, calendar=calendar)
            ms = (time.perf_counter() - t0) * 1000
            print(
                f"reminder job ({run}): {got['recorded']:,} recorded of "
                f"{got['due_soon'] + got['overdue']:,} deadlines in {ms:.0f} ms",
                flush=True,
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--audit", type=int, default=100_000)
    ap.add_argument("--n", type=int, default=40)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        t0 = time.perf_counter()
        fill(url, args.cases, args.audit)
        print(f"filled in {time.perf_counter() - t0:.1f} s", flush=True)
        reminders(url)
        proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "interop"), "--db", url, "serve", "--port", "0"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            found = re.search(r"http://[^ ]+/", line)
            assert found, line
            base = found.group(0).rstrip("/")
            lead = sign_in(base, "lead-01")
            worker = sign_in(base, "staff-01")
            from interop.staff.accounts import Accounts
            from interop.store import Archive

            with Archive.open(url) as archive:
                token = Accounts(archive).issue_token("lead-01")[0]
            api = requests.Session()
            api.headers["Authorization"] = f"Bearer {token}"
            print(f"{'page':<34} {'p50 ms':>8} {'p95 ms':>8}")
            for path in PAGES:
                p50, p95 = timed(lead, base + path, args.n)
                print(f"{path:<34} {p50:8.1f} {p95:8.1f}", flush=True)
            p50, p95 = timed(worker, base + "/due", args.n)
            print(f"{'/due (worker, own cases)':<34} {p50:8.1f} {p95:8.1f}", flush=True)
            for path in API:
                p50, p95 = timed(api, base + path, args.n)
                print(f"{path:<34} {p50:8.1f} {p95:8.1f}", flush=True)
        finally:
            proc.terminate()
            proc.wait(20)


if __name__ == "__main__":
    main()
