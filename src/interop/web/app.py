"""What every console page and API call goes through (Starlette): who is asking, errors.

Every route is declared with the action of the policy table it needs
(:mod:`interop.staff.policy`); :func:`page` and :func:`api` resolve the person (session
cookie or bearer token), check the action — deny by default — and the CSRF token of a form,
then run the handler in a worker thread (the library is synchronous). Expected errors answer
with a plain message in the person's language: 401 not signed in, 403 not allowed, 409 the
step is not possible now, 400 unusable input. Nothing personal goes into a URL or a log line.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from interop._errors import AccessDenied, AuthenticationError, InputError, InteropError
from interop.i18n import translate
from interop.i18n.templates import localise
from interop.staff.policy import POLICY, allowed, require
from interop.staff.register import ROLES, SignedIn
from interop.web.context import Console
from interop.web.security import (
    LANG_COOKIE,
    SESSION_COOKIE,
    bearer,
    check_csrf,
)

__all__ = ["Ctx", "api", "page"]

log = logging.getLogger(__name__)

#: The console's sections in menu order: (path, action needed, title msgid).
NAV = [
    ("/due", "due.view", "To do"),
    ("/cases", "case.view", "Cases"),
    ("/approvals", "disclosure.review", "Approvals"),
    ("/preview", "preview.view", "Purpose preview"),
    ("/referrals", "referral.view", "Referrals"),
    ("/sync", "sync.view", "List sync"),
    ("/outbox", "outbox.view", "Outbox"),
    ("/audit", "audit.view", "Audit"),
    ("/staff", "staff.view", "Staff"),
    ("/jobs", "jobs.view", "Background jobs"),
    ("/account", "self.manage", "My account"),
]


@dataclass
class Ctx:
    """One request as a handler sees it."""

    request: Request
    console: Console
    person: SignedIn
    csrf: str
    lang: str
    form: dict[str, str]

    def _(self, message: str) -> str:
        return translate(message, self.lang)

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        return render(
            self.request,
            template,
            status,
            person=self.person,
            csrf=self.csrf,
            lang=self.lang,
            **values,
        )


_ENV: Environment | None = None


def templates() -> Environment:
    global _ENV
    if _ENV is None:
        _ENV = Environment(
            loader=PackageLoader("interop.web", "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        _ENV.filters["roles"] = _role_terms
    return _ENV


def _role_terms(roles: Any, lang: str) -> str:
    """Role codes as the standard's terms (zh_CN) or as codes (en)."""
    codes = sorted(roles)
    return "、".join(ROLES.get(r, r) for r in codes) if lang == "zh_CN" else ", ".join(codes)


def language(request: Request) -> str:
    """The console's language: the person's choice (cookie), else zh_CN (Chinese first)."""
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "zh_CN"


def render(
    request: Request,
    template: str,
    status: int = 200,
    *,
    person: SignedIn | None = None,
    csrf: str = "",
    lang: str | None = None,
    **values: Any,
) -> HTMLResponse:
    lang = lang or language(request)
    nav = [(p, t) for p, a, t in NAV if allowed(person, a)] if person else []
    html = (
        templates()
        .get_template(template)
        .render(
            _=lambda m: translate(m, lang),
            said=lambda m: localise(m, lang),  # a message made in English (a rule's finding)
            lang=lang,
            person=person,
            csrf=csrf,
            nav=nav,
            path=request.url.path,
            role_names=ROLES,
            **values,
        )
    )
    return HTMLResponse(html, status_code=status)


Handler = Callable[[Ctx], Response]


def _error_page(request: Request, exc: InteropError, status: int) -> Response:
    lang = language(request)
    return render(
        request,
        "error.html",
        status,
        lang=lang,
        message=translate(exc.message, lang),
        code=exc.code,
    )


#: Input errors that name something that is not there: no case in the archive (E602),
#: no disclosure (E604), no outbox delivery (E641) of the id asked for.
NOT_FOUND = frozenset({"E602", "E604", "E641"})


def _status(exc: InteropError) -> int:
    if isinstance(exc, AuthenticationError):
        return 401
    if isinstance(exc, AccessDenied):
        return 403
    if isinstance(exc, InputError):
        return 404 if exc.code in NOT_FOUND else 400
    return 409


def page(action: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """A console page (or form target) that needs ``action``; signed-in by session cookie."""
    if action not in POLICY:
        raise ValueError(f"no policy for action {action!r}")

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            console: Console = request.app.state.console
            form: dict[str, str] = {}
            if request.method == "POST":
                async with request.form(max_files=0, max_fields=50) as data:
                    form = {k: v for k, v in data.items() if isinstance(v, str)}

            def run() -> Response:
                person, csrf = console.accounts.by_session(request.cookies.get(SESSION_COOKIE))
                if request.method == "POST":
                    check_csrf(csrf, form.get("csrf"))
                require(person, action)
                return handler(Ctx(request, console, person, csrf, language(request), form))

            try:
                return await run_in_threadpool(run)
            except AuthenticationError:
                if request.method == "GET":
                    return RedirectResponse("/signin", status_code=303)
                return _error_page(request, AuthenticationError("sign in again"), 401)
            except InteropError as exc:
                return _error_page(request, exc, _status(exc))

        endpoint.__name__ = handler.__name__
        return endpoint

    return wrap


ApiHandler = Callable[[Request, Console, SignedIn, dict[str, Any]], Any]


def api(action: str) -> Callable[[ApiHandler], Callable[[Request], Awaitable[Response]]]:
    """A JSON API call that needs ``action``; signed-in by bearer token (no cookies: no CSRF)."""
    if action not in POLICY:
        raise ValueError(f"no policy for action {action!r}")

    def wrap(handler: ApiHandler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            console: Console = request.app.state.console
            body: dict[str, Any] = {}
            if request.method == "POST" and await request.body():
                try:
                    loaded = await request.json()
                except ValueError:
                    loaded = None
                if not isinstance(loaded, dict):
                    return _api_error(InputError("the body is not a JSON object", code="E830"))
                body = loaded

            def run() -> Any:
                person = console.accounts.by_token(bearer(request))
                require(person, action)
                return handler(request, console, person, body)

            try:
                return JSONResponse(await run_in_threadpool(run))
            except InteropError as exc:
                return _api_error(exc)

        endpoint.__name__ = handler.__name__
        return endpoint

    return wrap


def _api_error(exc: InteropError) -> Response:
    status = _status(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        {"error": {"code": exc.code, "message": exc.message}}, status_code=status, headers=headers
    )
