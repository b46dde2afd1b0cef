"""``interop case ACTION CASE`` — record one step of a case, or show it.

Each step makes a new version of the case record (nothing overwritten, 9.4.3) after
the state machine (§3.3) and the rules of the standard have been checked. Forms
(Annex A–D, mid-term, crisis) are JSON or TOML files checked against their JSON
Schema (``interop/schemas/forms/``). Exit 0: recorded (warnings printed); 1: refused
by the state machine (E250) or a blocking rule (E251), with the rule and what to do;
2: unusable input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from interop._errors import InputError
from interop.core.adjustment import AdjustmentRequest, WorkerChange
from interop.core.case import Signature
from interop.core.contact import Contact
from interop.core.workdays import CHINA_TZ

NAME = "case"
HELP = (
    "record a step of a case (intake, assess, plan, session, midterm, crisis, close …) or show it"
)

#: Operator messages of this command (plain English, one place).
MSG = {
    "recorded": "case {case}: {action} recorded as version {version}: {moves}",
    "warning": "warning {rule} {where}: {message} — {todo}",
    "need_form_or": "give --form FILE or {flags}",
    "date": "{flag}: not a date YYYY-MM-DD",
    "datetime": "{flag}: not a date-time YYYY-MM-DDThh:mm[:ss]+08:00",
}

#: action → (help, form name or None)
ACTIONS: dict[str, tuple[str, str | None]] = {
    "show": ("summary of a case: state, risk, staff, deadlines, consents, referrals", None),
    "intake": ("assign the worker to a listed child (T-02; CL-04 caseload)", None),
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
    "transfer": ("change the case manager with the recipient's agreement (T-21)", None),
    "contact": ("log a regular contact with family, school or village (DL-13)", None),
    "close": (
        "close the case: Annex D, or a reason before service (T-16/T-17, T-03/T-04)",
        "annex-d",
    ),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="case_action", metavar="ACTION", required=True)
    for action, (help_text, form) in ACTIONS.items():
        p = sub.add_parser(action, help=help_text, description=help_text)
        p.add_argument("case", metavar="CASE", help="case number (个案编号)")
        p.add_argument("--json", action="store_true", help="print the result as JSON")
        p.add_argument("--as-of", metavar="DATE", help=argparse.SUPPRESS)  # tests: fixed today
        if form:
            p.add_argument("--form", metavar="FILE", help=f"the {form} form (JSON or TOML)")
    _flags(sub.choices)


def _flags(p: dict[str, argparse.ArgumentParser]) -> None:
    p["intake"].add_argument("--worker", required=True, metavar="STAFF", help="care manager id")
    p["intake"].add_argument("--date", required=True, help="intake date (A-24)")
    p["intake"].add_argument(
        "--staff-file",
        metavar="FILE",
        help="the organisation's staff list (JSON or TOML, [[staff]] entries as in the case "
        "record): the worker and supervisors join the case from it",
    )
    p["review"].add_argument("--supervisor", required=True, metavar="STAFF")
    p["review"].add_argument("--date", required=True)
    p["agreement"].add_argument("--date", required=True, help="agreement signed (DL-01 starts)")
    p["agreement"].add_argument("--end", help="end of the agreement period (DL-14)")
    for flag in ("--start", "--end"):
        p["session"].add_argument(flag, help="overrides the form's " + flag[2:])
    p["midterm"].add_argument("--supervisor", metavar="STAFF")
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
    c.add_argument("--by", metavar="STAFF", help="who detected it")
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
    t.add_argument("--worker", required=True, metavar="STAFF", help="the new care manager")
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


def _form(args: argparse.Namespace, name: str) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    from interop.casework.steps import read_form

    return read_form(args.form, name) if getattr(args, "form", None) else ({}, {})


def _require(data: dict[str, Any], names: list[str], flags: str) -> None:
    if any(data.get(n) is None for n in names):
        raise InputError(MSG["need_form_or"].format(flags=flags), code="E252")


def _today(args: argparse.Namespace) -> dt.date:
    if args.as_of:
        d = _date(args.as_of, "--as-of")
        assert d is not None
        return dt.date.fromisoformat(d)
    return dt.datetime.now(CHINA_TZ).date()


def _step(args: argparse.Namespace) -> Any:
    """The function of a Stepper that performs the chosen action."""
    a = args.case_action
    if a == "intake":
        from interop.casework.steps import read_staff

        worker, date = args.worker, _date(args.date, "--date")
        staff = read_staff(args.staff_file) if args.staff_file else []
        return lambda st: st.assign(worker, date, staff)
    if a == "assess":
        data, extras = _form(args, "annex-a")
        _require(data, ["assessment_date"], "(Annex A has no flags: --form is needed)")
        return lambda st: st.assess(data, extras)
    if a == "review":
        sup, date = args.supervisor, _date(args.date, "--date")
        return lambda st: st.review(sup, date)
    if a == "agreement":
        date, end = _date(args.date, "--date"), _date(args.end, "--end")
        return lambda st: st.agreement(date, end)
    if a == "plan":
        data, extras = _form(args, "annex-b")
        _require(data, ["created"], "(Annex B has no flags: --form is needed)")
        return lambda st: st.plan(data, extras)
    if a == "session":
        data, _ = _form(args, "annex-c")
        for key in ("start", "end"):
            if getattr(args, key):
                data[key] = _datetime(getattr(args, key), f"--{key}")
        _require(data, ["start", "end"], "(Annex C: --form is needed)")
        return lambda st: st.session(data)
    if a == "midterm":
        data, _ = _form(args, "midterm")
        flags = {
            "supervisor": args.supervisor,
            "date": _date(args.date, "--date"),
            "outcome": args.outcome,
            "effect": args.effect,
        }
        data.update({k: v for k, v in flags.items() if v is not None})
        _require(
            data,
            ["supervisor", "date", "outcome", "effect"],
            "--supervisor --date --outcome --effect",
        )
        return lambda st: st.midterm(data)
    if a == "crisis":
        return _crisis(args)
    if a == "request":
        req = AdjustmentRequest(
            id=f"request-{_date(args.received, '--received')}-{args.type}",
            type=args.type,
            received=_date(args.received, "--received") or "",
            reported=_date(args.reported, "--reported"),
            completed=_date(args.completed, "--completed"),
            child_views=args.child_views,
        )
        return lambda st: st.adjustment(req)
    if a == "resume":
        date = _date(args.date, "--date")
        return lambda st: st.resume(date)
    if a == "transfer":
        date = _date(args.date, "--date") or ""
        agreement = Signature(signer=args.agreed_by, date=date) if args.agreed_by else None
        change = WorkerChange(
            date=date, to_worker=args.worker, reason=args.reason, agreement=agreement
        )
        return lambda st: st.transfer(change)
    if a == "contact":
        contact = Contact(
            date=_date(args.date, "--date") or "",
            party=args.party,
            channel=args.channel,
            summary=args.summary,
        )
        return lambda st: st.contact(contact)
    data_d, extras_d = _form(args, "annex-d")
    date = _date(args.date, "--date") or data_d.get("date") or _today(args).isoformat()
    form_data = data_d if args.form else None
    reason, given = args.reason, args.resources_given
    return lambda st: st.close(reason, date, form_data, extras_d, given)


def _crisis(args: argparse.Namespace) -> Any:
    if args.stabilise or args.resolve:
        at = _datetime(args.at, "--at") or dt.datetime.now(CHINA_TZ).isoformat(timespec="seconds")
        changes: dict[str, Any] = {
            "status": "resolved" if args.resolve else "stabilised",
            "reliable_carer": args.carer,
            "reported_to_commissioner_at": _datetime(args.reported_at, "--reported-at"),
            "safety_assessment": args.safety,
        }
        changes["resolved_at" if args.resolve else "stabilised_at"] = at
        cid = args.id
        return lambda st: st.crisis_update(cid, changes)
    data, _ = _form(args, "crisis")
    flags = {
        "type": args.type,
        "detected_at": _datetime(args.detected_at, "--detected-at"),
        "detected_by": args.by,
        "safety_assessment": args.safety,
        "reported_to_commissioner_at": _datetime(args.reported_at, "--reported-at"),
        "reliable_carer": args.carer,
    }
    data.update({k: v for k, v in flags.items() if v is not None})
    _require(data, ["type", "detected_at", "detected_by"], "--type --detected-at --by")
    return lambda st: st.crisis(data)


def run(args: argparse.Namespace) -> int:
    if args.case_action == "show":
        from interop.casework.show import case_summary, summary_text

        today = _today(args)
        now = dt.datetime.combine(today, dt.time(12, 0), tzinfo=CHINA_TZ)
        summary = case_summary(args.db, args.case, now)
        print(json.dumps(summary, ensure_ascii=False) if args.json else summary_text(summary))
        return 0
    from interop.casework.steps import record_step

    action = "assign" if args.case_action == "intake" else args.case_action
    outcome = record_step(args.db, args.case, action, _step(args), today=_today(args))
    if args.json:
        print(json.dumps(outcome.as_dict(), ensure_ascii=False))
        return 0
    moves = f"{outcome.from_state} → {outcome.state}"
    if outcome.transitions:
        moves += f" ({', '.join(outcome.transitions)})"
    print(
        MSG["recorded"].format(
            case=outcome.case_number, action=args.case_action, version=outcome.version, moves=moves
        )
    )
    for w in outcome.warnings:
        print(MSG["warning"].format(**{**w, "rule": w["rule"]}), file=sys.stderr)
    return 0
