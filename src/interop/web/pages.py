"""The console's pages (zh-CN first): sign-in, 待办, 审批, 用途预览, 转介, 名单同步, 发件箱,
审计, 人员 and one's own account. Each is a handler of :func:`interop.web.app.page` with
the action of the policy table it needs; the library does the work."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from interop._errors import AccessDenied, AuthenticationError, InputError, InteropError
from interop.exchange import review
from interop.privacy import audit
from interop.staff.accounts import Accounts
from interop.staff.identity import may_see_case
from interop.staff.policy import allowed, case_scope
from interop.staff.register import ROLES, qualification, screening
from interop.store.case_warnings import CaseWarnings
from interop.web.app import Ctx, page, render
from interop.web.reminders import reminders_of
from interop.web.render import readable_bundle
from interop.web.security import (
    LANG_COOKIE,
    PRESIGN_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    cookie_args,
)

__all__ = ["routes"]


def _back(path: str, note: str | None = None) -> RedirectResponse:
    """After a form: back to a page (303: the browser fetches it with GET)."""
    return RedirectResponse(path + (f"?done={note}" if note else ""), status_code=303)


# -- signing in and out -------------------------------------------------------


async def signin(request: Request) -> Response:
    console = request.app.state.console
    secure = console.secure
    if request.method == "GET":
        token = secrets.token_urlsafe(24)
        resp = render(request, "signin.html", presign=token, failed=None)
        resp.set_cookie(PRESIGN_COOKIE, token, max_age=1800, **cookie_args(secure))
        return resp
    async with request.form(max_files=0, max_fields=10) as data:
        form = {k: v for k, v in data.items() if isinstance(v, str)}
    try:
        check_csrf(request.cookies.get(PRESIGN_COOKIE), form.get("presign"))
        staff_id = form.get("staff_id", "").strip()
        password = form.get("password", "")

        def start() -> tuple[str, str]:
            accounts: Accounts = console.accounts
            return accounts.start_session(accounts.authenticate(staff_id, password))

        secret, _csrf = await run_in_threadpool(start)
    except (AuthenticationError, AccessDenied) as exc:
        token = secrets.token_urlsafe(24)
        status = 403 if isinstance(exc, AccessDenied) else 401
        resp = render(request, "signin.html", status, presign=token, failed=exc.message)
        resp.set_cookie(PRESIGN_COOKIE, token, max_age=1800, **cookie_args(secure))
        return resp
    done = RedirectResponse("/", status_code=303)
    done.set_cookie(SESSION_COOKIE, secret, **cookie_args(secure))
    done.delete_cookie(PRESIGN_COOKIE, path="/")
    return done


@page("self.manage")
def signout(ctx: Ctx) -> Response:
    secret = ctx.request.cookies.get(SESSION_COOKIE)
    if secret:
        ctx.console.accounts.end_session(secret)
    resp = RedirectResponse("/signin", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


async def choose_language(request: Request) -> Response:
    to = "en" if request.query_params.get("to") == "en" else "zh_CN"
    resp = RedirectResponse("/", status_code=303)
    resp.set_cookie(LANG_COOKIE, to, max_age=365 * 86400, **cookie_args(False))
    return resp


@page("self.manage")
def home(ctx: Ctx) -> Response:
    for path, action in (
        ("/approvals", "disclosure.review"),
        ("/due", "due.view"),
        ("/audit", "audit.view"),
        ("/staff", "staff.view"),
    ):
        if allowed(ctx.person, action):
            return RedirectResponse(path, status_code=303)
    return RedirectResponse("/account", status_code=303)


def _scope(ctx: Ctx) -> list[str] | None:
    """The cases the person sees (None: all of them)."""
    if case_scope(ctx.person):
        return None
    return ctx.console.register.cases_of(ctx.person.staff_id)


# -- 待办 ---------------------------------------------------------------------


@page("due.view")
def due(ctx: Ctx) -> Response:
    cases = _scope(ctx)
    q = ctx.console.queries
    return ctx.render(
        "due.html",
        reminders=reminders_of(ctx.console, ctx.person),
        reviews=q.open_reviews(cases=cases),
        warnings=CaseWarnings(ctx.console.archive).open(cases),  # awaiting sign-off
        scope_all=cases is None,
    )


# -- 审批 ---------------------------------------------------------------------


@page("disclosure.review")
def approvals(ctx: Ctx) -> Response:
    q = ctx.console.queries
    return ctx.render(
        "approvals.html",
        pending=q.disclosures(status="pending"),
        reviews=q.open_reviews(),
        done=ctx.request.query_params.get("done"),
    )


@page("disclosure.review")
def approval(ctx: Ctx) -> Response:
    d = ctx.console.discloser.get(ctx.request.path_params["id"])
    return ctx.render(
        "approval.html",
        d=d,
        own=d.requester == ctx.person.staff_id,
        bundle=readable_bundle(d.bundle),
    )


@page("disclosure.approve")
def approve(ctx: Ctx) -> Response:
    d, _handover = ctx.console.approve(ctx.person, ctx.request.path_params["id"])
    return _back("/approvals", d.status)


@page("disclosure.reject")
def reject(ctx: Ctx) -> Response:
    reason = ctx.form.get("reason", "").strip()
    if not reason:
        raise InputError("a rejection needs a reason", code="E608")
    d = review.reject(ctx.console.discloser, ctx.person, ctx.request.path_params["id"], reason)
    return _back("/approvals", d.status)


# -- 用途预览 ------------------------------------------------------------------


@page("preview.view")
def preview(ctx: Ctx) -> Response:
    case = ctx.request.query_params.get("case", "").strip()
    rows: list[dict[str, Any]] = []
    if case:
        if not may_see_case(ctx.console.archive, ctx.person, case):
            raise AccessDenied("you are not staff of this case", code="E822")
        d = ctx.console.discloser
        for partner in ctx.console.config.partners.values():
            for purpose in d.policies.purposes():
                if d.policies.find(purpose, partner.kind) is None:
                    continue
                try:
                    got = d.request(
                        case,
                        purpose=purpose,
                        partner=partner.name,
                        requester=ctx.person.staff_id,
                        dry_run=True,
                    )
                except InteropError as exc:
                    rows.append(
                        {
                            "partner": partner.name,
                            "purpose": purpose,
                            "status": "refused",
                            "reasons": [exc.message],
                            "elements": [],
                        }
                    )
                    continue
                rows.append(
                    {
                        "partner": partner.name,
                        "purpose": purpose,
                        "status": got.status,
                        "reasons": got.reasons,
                        "elements": got.elements,
                    }
                )
    return ctx.render("preview.html", case=case, rows=rows)


# -- 名单同步 ------------------------------------------------------------------


@page("sync.view")
def sync(ctx: Ctx) -> Response:
    q = ctx.console.queries
    runs = q.sync_runs()
    run_id = ctx.request.query_params.get("run") or (runs[0]["run_id"] if runs else None)
    running = ctx.console.jobs
    return ctx.render(
        "sync.html",
        runs=runs,
        run_id=run_id,
        rows=q.quarantine(run_id) if run_id else [],
        feeds=running.feed_states() if running is not None else [],
    )


# -- 发件箱 -------------------------------------------------------------------


@page("outbox.view")
def outbox(ctx: Ctx) -> Response:
    box = ctx.console.outbox
    items = [i.summary() for i in box.items()]
    partners = sorted({i["partner"] for i in items} | set(ctx.console.config.partners))
    return ctx.render(
        "outbox.html",
        counts=box.counts(),
        dead=[i for i in items if i["status"] == "dead"],
        queued=[i for i in items if i["status"] in ("pending", "sending")][-200:],
        paused=box.paused(),
        partners=partners,
        may_operate=allowed(ctx.person, "outbox.operate"),
        done=ctx.request.query_params.get("done"),
    )


@page("outbox.operate")
def outbox_retry(ctx: Ctx) -> Response:
    # A referral goes again only if the current purpose policy still lets out what was approved.
    item = ctx.console.referrals.replay(ctx.request.path_params["id"])
    return _back("/outbox", item.status)


@page("jobs.view")
def jobs(ctx: Ctx) -> Response:
    running = ctx.console.jobs
    return ctx.render("jobs.html", jobs=running.states() if running is not None else None)


@page("outbox.operate")
def outbox_pause(ctx: Ctx) -> Response:
    partner = ctx.request.path_params["partner"]
    if ctx.form.get("resume"):
        ctx.console.outbox.resume(partner)
        return _back("/outbox", "resumed")
    ctx.console.outbox.pause(partner, ctx.form.get("reason") or f"paused by {ctx.person.staff_id}")
    return _back("/outbox", "paused")


# -- 审计 ---------------------------------------------------------------------


@page("audit.view")
def audit_page(ctx: Ctx) -> Response:
    p = ctx.request.query_params
    before = p.get("before")
    rows = ctx.console.queries.audit_page(
        before=int(before) if before and before.isdigit() else None,
        case_number=p.get("case") or None,
        action=p.get("action") or None,
        actor=p.get("actor") or None,
    )
    verified = None
    if p.get("verify"):
        with ctx.console.archive.engine.connect() as conn:
            count, broken = audit.verify(conn)
        verified = {"count": count, "broken": broken}
    return ctx.render("audit.html", rows=rows, verified=verified, filters=dict(p))


@page("audit.view")
def audit_event(ctx: Ctx) -> Response:
    seq = int(ctx.request.path_params["seq"])
    row = ctx.console.queries.audit_row(seq)
    if row is None:
        raise InputError(f"no audit row {seq}", code="E831")
    disclosure = None
    if row["disclosure_id"] and allowed(ctx.person, "disclosure.review"):
        disclosure = ctx.console.discloser.get(row["disclosure_id"])
    return ctx.render(
        "audit_event.html",
        row=row,
        d=disclosure,
        bundle=readable_bundle(disclosure.bundle) if disclosure else None,
    )


# -- 人员 ---------------------------------------------------------------------


@page("staff.view")
def staff(ctx: Ctx) -> Response:
    reg = ctx.console.register
    people = reg.all()
    for p in people:
        p["active"] = reg.is_active(p)
    return ctx.render(
        "staff.html",
        people=people,
        tokens=ctx.console.accounts.store.tokens(),
        roles=ROLES,
        may_manage=allowed(ctx.person, "staff.manage"),
        done=ctx.request.query_params.get("done"),
    )


@page("staff.manage")
def staff_add(ctx: Ctx) -> Response:
    f = ctx.form
    quals = [
        qualification(c.strip(), f.get("qual_date", ""))
        for c in f.get("qualifications", "").split(",")
        if c.strip()
    ]
    screens = [screening(f["screening_date"], "passed")] if f.get("screening_date") else []
    roles = [r for r in ROLES if f.get(f"role_{r}")]
    ctx.console.register.add(
        f.get("staff_id", "").strip(),
        f.get("name", ""),
        roles,
        qualifications=quals,
        screening=screens,
    )
    if f.get("password"):
        ctx.console.accounts.set_password(f["staff_id"].strip(), f["password"])
    return _back("/staff", "added")


@page("staff.manage")
def staff_deactivate(ctx: Ctx) -> Response:
    ctx.console.register.deactivate(ctx.request.path_params["id"])
    return _back("/staff", "deactivated")


@page("staff.manage")
def token_revoke_any(ctx: Ctx) -> Response:
    ctx.console.accounts.revoke_token(ctx.request.path_params["id"])
    return _back("/staff", "revoked")


# -- one's own account ----------------------------------------------------------


@page("self.manage")
def account(ctx: Ctx) -> Response:
    return ctx.render(
        "account.html",
        me=ctx.console.register.get(ctx.person.staff_id),
        tokens=ctx.console.accounts.store.tokens(ctx.person.staff_id),
        new_token=None,
        done=ctx.request.query_params.get("done"),
    )


@page("self.manage")
def account_password(ctx: Ctx) -> Response:
    f = ctx.form
    if f.get("new", "") != f.get("again", ""):
        raise InputError("the two new passwords differ", code="E832")
    ctx.console.accounts.change_password(ctx.person.staff_id, f.get("old", ""), f.get("new", ""))
    return _back("/account", "password")


@page("self.manage")
def account_token(ctx: Ctx) -> Response:
    days = ctx.form.get("days", "90")
    secret, _row = ctx.console.accounts.issue_token(
        ctx.person.staff_id,
        label=ctx.form.get("label") or "console",
        days=int(days) if days.isdigit() else 90,
    )
    return ctx.render(
        "account.html",
        me=ctx.console.register.get(ctx.person.staff_id),
        tokens=ctx.console.accounts.store.tokens(ctx.person.staff_id),
        new_token=secret,
        done=None,
    )


@page("self.manage")
def account_token_revoke(ctx: Ctx) -> Response:
    token_id = ctx.request.path_params["id"]
    mine = {k["id"] for k in ctx.console.accounts.store.tokens(ctx.person.staff_id)}
    if token_id not in mine:
        raise AccessDenied("not your token", code="E821")
    ctx.console.accounts.revoke_token(token_id)
    return _back("/account", "revoked")


def routes() -> list[Route]:
    post = ["POST"]
    return [
        Route("/signin", signin, methods=["GET", "POST"]),
        Route("/signout", signout, methods=post),
        Route("/lang", choose_language),
        Route("/", home),
        Route("/due", due),
        Route("/approvals", approvals),
        Route("/approvals/{id}", approval),
        Route("/approvals/{id}/approve", approve, methods=post),
        Route("/approvals/{id}/reject", reject, methods=post),
        Route("/preview", preview),
        Route("/sync", sync),
        Route("/outbox", outbox),
        Route("/outbox/{id}/retry", outbox_retry, methods=post),
        Route("/outbox/partners/{partner}", outbox_pause, methods=post),
        Route("/jobs", jobs),
        Route("/audit", audit_page),
        Route("/audit/{seq:int}", audit_event),
        Route("/staff", staff),
        Route("/staff/add", staff_add, methods=post),
        Route("/staff/{id}/deactivate", staff_deactivate, methods=post),
        Route("/staff/tokens/{id}/revoke", token_revoke_any, methods=post),
        Route("/account", account),
        Route("/account/password", account_password, methods=post),
        Route("/account/tokens", account_token, methods=post),
        Route("/account/tokens/{id}/revoke", account_token_revoke, methods=post),
    ]
