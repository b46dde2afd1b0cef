"""The console's case pages (个案): the list of one's cases, a case at a glance — state,
risk, staff, deadlines, consents, referrals, last sessions, rule warnings and their
sign-off — and one form page per step of DB36/T 2143. Every step goes through
:func:`interop.casework.case_steps.record`, as from the CLI and the API: the page only
turns fields into the step's input. A refused step shows its rule ID and what to do
(409; unusable input 422); a recorded one returns to the case with its warnings shown.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from interop._errors import AccessDenied, InteropError, StepRefused
from interop.casework import case_steps
from interop.casework.acting import may_work_on
from interop.casework.show import case_summary
from interop.casework.step_input import STEPS, input_schema, spec
from interop.core.casestates import actions, allowed_from
from interop.staff.policy import allowed, case_scope
from interop.store.casework import CaseWork
from interop.web.app import Ctx, page
from interop.web.case_api import now_of, status_of
from interop.web.step_form import Field, fields_of, input_of

__all__ = ["routes"]

#: Fields the page fills in itself (the step numbers them; the signed-in person signs).
_SKIP = frozenset({"id", "number", "version", "status"})


def _may(ctx: Ctx, step: str) -> bool:
    return allowed(ctx.person, spec(step).action)


@page("case.view")
def cases(ctx: Ctx) -> Response:
    mine = None if case_scope(ctx.person) else ctx.console.register.cases_of(ctx.person.staff_id)
    return ctx.render("cases.html", cases=CaseWork(ctx.console.archive).listing(mine))


@page("case.view")
def case(ctx: Ctx) -> Response:
    number = ctx.request.path_params["case"]
    may_work_on(ctx.console.archive, ctx.person, "case.view", number, unassigned=False)
    return _case_page(ctx, number)


def _case_page(ctx: Ctx, number: str, status: int = 200, **extra: Any) -> Response:
    summary = case_summary(ctx.console.archive, number, now_of(ctx.console))
    possible = {a for a in actions() if summary["state"] in allowed_from(a)}
    steps = [s for s in STEPS if _may(ctx, s) and _possible(s, possible)]
    return ctx.render(
        "case.html",
        status,
        s=summary,
        steps=steps,
        may_sign=allowed(ctx.person, "case.signoff"),
        done=ctx.request.query_params.get("done"),
        **extra,
    )


def _possible(step: str, actions: set[str]) -> bool:
    """Whether the state machine offers the step now (the page lists only those)."""
    wanted = {
        "intake": {"assign"},
        "crisis-update": {"crisis-update"},
        "close": {"close", "closing", "not-accept", "refer-out"},
        "request": {"adjustment-request", "pause", "terminate"},
        "transfer": {"transfer", "reassign"},
        "plan": {"plan", "adjust-plan"},
    }.get(step, {step})
    return bool(wanted & actions)


def _fields(step: str) -> list[Field]:
    return fields_of(input_schema(step), _SKIP)


@page("case.view")
def step_form(ctx: Ctx) -> Response:
    number, step = ctx.request.path_params["case"], ctx.request.path_params["step"]
    s = spec(step)
    may_work_on(ctx.console.archive, ctx.person, s.action, number, unassigned=step == "intake")
    fields = _fields(step)
    if ctx.request.method == "GET":
        values = {"staff": ctx.person.staff_id} if step == "session" else {}
        return ctx.render("case_step.html", case=number, step=s, fields=fields, values=values)
    values = dict(ctx.form)
    try:
        data = input_of(fields, ctx.form)
        outcome, _open = case_steps.record(
            ctx.console.archive, number, step, data, ctx.person, now=now_of(ctx.console)
        )
    except AccessDenied:
        raise
    except InteropError as exc:
        findings = [f.as_dict() for f in exc.findings] if isinstance(exc, StepRefused) else []
        return ctx.render(
            "case_step.html",
            status_of(exc),
            case=number,
            step=s,
            fields=fields,
            values=values,
            error={"code": exc.code, "message": exc.message, "findings": findings},
        )
    return RedirectResponse(f"/cases/{number}?done={outcome.version}", status_code=303)


@page("case.signoff")
def signoff(ctx: Ctx) -> Response:
    number = ctx.request.path_params["case"]
    issue = ctx.form.get("issue", "")
    ids = [int(issue)] if issue.isdigit() else []
    try:
        case_steps.signoff(ctx.console.archive, number, ids, ctx.person, ctx.form.get("reason", ""))
    except AccessDenied:
        raise
    except InteropError as exc:
        return _case_page(
            ctx, number, status_of(exc), error={"code": exc.code, "message": exc.message}
        )
    return RedirectResponse(f"/cases/{number}?done=signoff", status_code=303)


def routes() -> list[Route]:
    both = ["GET", "POST"]
    return [
        Route("/cases", cases),
        Route("/cases/{case}", case),
        Route("/cases/{case}/signoff", signoff, methods=["POST"]),
        Route("/cases/{case}/{step}", step_form, methods=both),
    ]
