"""``interop cases due`` — waiting cases by start deadline (DL-01..DL-03, G-06).

Deadlines are working days (§1.9.1); one that reaches into a year without a
published 调休 arrangement is marked provisional. A deadline is overdue
once 23:59:59 Asia/Shanghai of its last day has passed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from interop._errors import InputError
from interop.core.workdays import CHINA_TZ, end_of_day

if TYPE_CHECKING:
    from interop.store import Archive

NAME = "cases"
HELP = "list cases of the archive (cases due: waiting cases by start deadline)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="cases_command", metavar="ACTION", required=True)
    due = sub.add_parser("due", help="waiting cases by start deadline, earliest first")
    due.add_argument(
        "--within",
        metavar="DAYS",
        type=int,
        help="only deadlines within DAYS calendar days from today (overdue ones included)",
    )
    due.add_argument("--json", action="store_true", help="print a JSON array")
    due.add_argument("--as-of", metavar="DATE", help=argparse.SUPPRESS)  # tests: fixed today


def due_items(archive: Archive, now: dt.datetime, within: int | None) -> list[dict[str, Any]]:
    until = None
    if within is not None:
        until = (now.astimezone(CHINA_TZ).date() + dt.timedelta(days=within)).isoformat()
    items = []
    for row in archive.waiting_cases(until=until):
        due = dt.date.fromisoformat(row["deadline_due"])
        items.append(
            {
                "case": row["case_number"],
                "risk": row["risk_level"],
                "deadline": due.isoformat(),
                "rule": row["deadline_rule"],
                "provisional": bool(row["provisional"]),
                "overdue": now > end_of_day(due),
                "start": row["deadline_start"],
                "received": row["received"],
            }
        )
    # Referrals handed over but not accepted in time (issue 5; interop.referral).
    from interop.referral.lifecycle import referral_due_items

    items += referral_due_items(archive, now, until)
    items.sort(key=lambda it: (it["deadline"], it["case"]))
    return items


def run(args: argparse.Namespace) -> int:
    from interop.store import Archive  # here: the parser and --help load no database library

    if args.within is not None and args.within < 0:
        raise InputError("--within: give a number of days, 0 or more", code="E108")
    if args.as_of:
        try:
            day = dt.date.fromisoformat(args.as_of)
        except ValueError:
            raise InputError("--as-of: not a date YYYY-MM-DD", code="E105") from None
        now = dt.datetime.combine(day, dt.time(12, 0), tzinfo=CHINA_TZ)
    else:
        now = args.settings.clock.now()
    with Archive.open(args.db) as archive:
        items = due_items(archive, now, args.within)
    if args.json:
        print(json.dumps(items, ensure_ascii=False))
        return 0
    if not items:
        print("no waiting case has a start deadline" + (" in that window" if args.within else ""))
        return 0
    print(f"{'case':<20} {'risk':<7} {'deadline':<11} {'rule':<6} note")
    for it in items:
        notes = []
        if it["overdue"]:
            notes.append("OVERDUE")
        if it["provisional"]:
            notes.append("provisional (calendar not published)")
        print(
            f"{it['case']:<20} {it['risk'] or '-':<7} {it['deadline']:<11} {it['rule']:<6} "
            + ", ".join(notes)
        )
    print(f"{len(items)} waiting case(s)")
    return 0
