"""Benchmark of case work (recording a session; ``cases due``). Not a timed test.

    .venv/bin/python bench/bench_case.py                 # 10,000 cases, 100,000 sessions
    .venv/bin/python bench/bench_case.py --cases 1000    # a quick run

Builds a SQLite archive of N in-service cases (the fixture 01-medium-in-service
with 10 finished sessions each, so N × 10 sessions), then measures:

- **session**: ``record_step`` of one Annex C on a case, the whole step as the
  command runs it (read the latest version, check the stored record, the state
  machine and every session rule, the new record's check, write the version, the
  caseload row and the step log): median and p95 over 50 cases;
- **cases due**: ``due_items`` over the whole archive (every open deadline of
  every case, DL-01..DL-17): median of 3 runs.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from interop.caserecord import build_part  # noqa: E402
from interop.casework.due import DueFilter, due_items  # noqa: E402
from interop.casework.steps import note_import, record_step  # noqa: E402
from interop.core.record import CaseRecord  # noqa: E402
from interop.core.workdays import CHINA_TZ, WorkCalendar  # noqa: E402
from interop.fhir.terminology import Terminology  # noqa: E402
from interop.store import Archive  # noqa: E402


def case_doc(base: dict[str, Any], i: int, sessions: int) -> dict[str, Any]:
    d = copy.deepcopy(base)
    d["case"]["case_number"] = f"JX0101-2025-{i:05d}"
    d["case"]["care_manager"] = f"staff-{i % 2000:04d}"  # 5 cases a worker
    d["child"].pop("resident_id", None)
    d["staff"].append({**d["staff"][0], "id": d["case"]["care_manager"]})
    for s in d["sessions"]:
        s["staff"] = [d["case"]["care_manager"]]
    d["plans"][0]["planned_session_count"] = 2 * sessions
    d["plans"][0]["period_end"] = "2026-12-31"
    first = d["sessions"][0]
    out = []
    start = dt.datetime.fromisoformat(first["start"])
    for n in range(sessions):
        s = copy.deepcopy(first)
        day = start + dt.timedelta(days=7 * n)
        s.update(
            id=f"sess-{n + 1:02d}",
            number=n + 1,
            start=day.isoformat(),
            end=(day + dt.timedelta(minutes=90)).isoformat(),
            record_date=day.date().isoformat(),
        )
        out.append(s)
    d["sessions"] = out
    d["midterms"] = [
        {
            "id": "m1",
            "date": "2026-01-20",
            "supervisor": "staff-03",
            "effect": "e",
            "outcome": "continue",
        }
    ]
    return d


def build(db: str, n: int, sessions: int) -> None:
    base = json.loads((ROOT / "fixtures/cases/01-medium-in-service.json").read_text("utf-8"))
    calendar = WorkCalendar.load()
    with Archive.open(db) as archive:
        for i in range(n):
            body = case_doc(base, i, sessions)
            rec: CaseRecord = build_part(CaseRecord, body)
            archive.import_record(
                rec.case.case_number, body, state="in-service", risk_level="medium",
                resident_id=None, deadline=None, received=rec.case.list_received_date,
            )  # fmt: skip
            note_import(archive, rec, body, calendar)


def session_form(day: dt.datetime, worker: str) -> dict[str, Any]:
    base = json.loads((ROOT / "fixtures/cases/01-medium-in-service.json").read_text("utf-8"))
    s = base["sessions"][0]
    for k in ("id", "number"):
        s.pop(k)
    s.update(
        start=day.isoformat(),
        end=(day + dt.timedelta(minutes=90)).isoformat(),
        record_date=day.date().isoformat(),
        staff=[worker],
    )
    return dict(s)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--sessions", type=int, default=10, help="sessions per case")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/bench.sqlite3"
        t0 = time.perf_counter()
        build(db, args.cases, args.sessions)
        print(f"built {args.cases} cases, {args.cases * args.sessions} sessions "
              f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        calendar = WorkCalendar.load()
        terms = Terminology.load()
        times = []
        for i in range(50):
            case = f"JX0101-2025-{(i * 197) % args.cases:05d}"
            day = dt.datetime(2026, 3, 3, 14, 30, tzinfo=CHINA_TZ)
            data = session_form(day, f"staff-{(i * 197) % args.cases % 2000:04d}")
            t = time.perf_counter()
            record_step(
                db,
                case,
                "session",
                lambda st, d=data: st.session(d),
                calendar=calendar,
                terminology=terms,
            )
            times.append(time.perf_counter() - t)
        times.sort()
        print(f"session: median {statistics.median(times) * 1000:.1f} ms, "
              f"p95 {times[int(len(times) * 0.95) - 1] * 1000:.1f} ms")  # fmt: skip
        now = dt.datetime(2026, 3, 10, 12, 0, tzinfo=CHINA_TZ)
        runs = []
        count = 0
        for _ in range(3):
            t = time.perf_counter()
            with Archive.open(db) as archive:
                count = len(due_items(archive, now, calendar, DueFilter()))
            runs.append(time.perf_counter() - t)
        print(f"cases due: {count} open deadlines, median {statistics.median(runs):.2f} s "
              f"(runs {', '.join(f'{r:.2f}' for r in runs)})")  # fmt: skip


if __name__ == "__main__":
    main()
