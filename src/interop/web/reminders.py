"""Deadline reminders as the console shows them (待办, ``/api/reminders``): today's, of the
signed-in person — a worker's own (theirs, or on their cases), every one for a role that
oversees the programme. The reminder job (:mod:`interop.casework.reminders`) records them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from interop.casework.reminders import reminder_day
from interop.staff.policy import case_scope
from interop.staff.register import SignedIn
from interop.store.reminders import Reminders
from interop.web.app import api
from interop.web.context import Console

__all__ = ["reminders_of", "routes"]


def reminders_of(
    console: Console, person: SignedIn, day: str | None = None
) -> list[dict[str, Any]]:
    """Today's (or ``day``'s) reminders the person sees."""
    now = console.now() if console.now is not None else dt.datetime.now(dt.UTC)
    store = Reminders(console.archive)
    when = day or reminder_day(now)
    if case_scope(person):
        return store.of_day(when)
    return store.of_day(
        when, worker=person.staff_id, cases=console.register.cases_of(person.staff_id)
    )


@api("due.view")
def reminders(request: Request, console: Console, person: SignedIn, body: dict[str, Any]) -> Any:
    day = request.query_params.get("day") or None
    if day is not None:
        try:
            day = dt.date.fromisoformat(day).isoformat()
        except ValueError:
            from interop._errors import InputError

            raise InputError("day: not a date YYYY-MM-DD", code="E852") from None
    return reminders_of(console, person, day)


def routes() -> list[Route]:
    return [Route("/api/reminders", reminders)]
