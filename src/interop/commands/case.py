"""``interop case ACTION CASE`` — record one step of a case, or show it.

Each step makes a new version of the case record (nothing overwritten, 9.4.3) after
the state machine (§3.3) and the rules of the standard have been checked. Forms
(Annex A–D, mid-term, crisis) are JSON or TOML files checked against their JSON
Schema (``interop/schemas/forms/``). Exit 0: recorded (warnings printed); 1: refused
by the state machine (E250) or a blocking rule (E251), with the rule and what to do;
2: unusable input.

Every step is recorded by the person of the personal API token in ``INTEROP_TOKEN``
(their roles from the staff register, :mod:`interop.staff.policy`); other people a step
names are register ids (``transfer --to``, ``crisis --by``, a session's ``staff``).
Warnings stay open until a supervisor who did not record the step signs them off
(``case signoff``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from interop._errors import InputError
from interop.core.workdays import CHINA_TZ
from interop.i18n import N_, _, current
from interop.i18n.templates import localise

NAME = "case"
HELP = (
    "record a step of a case (intake, assess, plan, session, midterm, crisis, close …) or show it"
)

#: Operator messages of this command (plain English, one place).
MSG = {
    "recorded": N_("case {case}: {action} recorded as version {version}: {moves}"),
    "warning": N_("warning #{id} {rule} {where}: {message} — {todo} (open until signed off)"),
    "signed": N_("case {case}: warning #{id} {rule} signed off by {who}"),
    "need_form_or": N_("give --form FILE or {flags}"),
    "date": N_("{flag}: not a date YYYY-MM-DD"),
    "datetime": N_("{flag}: not a date-time YYYY-MM-DDThh:mm[:ss]+08:00"),
}

#: action → (help, form name or None)
ACTIONS: dict[str, tuple[str, str | None]] = {
    "show": (
        "summary of a case: state, risk, staff, deadlines, consents, referrals, warnings",
        None,
    ),
    "intake": (
        "the signed-in worker takes a listed child, or assigns it --to a worker "
        "(T-02; CL-04 caseload)",
        None,
    ),
    "assess": ("record Annex A, the feasibility assessment (T-05, or T-03/T-04)", "annex-a"),
    "review": ("the contractor's review seal and report (T-06)", None),
    "agreement": ("the child under a signed project agreement (T-07; starts DL-01)", None),
    "plan": (
        "record Annex B, a plan version, with the service consent (T-08/T-09/T-22)",
        "annex-b",
    ),
    "session": ("record Annex C, one session (T-10/T-11)", "annex-c"),
    "midterm": ("record the supervisor's mid-term evaluation (T-12)", "midterm"),
    "crisis": ("open a crisis, or stabilise or resolve it (T-18/T-19)", "crisis"),
    "request": ("a pause, change or termination request (7.4.2; DL-05, DL-06)", None),
    "resume": ("resume a paused service (T-14)", None),
    "transfer": (
        "change the case manager (--to STAFF) with the recipient's agreement (T-21)",
        None,
    ),
    "contact": ("log a regular contact with family, school or village (DL-13)", None),
    "close": (
        "close the case: Annex D, or a reason before service (T-16/T-17, T-03/T-04)",
        "annex-d",
    ),
    "signoff": ("a supervisor signs off the open warnings of a case's steps, with a reason", None),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="case_action", metavar="ACTION", required=True)
    for action, (help_text, form) in ACTIONS.items():
        p = sub.add_parser(action, help=help_text, description=help_text)
        p.add_argument("case", metavar="CASE", help="case number (个案编号)")
        p.add_argument("--json", action="store_true", help="print the result as JSON")
        if form:
            p.add_argument("--form", metavar="FILE", help=f"the {form} form (JSON or TOML)")
    _flags(sub.choices)


def _flags(p: dict[str, argparse.ArgumentParser]) -> None:
    p["intake"].add_argument("--date", required=True, help="intake date (A-24)")
    p["intake"].add_argument(
        "--to",
        metavar="STAFF",
        help="a supervisor or the organisation's lead assigns the case to this worker "
        "(register id; default: the signed-in worker takes it)",
    )
    p["intake"].add_argument(
        "--staff-file",
        metavar="FILE",
        help="the organisation's staff list (JSON or TOML, [[staff]] entries as in the case "
        "record): supervisors join the case from it (the worker is the one signed in)",
    )
    p["review"].add_argument("--date", required=True)
    p["agreement"].add_argument("--date", required=True, help="agreement signed (DL-01 starts)")
    p["agreement"].add_argument("--end", help="end of the agreement period (DL-14)")
    for flag in ("--start", "--end"):
        p["session"].add_argument(flag, help="overrides the form's " + flag[2:])
    p["midterm"].add_argument("--date")
    p["midterm"].add_argument(
        "--outcome", choices=("continue", "adjust-plan", "refer", "refer-immediately")
    )
    p["midterm"].add_argument("--effect", help="effect of the service so far")
    c = p["crisis"]
    c.add_argument(
        "--type", choices=("life-self", "life-others", "environment-threat", "other-severe")
    )
    c.add_argument("--detected-at", metavar="DATETIME")
    c.add_argument(
        "--by", metavar="STAFF", help="who detected it (register id; default: the one signed in)"
    )
    c.add_argument("--safety", metavar="TEXT", help="safety assessment (R-7.6.1-03)")
    c.add_argument("--reported-at", metavar="DATETIME", help="reported to the commissioner")
    c.add_argument("--stabilise", action="store_true", help="mark the open crisis stabilised")
    c.add_argument("--resolve", action="store_true", help="mark the open crisis resolved")
    c.add_argument("--carer", metavar="ADULT", help="the reliable carer (R-7.6.1-04)")
    c.add_argument("--at", metavar="DATETIME", help="when it was stabilised or resolved")
    c.add_argument("--id", metavar="CRISIS", help="which open crisis")
    r = p["request"]
    r.add_argument("--type", required=True, choices=("pause", "change", "terminate"))
    r.add_argument("--received", required=True, help="date the worker received it")
    r.add_argument("--reported", help="date reported to the contractor")
    r.add_argument("--completed", help="date the adjustment was decided and done")
    r.add_argument("--child-views", metavar="TEXT")
    p["resume"].add_argument("--date", required=True)
    t = p["transfer"]
    t.add_argument(
        "--to", required=True, metavar="STAFF", help="the new care manager (register id)"
    )
    t.add_argument("--date", required=True)
    t.add_argument("--reason", required=True)
    t.add_argument("--agreed-by", metavar="ID", help="who agreed: an adult id or 'child'")
    k = p["contact"]
    k.add_argument("--party", required=True, help="family | school | village | township | hospital")
    k.add_argument("--date", required=True)
    k.add_argument("--channel", required=True, help="phone | visit | message | meeting | other")
    k.add_argument("--summary", help="non-clinical status summary (§4.6 row 29)")
    e = p["close"]
    e.add_argument(
        "--reason",
        required=True,
        help="closure reason (Annex D): goals-achieved, agreed-otherwise, terminated-on-request, "
        "referred-out, aged-out, moved-out-of-province, … or normal (a normal result: "
        "not-indicated), ineligible, referred-out-at-intake before service",
    )
    e.add_argument("--date", help="closure date (default: the form's, or today)")
    e.add_argument(
        "--resources-given", action="store_true", help="help resources given (R-6.1.1-03)"
    )
    g = p["signoff"]
    g.add_argument(
        "issues", nargs="*", type=int, metavar="ISSUE", help="warning numbers (default: all open)"
    )
    g.add_argument("--reason", required=True, help="why the warnings may stand")


def _date(value: str | None, flag: str) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise InputError(MSG["date"].format(flag=flag), code="E252") from None


def _datetime(value: str | None, flag: str) -> str | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InputError(MSG["datetime"].format(flag=flag), code="E252") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA_TZ)
    return moment.isoformat()


def _form(args: argparse.Namespace) -> dict[str, Any]:
    """The content of ``--form`` (not yet checked: the step checks it), or {}."""
    from interop.casework.forms import read_form_file

    path = getattr(args, "form", None)
    return read_form_file(path) if path else {}


def _set(data: dict[str, Any], **values: Any) -> dict[str, Any]:
    """``data`` with the flags that were given (a flag overrides the form)."""
    data.update({k: v for k, v in values.items() if v is not None})
    return data


def _require(data: dict[str, Any], names: list[str], flags: str) -> None:
    if any(data.get(n) is None for n in names):
        raise InputError(MSG["need_form_or"].format(flags=flags), code="E252")


def _input(args: argparse.Namespace, today: dt.date) -> tuple[str, dict[str, Any]]:
    """The step's name and its input object (as the API takes it) from the form and flags."""
    a = args.case_action
    d = _date
    if a == "intake":
        return a, _set({}, date=d(args.date, "--date"), to=args.to)
    if a in ("review", "resume"):
        return a, {"date": d(args.date, "--date")}
    if a == "agreement":
        return a, _set({}, date=d(args.date, "--date"), end=d(args.end, "--end"))
    if a in ("assess", "plan"):
        data = _form(args)
        if not data:
            raise InputError(MSG["need_form_or"].format(flags="(no flags)"), code="E252")
        return a, data
    if a == "session":
        data = _set(
            _form(args),
            start=_datetime(args.start, "--start"),
            end=_datetime(args.end, "--end"),
        )
        _require(data, ["start", "end"], "(Annex C: --form is needed)")
        return a, data
    if a == "midterm":
        data = _set(
            _form(args),
            date=d(args.date, "--date"),
            outcome=args.outcome,
            effect=args.effect,
        )
        _require(data, ["date", "outcome", "effect"], "--date --outcome --effect")
        return a, data
    if a == "crisis":
        return _crisis(args)
    if a == "request":
        return a, _set(
            {},
            type=args.type,
            received=d(args.received, "--received"),
            reported=d(args.reported, "--reported"),
            completed=d(args.completed, "--completed"),
            child_views=args.child_views,
        )
    if a == "transfer":
        return a, _set(
            {},
            to=args.to,
            date=d(args.date, "--date"),
            reason=args.reason,
            agreed_by=args.agreed_by,
        )
    if a == "contact":
        return a, _set(
            {},
            party=args.party,
            date=d(args.date, "--date"),
            channel=args.channel,
            summary=args.summary,
        )
    assert a == "close"
    data = _form(args)
    data["reason"] = args.reason
    data["date"] = d(args.date, "--date") or data.get("date") or today.isoformat()
    if args.resources_given:
        data["resources_given"] = True
    return a, data


def _crisis(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    if args.stabilise or args.resolve:
        return "crisis-update", _set(
            {},
            id=args.id,
            status="resolved" if args.resolve else "stabilised",
            at=_datetime(args.at, "--at"),
            reliable_carer=args.carer,
            reported_to_commissioner_at=_datetime(args.reported_at, "--reported-at"),
            safety_assessment=args.safety,
        )
    data = _set(
        _form(args),
        type=args.type,
        detected_at=_datetime(args.detected_at, "--detected-at"),
        detected_by=args.by,
        safety_assessment=args.safety,
        reported_to_commissioner_at=_datetime(args.reported_at, "--reported-at"),
        reliable_carer=args.carer,
    )
    _require(data, ["type", "detected_at"], "--type --detected-at")
    return "crisis", data


def run(args: argparse.Namespace) -> int:
    # here: the parser and --help load no database library
    from interop.casework import case_steps
    from interop.staff.accounts import Accounts
    from interop.store import Archive

    now = args.settings.clock.now().astimezone(CHINA_TZ)
    with Archive.open(args.db) as archive:
        person = Accounts(archive).by_token(args.settings.token)
        if args.case_action == "show":
            return _show(args, archive, person, now)
        if args.case_action == "signoff":
            return _signoff(args, archive, person)
        step, data = _input(args, now.date())
        staff = None
        if step == "intake" and args.staff_file:
            from interop.casework.steps import read_staff

            staff = read_staff(args.staff_file)
        source = getattr(args, "form", None) or "the flags"
        outcome, left = case_steps.record(
            archive, args.case, step, data, person, now=now, source=source, staff=staff
        )
    if args.json:
        print(json.dumps({**outcome.as_dict(), "open_warnings": left}, ensure_ascii=False))
        return 0
    moves = f"{outcome.from_state} → {outcome.state}"
    if outcome.transitions:
        moves += f" ({', '.join(outcome.transitions)})"
    print(
        _(MSG["recorded"]).format(
            case=outcome.case_number, action=args.case_action, version=outcome.version, moves=moves
        )
    )
    for w in left:
        print(
            _(MSG["warning"]).format(
                id=w["id"],
                rule=w["rule"],
                where=w["path"],
                message=localise(w["message"], current()),
                todo=localise(w["todo"], current()),
            ),
            file=sys.stderr,
        )
    return 0


def _show(args: argparse.Namespace, archive: Any, person: Any, now: dt.datetime) -> int:
    from interop.casework.acting import may_work_on
    from interop.casework.show import case_summary, summary_text

    may_work_on(archive, person, "case.view", args.case, unassigned=False)
    summary = case_summary(archive, args.case, now)
    print(json.dumps(summary, ensure_ascii=False) if args.json else summary_text(summary))
    return 0


def _signoff(args: argparse.Namespace, archive: Any, person: Any) -> int:
    from interop.casework.case_steps import signoff

    rows = signoff(archive, args.case, args.issues, person, args.reason)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    for r in rows:
        print(
            _(MSG["signed"]).format(case=args.case, id=r["id"], rule=r["rule"], who=r["signed_by"])
        )
    return 0
