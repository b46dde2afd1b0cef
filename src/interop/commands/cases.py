"""``interop cases due`` — every open deadline of every case (DL-01..DL-17).

Each item: the rule, the event that started its clock, the last day (working days
per §1.9.1 with 调休, calendar days or hours as the standard says), provisional
where the calendar of that year is not published, and overdue once 23:59:59
Asia/Shanghai of its last day (or its hour) has passed. Warnings of case steps not yet
signed off by a supervisor are listed too (rule ``sign-off``, dated the day of the step).
Filters: ``--worker``, ``--risk``, ``--rule``, ``--within DAYS``. "Today" is the settings'
clock (tests give ``interop.cli.main(argv, clock=FixedClock(...))``).
"""

from __future__ import annotations

import argparse
import json

from interop._errors import InputError
from interop.i18n import _

NAME = "cases"
HELP = "list cases of the archive (cases due: every open deadline, earliest first)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="cases_command", metavar="ACTION", required=True)
    due = sub.add_parser(
        "due", help=_("open deadlines of every case (DL-01..DL-17), earliest first")
    )
    due.add_argument(
        "--within",
        metavar="DAYS",
        type=int,
        help=_("only deadlines within DAYS calendar days from today (overdue ones included)"),
    )
    due.add_argument("--worker", metavar="STAFF", help=_("only cases of this care manager"))
    due.add_argument(
        "--risk", choices=("normal", "low", "medium", "high"), help=_("only cases of this risk")
    )
    due.add_argument("--rule", metavar="DL-NN", help=_("only this deadline rule (e.g. DL-11)"))
    due.add_argument("--json", action="store_true", help=_("print a JSON array"))


def run(args: argparse.Namespace) -> int:
    # here: the parser and --help load no database library
    from interop.casework.due import DueFilter, due_items
    from interop.core.workdays import WorkCalendar
    from interop.store import Archive

    if args.within is not None and args.within < 0:
        raise InputError(_("--within: give a number of days, 0 or more"), code="E108")
    now = args.settings.clock.now()
    filters = DueFilter(args.within, args.worker, args.risk, args.rule)
    with Archive.open(args.db) as archive:
        items = due_items(archive, now, WorkCalendar.load(), filters)
    if args.json:
        print(json.dumps(items, ensure_ascii=False))
        return 0
    if not items:
        print(
            _("no open deadline in that window")
            if args.within is not None
            else _("no open deadline")
        )
        return 0
    case, risk, worker, deadline, rule = _("case"), _("risk"), _("worker"), _("deadline"), _("rule")
    print(f"{case:<20} {risk:<7} {worker:<10} {deadline:<11} {rule:<6} " + _("event; note"))
    for it in items:
        notes = []
        if it["overdue"]:
            notes.append(_("OVERDUE"))
        if it["provisional"]:
            notes.append(_("provisional (calendar not published)"))
        if it.get("warning"):
            notes.append(
                _("warning #{id} {rule} awaits sign-off").format(
                    id=it["warning"], rule=it["warning_rule"]
                )
            )
        if it.get("referral"):
            notes.append(
                _("referral {id} at {partner}").format(id=it["referral"], partner=it["partner"])
            )
        event = it.get("event") or it["rule"]
        print(
            f"{it['case']:<20} {it.get('risk') or '-':<7} {it.get('worker') or '-':<10} "
            f"{it['deadline']:<11} {it['rule']:<6} {event}"
            + ("; " + ", ".join(notes) if notes else "")
        )
    print(_("{n} open deadline(s)").format(n=len(items)))
    return 0
