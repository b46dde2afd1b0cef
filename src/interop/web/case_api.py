"""The case steps in the JSON API (个案): ``GET /api/cases/{case}``, ``POST
/api/cases/{case}/{step}`` with the same JSON object the CLI's ``--form`` (or its flags)
gives, and ``POST /api/cases/{case}/signoff``. Bearer token; the step itself decides
who may (:mod:`interop.casework.case_steps`: the policy action of the step and the case
scope). Answers: 200 recorded (with the warnings left open), 401, 403, 404 no such case
or step, 409 refused by the state machine or a blocking rule (the rule IDs and what to
do), 422 unusable input (the field and why).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from interop._errors import (
    AccessDenied,
    AuthenticationError,
    CaseNotFound,
    InputError,
    InteropError,
    StepRefused,
    UnknownStep,
)
from interop.casework import case_steps
from interop.casework.acting import may_work_on
from interop.casework.show import case_summary
from interop.core.workdays import CHINA_TZ
from interop.staff.register import SignedIn
from interop.web.context import Console
from interop.web.security import bearer

__all__ = ["now_of", "routes", "status_of"]


def now_of(console: Console) -> dt.datetime:
    """The console's "now" (tests and demos pin it), else the clock, in China time."""
    return (console.now or (lambda: dt.datetime.now(CHINA_TZ)))().astimezone(CHINA_TZ)


def status_of(exc: InteropError) -> int:
    if isinstance(exc, AuthenticationError):
        return 401
    if isinstance(exc, AccessDenied):
        return 403
    if isinstance(exc, (CaseNotFound, UnknownStep)):
        return 404
    if isinstance(exc, InputError):
        return 422
    return 409  # the state machine (E250), a blocking rule (E251), a concurrent step (E256)


def _error(exc: InteropError) -> Response:
    body: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if isinstance(exc, StepRefused):
        body["findings"] = [f.as_dict() for f in exc.findings]
    status = status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": body}, status_code=status, headers=headers)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        loaded = await request.json()
    except ValueError:
        loaded = None
    if not isinstance(loaded, dict):
        raise InputError("the body is not a JSON object", code="E830")
    return loaded


async def _answer(request: Request, work: Any) -> Response:
    console: Console = request.app.state.console
    try:
        body = await _body(request) if request.method == "POST" else {}

        def run() -> Any:
            person = console.accounts.by_token(bearer(request))
            return work(console, person, body)

        return JSONResponse(await run_in_threadpool(run))
    except InteropError as exc:
        return _error(exc)


async def case(request: Request) -> Response:
    number = request.path_params["case"]

    def work(console: Console, person: SignedIn, body: dict[str, Any]) -> Any:
        may_work_on(console.archive, person, "case.view", number, unassigned=False)
        return case_summary(console.archive, number, now_of(console))

    return await _answer(request, work)


async def step(request: Request) -> Response:
    number, name = request.path_params["case"], request.path_params["step"]

    def work(console: Console, person: SignedIn, body: dict[str, Any]) -> Any:
        outcome, left = case_steps.record(
            console.archive, number, name, body, person, now=now_of(console), source="body"
        )
        return {**outcome.as_dict(), "open_warnings": left}

    return await _answer(request, work)


async def signoff(request: Request) -> Response:
    number = request.path_params["case"]

    def work(console: Console, person: SignedIn, body: dict[str, Any]) -> Any:
        issues = body.get("issues") or []
        reason = body.get("reason")
        if not isinstance(issues, list) or not all(isinstance(i, int) for i in issues):
            raise InputError("issues: a list of warning numbers", code="E252")
        if not isinstance(reason, str):
            raise InputError("a sign-off needs a reason", code="E263")
        return case_steps.signoff(console.archive, number, issues, person, reason)

    return await _answer(request, work)


def routes() -> list[Route]:
    return [
        Route("/api/cases/{case}", case),
        Route("/api/cases/{case}/signoff", signoff, methods=["POST"]),
        Route("/api/cases/{case}/{step}", step, methods=["POST"]),
    ]
