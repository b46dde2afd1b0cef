"""The JSON API under ``/api/``: the console's actions for scripts, with a personal API
token (``Authorization: Bearer itk_…``). The same policy table decides (deny by default)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from interop._errors import AccessDenied, InputError
from interop.exchange import review
from interop.staff.identity import may_see_case
from interop.staff.policy import case_scope
from interop.staff.register import SignedIn
from interop.store.case_warnings import CaseWarnings
from interop.web.app import api
from interop.web.context import Console

__all__ = ["routes"]

Body = dict[str, Any]


@api("self.manage")
def me(request: Request, console: Console, person: SignedIn, body: Body) -> Any:
    return {"staff_id": person.staff_id, "roles": sorted(person.roles)}


@api("due.view")
def due(request: Request, console: Console, person: SignedIn, body: Body) -> Any:
    cases = None if case_scope(person) else console.register.cases_of(person.staff_id)
    return {
        "waiting": console.queries.waiting(cases=cases),
        "reviews": console.queries.open_reviews(cases=cases),
        "warnings": CaseWarnings(console.archive).open(cases),  # awaiting sign-off
    }


@api("disclosure.review")
def disclosures(request: Request, console: Console, person: SignedIn, body: Body) -> Any:
    status = request.query_params.get("status") or None
    return console.queries.disclosures(status=status)


@api("disclosure.review")
def disclosure(request: Request, console: Console, person: SignedIn, body: Body) -> Any:
    d = console.discloser.get(request.path_params["id"])
    return {**d.summary(), "bundle": d.bundle}


@api("disclosure.approve")
def approve(request: Request, console: Console, person: SignedIn, body: Body) -> Any:
    d, handover = console.approve(
        person, request.path_params["id"], send=bool(body.get("send", True))
    )
    return {**d.summary(), **(handover.as_json() if handover else {})}


@api("disclosure.reject")
def reject(request: Request, console: Console, person: SignedIn, body: Body) -> Any:
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise InputError("a rejection needs a reason", code="E608")
    return review.reject(console.discloser, person, request.path_params["id"], reason).summary()


@api("referral.view")
def referrals(request: Request, console: Console, person: SignedIn, body: Body) -> Any:
    found = console.referrals.find()
    if not case_scope(person):
        mine = set(console.register.cases_of(person.staff_id))
        found = [r for r in found if r.case_number in mine]
    return [r.summary() for r in found]


@api("referral.view")
def referral(request: Request, console: Console, person: SignedIn, body: Body) -> Any:
    shown = console.referrals.show(request.path_params["id"])
    if not may_see_case(console.archive, person, shown["case_number"]):
        raise AccessDenied("you are not staff of this case", code="E822")
    return shown


@api("outbox.view")
def outbox(request: Request, console: Console, person: SignedIn, body: Body) -> Any:
    box = console.outbox
    status = request.query_params.get("status") or None
    return {
        "counts": box.counts(),
        "paused": box.paused(),
        "items": [i.summary() for i in box.items(status=status)],
    }


@api("outbox.operate")
def outbox_retry(request: Request, console: Console, person: SignedIn, body: Body) -> Any:
    return console.referrals.replay(request.path_params["id"]).summary()


@api("jobs.view")
def jobs(request: Request, console: Console, person: SignedIn, body: Body) -> Any:
    return console.jobs.states() if console.jobs is not None else []


@api("audit.view")
def audit(request: Request, console: Console, person: SignedIn, body: Body) -> Any:
    p = request.query_params
    before = p.get("before")
    return console.queries.audit_page(
        before=int(before) if before and before.isdigit() else None,
        case_number=p.get("case") or None,
        action=p.get("action") or None,
    )


@api("staff.view")
def staff(request: Request, console: Console, person: SignedIn, body: Body) -> Any:
    return [
        {k: v for k, v in p.items() if k != "name"} for p in console.register.all()
    ]  # names stay in the console and the register's JSON for administrators


def routes() -> list[Route]:
    post = ["POST"]
    return [
        Route("/api/me", me),
        Route("/api/due", due),
        Route("/api/disclosures", disclosures),
        Route("/api/disclosures/{id}", disclosure),
        Route("/api/disclosures/{id}/approve", approve, methods=post),
        Route("/api/disclosures/{id}/reject", reject, methods=post),
        Route("/api/referrals", referrals),
        Route("/api/referrals/{id}", referral),
        Route("/api/outbox", outbox),
        Route("/api/outbox/{id}/retry", outbox_retry, methods=post),
        Route("/api/audit", audit),
        Route("/api/jobs", jobs),
        Route("/api/staff", staff),
    ]
