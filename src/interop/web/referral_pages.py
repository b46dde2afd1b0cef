"""转介 in the console: the referrals the person sees, one referral, and the form that
creates a referral for a case (routine or crisis) as the signed-in person.

The form goes through :func:`interop.referral.create.create_as`, the same code as
``interop referral create``. A crisis referral is break-glass: it leaves at once, and a
supervisor records its after-the-fact review on 审批 (break-glass reviews due)."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from interop._errors import AccessDenied, InputError
from interop.i18n import N_
from interop.referral.create import CRISIS_TYPES, create_as
from interop.referral.records import CRISIS_TRIGGER, MODES, TRIGGERS
from interop.staff.identity import may_see_case
from interop.staff.policy import allowed, case_scope
from interop.web.app import Ctx, page

__all__ = ["routes"]

#: The hospital partners' kind (a referral goes only there).
HOSPITAL_KIND = "hospital-fhir"
#: Triggers of a routine referral (RT-01 is the crisis one, §1.9.7).
ROUTINE_TRIGGERS = tuple(t for t in TRIGGERS if t != CRISIS_TRIGGER)

MSG_INCOMPLETE = N_("the referral form needs {field}")
MSG_NOT_HOSPITAL = N_("partner {name} is not a hospital of the configuration")


def _hospitals(ctx: Ctx) -> list[str]:
    return sorted(p.name for p in ctx.console.config.partners.values() if p.kind == HOSPITAL_KIND)


def _visible_cases(ctx: Ctx) -> list[str] | None:
    """The cases the person sees (None: all of them)."""
    if case_scope(ctx.person):
        return None
    return ctx.console.register.cases_of(ctx.person.staff_id)


@page("referral.view")
def referrals(ctx: Ctx) -> Response:
    found = ctx.console.referrals.find()
    cases = _visible_cases(ctx)
    if cases is not None:
        mine = set(cases)
        found = [r for r in found if r.case_number in mine]
    return ctx.render(
        "referrals.html",
        referrals=[r.summary() for r in reversed(found)],
        may_create=allowed(ctx.person, "referral.create"),
        hospitals=_hospitals(ctx),
        my_cases=cases or [],
        routine_triggers=ROUTINE_TRIGGERS,
        crisis_types=CRISIS_TYPES,
        modes=MODES,
        done=ctx.request.query_params.get("done"),
    )


@page("referral.view")
def referral(ctx: Ctx) -> Response:
    shown = ctx.console.referrals.show(ctx.request.path_params["id"])
    if not may_see_case(ctx.console.archive, ctx.person, shown["case_number"]):
        raise AccessDenied("you are not staff of this case", code="E822")
    return ctx.render(
        "referral.html",
        r=shown,
        may_review=allowed(ctx.person, "disclosure.review"),
        done=ctx.request.query_params.get("done"),
    )


@page("referral.create")
def referral_create(ctx: Ctx) -> Response:
    f = {k: v.strip() for k, v in ctx.form.items()}
    for key, what in (("case", "a case number"), ("partner", "a hospital"),
                      ("urgency", "routine or crisis"), ("reason", "a reason")):  # fmt: skip
        if not f.get(key):
            raise InputError(MSG_INCOMPLETE.format(field=what), code="E852")
    if f["partner"] not in _hospitals(ctx):
        raise InputError(MSG_NOT_HOSPITAL.format(name=f["partner"]), code="E853")
    if f["urgency"] == "crisis":
        trigger = CRISIS_TRIGGER
        crisis_type = f.get("crisis_type") or "life-self"
        if crisis_type not in CRISIS_TYPES:
            raise InputError(MSG_INCOMPLETE.format(field="a crisis type"), code="E852")
    elif f["urgency"] == "routine":
        trigger, crisis_type = f.get("trigger", ""), None
        if trigger not in ROUTINE_TRIGGERS:
            raise InputError(MSG_INCOMPLETE.format(field="a trigger RT-02 … RT-10"), code="E852")
    else:
        raise InputError(MSG_INCOMPLETE.format(field="routine or crisis"), code="E852")
    ref = create_as(
        ctx.console.referrals,
        ctx.person,
        f["case"],
        partner=f["partner"],
        trigger=trigger,
        reason=f["reason"],
        mode=f["mode"] if f.get("mode") in MODES else "concurrent",
        crisis_type=crisis_type,
    )
    return RedirectResponse(f"/referrals/{ref.id}?done={ref.state}", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/referrals", referrals),
        Route("/referrals/create", referral_create, methods=["POST"]),
        Route("/referrals/{id}", referral),
    ]
