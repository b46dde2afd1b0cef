"""``case show``: one case at a glance — state, risk, staff, deadlines, consents,
referrals and what the hospitals sent back, last sessions, crises and the issues
recorded with its steps.

No personal data: the child appears by age and sex code only; staff and adults by
their record ids.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from interop.casework.due import referral_clocks
from interop.casework.steps import load_record, opened
from interop.core.casechecks import active_plan, state_issues
from interop.core.casedeadlines import CaseDeadlines
from interop.core.casestates import STATES, episode_status, state_name
from interop.core.workdays import CHINA_TZ, WorkCalendar
from interop.fhir.terminology import Terminology
from interop.i18n import N_, _, current
from interop.i18n.templates import localise
from interop.store import Archive
from interop.store.case_warnings import CaseWarnings
from interop.store.casework import CaseWork

#: How many of the latest sessions the summary lists.
LAST_SESSIONS = 3


def _age(birth: str, on: dt.date) -> int:
    y, m = int(birth[:4]), int(birth[5:7])
    d = int(birth[8:10]) if len(birth) >= 10 else 1
    return on.year - y - ((on.month, on.day) < (m, d))


def case_summary(
    db: str | Archive | None,
    case_number: str,
    now: dt.datetime,
    calendar: WorkCalendar | None = None,
) -> dict[str, Any]:
    """The summary of a case as a JSON-ready dict."""
    terms = Terminology.load()
    with opened(db) as archive:
        work = CaseWork(archive)
        version, rec = load_record(work, case_number, terms)
        steps = work.steps(case_number)
        clocks = referral_clocks(work).get(case_number, [])
        warnings = CaseWarnings(archive).of_case(case_number)
    today = now.astimezone(CHINA_TZ).date()
    c = rec.case
    plan = active_plan(rec)
    due = CaseDeadlines(calendar or WorkCalendar.load()).items(rec, clocks)
    issues = [f.as_dict() for f in state_issues(rec)]
    for s in steps[-5:]:
        issues += [{**f, "step": s["action"]} for f in s["findings"]]
    return {
        "case": c.case_number,
        "version": version,
        "state": c.state,
        "state_name": state_name(c.state),
        "episode_status": episode_status(c.state) if c.state in STATES else None,
        "risk": c.risk_level,
        "child": {"age": _age(rec.child.birth_date, today), "sex": rec.child.sex},
        "staff": {
            "care_manager": c.care_manager,
            "supervisor": c.supervisor,
            "worker_changes": len(rec.worker_changes),
        },
        "plan": None
        if plan is None
        else {
            "version": plan.version,
            "planned_sessions": plan.planned_session_count,
            "period": [plan.period_start, plan.period_end],
        },
        "sessions": {
            "finished": rec.finished_session_count,
            "recorded": len(rec.sessions),
            "last": [
                {
                    "number": s.number,
                    "date": s.start[:10],
                    "minutes": s.minutes,
                    "location": s.location,
                    "attendance": s.attendance,
                }
                for s in sorted(rec.sessions, key=lambda s: s.start)[-LAST_SESSIONS:]
            ],
        },
        "consents": [{"topic": x.topic, "status": x.status, "date": x.date} for x in rec.consents],
        "referrals": [{"trigger": r.trigger, "state": r.state} for r in clocks],
        # What hospitals sent back (转介反馈), each filed as its own version (9.2).
        "referral_outcomes": [
            {
                "referral": o.referral,
                "source": o.source,
                "type": o.resource_type,
                "reference": o.reference,
                "received_at": o.received_at,
            }
            for o in rec.referral_outcomes
        ],
        "crises": [
            {"id": x.id, "type": x.type, "status": x.status, "detected": x.detected_at}
            for x in rec.crises
        ],
        "midterms": [{"date": m.date, "outcome": m.outcome} for m in rec.midterms],
        "closure_reason": c.closure_reason,
        "deadlines": [d.as_dict(now) for d in due],
        "issues": issues,
        "warnings": [_warning(w) for w in warnings],
        "steps": [
            {k: s[k] for k in ("version", "action", "from", "to", "transitions", "at")}
            for s in steps
        ],
    }


def _warning(w: dict[str, Any]) -> dict[str, Any]:
    """A warning of a step as the summary shows it (open, or signed off by whom and why)."""
    keys = ("id", "version", "action", "rule", "path", "message", "todo", "author")
    out = {k: w[k] for k in keys}
    out["recorded_at"] = w["recorded_at"]
    out["open"] = w["signed_by"] is None
    out["signed_off"] = (
        None
        if w["signed_by"] is None
        else {"by": w["signed_by"], "at": w["signed_at"], "reason": w["reason"]}
    )
    return out


def _row(label: str, rest: str) -> str:
    """One line of the summary: its label (said in the current language) in a column."""
    said = _(label)
    wide = sum(unicodedata.east_asian_width(ch) in "WF" for ch in said)  # (two columns each)
    return f"  {said}{' ' * max(0, 9 - len(said) - wide)} {rest}"


def summary_text(s: dict[str, Any]) -> str:
    """The summary as lines for a terminal, its labels in the command's language (the
    codes, record ids and requirement IDs kept as they are)."""
    none = _("none")
    lines = [
        _("case {case} (version {version})").format(case=s["case"], version=s["version"]),
        _row(
            N_("state"),
            _("{state} ({name})   risk {risk}").format(
                state=s["state"], name=s["state_name"], risk=s["risk"] or "-"
            ),
        ),
        _row(
            N_("child"),
            _("age {age}, sex code {sex}").format(age=s["child"]["age"], sex=s["child"]["sex"]),
        ),
        _row(
            N_("staff"),
            _(
                "care manager {care_manager}, supervisor {supervisor}, {changes} worker change(s)"
            ).format(
                care_manager=s["staff"]["care_manager"] or "-",
                supervisor=s["staff"]["supervisor"] or "-",
                changes=s["staff"]["worker_changes"],
            ),
        ),
    ]
    if s["plan"]:
        p = s["plan"]
        lines.append(
            _row(
                N_("plan"),
                _("v{version}: {planned} sessions planned, {start} to {end}").format(
                    version=p["version"],
                    planned=p["planned_sessions"],
                    start=p["period"][0],
                    end=p["period"][1],
                ),
            )
        )
    ses = s["sessions"]
    lines.append(
        _row(
            N_("sessions"),
            _("{finished} finished of {recorded} recorded").format(
                finished=ses["finished"], recorded=ses["recorded"]
            ),
        )
    )
    for x in ses["last"]:
        lines.append(
            "            " + _("#{number} {date} {minutes} min {location} {attendance}").format(**x)
        )
    consents = ", ".join(f"{x['topic']} {x['status']} {x['date']}" for x in s["consents"])
    lines.append(_row(N_("consents"), consents or none))
    refs = ", ".join(f"{r['trigger']} {r['state']}" for r in s["referrals"])
    lines.append(_row(N_("referrals"), refs or none))
    for o in s["referral_outcomes"]:
        lines.append(
            "            "
            + _("outcome {type} {reference} from {source} ({referral}), received {on}").format(
                type=o["type"],
                reference=o["reference"],
                source=o["source"],
                referral=o["referral"],
                on=o["received_at"][:10],
            )
        )
    crises = ", ".join(f"{c['id']} {c['type']} {c['status']}" for c in s["crises"])
    lines.append(_row(N_("crises"), crises or none))
    if s["closure_reason"]:
        lines.append(_row(N_("closure"), s["closure_reason"]))
    lines.append("  " + (_("deadlines") if s["deadlines"] else _("deadlines none open")))
    for d in s["deadlines"]:
        flag = " " + _("OVERDUE") if d["overdue"] else ""
        prov = " " + _("(provisional)") if d["provisional"] else ""
        lines.append(f"    {d['rule']} {d['deadline']} {d['event']}{flag}{prov}")
    if s["issues"]:
        lines.append("  " + _("issues"))
        for i in s["issues"]:
            said = localise(i["message"], current())  # (the rule in the command's language)
            lines.append(f"    {i['rule']} ({i['severity']}) {i['where']}: {said}")
    if s["warnings"]:
        lines.append("  " + _("warnings (supervisor sign-off)"))
        for w in s["warnings"]:
            so = w["signed_off"]
            status = (
                _("OPEN")
                if so is None
                else _("signed off by {by} {at}: {reason}").format(
                    by=so["by"], at=so["at"], reason=so["reason"]
                )
            )
            lines.append(
                "    "
                + _("#{id} v{version} {action} {rule} {path} (by {author}): {status}").format(
                    id=w["id"],
                    version=w["version"],
                    action=w["action"],
                    rule=w["rule"],
                    path=w["path"],
                    author=w["author"] or "-",
                    status=status,
                )
            )
    return "\n".join(lines)
