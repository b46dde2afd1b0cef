"""步骤输入 — what each step of a case takes, as one JSON object, wherever it comes from.

The CLI (``--form`` file plus flags), the JSON API (the request body) and the console
(a form page) all hand a step the same object: for a step with a form (Annex A–D, the
mid-term evaluation, a crisis) the form's content, checked against its JSON Schema;
for the others a few fields checked against the small schemas below. :func:`prepare`
turns it into the function of a :class:`~interop.casework.stepper.Stepper` that performs
the step, so no rule exists twice. Staff ids the input names are register ids of active
people in the right role (:class:`~interop.casework.acting.Acting`); where the step is
the person's own (the session's worker, the mid-term's supervisor, who detected a crisis)
the signed-in person is the default.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema

from interop._errors import AccessDenied, InputError, StaffNotEligible, UnknownStep
from interop.caserecord import schema_issues
from interop.casework.acting import CARE_ROLES, SERVICE_ROLES, Acting
from interop.casework.forms import form_schema, parse_form
from interop.casework.stepper import REASON_ALIASES, Step, Stepper
from interop.core.adjustment import AdjustmentRequest, WorkerChange
from interop.core.case import Signature
from interop.core.contact import Contact
from interop.core.people import Staff
from interop.i18n import N_

__all__ = ["STEPS", "StepSpec", "input_schema", "prepare", "spec"]

Apply = Callable[[Stepper], Step]
#: Who may give a listed child to another worker at 接案.
ASSIGNERS = frozenset({"supervisor", "org-lead"})

_DATE = {"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"}
_MOMENT = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})$",
}
_TEXT = {"type": "string", "minLength": 1}


def _object(required: list[str], **props: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


@dataclass(frozen=True, slots=True)
class StepSpec:
    """A step: its name, the policy action it needs, its form (or own schema), its help."""

    name: str
    action: str  # of interop.staff.policy.POLICY
    help: str  # a catalogue msgid: the console says it in the person's language
    form: str | None = None
    schema: dict[str, Any] | None = None


STEPS: dict[str, StepSpec] = {
    s.name: s
    for s in (
        StepSpec(
            "intake",
            "case.assign",
            N_(
                "接案: the signed-in worker takes the listed child, or a supervisor or the "
                "organisation's lead assigns it to a worker (to) (T-02; CL-04 caseload)"
            ),
            schema=_object(["date"], date=_DATE, to=_TEXT),
        ),
        StepSpec("assess", "case.record", N_("Annex A, feasibility assessment (T-05)"), "annex-a"),
        StepSpec(
            "review",
            "case.review",
            N_("the contractor's review seal and report, by a supervisor (T-06)"),
            schema=_object(["date"], date=_DATE),
        ),
        StepSpec(
            "agreement",
            "case.record",
            N_("the child under a signed project agreement (T-07; starts DL-01)"),
            schema=_object(["date"], date=_DATE, end=_DATE),
        ),
        StepSpec(
            "plan",
            "case.record",
            N_("Annex B, a plan with the service consent (T-08/T-09)"),
            "annex-b",
        ),
        StepSpec("session", "case.record", N_("Annex C, one session (T-10/T-11)"), "annex-c"),
        StepSpec(
            "midterm", "case.midterm", N_("the supervisor's mid-term evaluation (T-12)"), "midterm"
        ),
        StepSpec("crisis", "case.record", N_("open a crisis (T-18)"), "crisis"),
        StepSpec(
            "crisis-update",
            "case.record",
            N_("a crisis stabilised or resolved (T-19; R-7.6.1-04)"),
            schema=_object(
                ["status"],
                id=_TEXT,
                status={"enum": ["stabilised", "resolved"]},
                at=_MOMENT,
                reliable_carer=_TEXT,
                reported_to_commissioner_at=_MOMENT,
                safety_assessment=_TEXT,
            ),
        ),
        StepSpec(
            "request",
            "case.record",
            N_("a pause, change or termination request (7.4.2; DL-05, DL-06)"),
            schema=_object(
                ["type", "received"],
                type={"enum": ["pause", "change", "terminate"]},
                received=_DATE,
                reported=_DATE,
                completed=_DATE,
                child_views=_TEXT,
            ),
        ),
        StepSpec(
            "resume",
            "case.record",
            N_("resume a paused service (T-14)"),
            schema=_object(["date"], date=_DATE),
        ),
        StepSpec(
            "transfer",
            "case.record",
            N_("another worker of the register becomes case manager (T-21; R-7.3-07)"),
            schema=_object(
                ["to", "date", "reason"], to=_TEXT, date=_DATE, reason=_TEXT, agreed_by=_TEXT
            ),
        ),
        StepSpec(
            "contact",
            "case.record",
            N_("a regular contact with family, school or village (DL-13)"),
            schema=_object(
                ["party", "date", "channel"],
                party=_TEXT,
                date=_DATE,
                channel=_TEXT,
                summary=_TEXT,
            ),
        ),
        StepSpec(
            "close",
            "case.record",
            N_("close the case: Annex D, or a reason before service (T-16/T-17, T-03/T-04)"),
            "annex-d",
        ),
    )
}

#: A closure before service gives only these (no Annex D).
_PRE_SERVICE_KEYS = frozenset({"reason", "date", "resources_given"})
_PRE_SERVICE_SCHEMA = _object(
    ["reason", "date"], reason=_TEXT, date=_DATE, resources_given={"type": "boolean"}
)


def spec(step: str) -> StepSpec:
    found = STEPS.get(step)
    if found is None:
        raise UnknownStep(f"no case step '{step}' (steps: {', '.join(STEPS)})")
    return found


def input_schema(step: str) -> dict[str, Any]:
    """The JSON Schema of a step's input (the form's, or the step's own)."""
    s = spec(step)
    if s.form is not None:
        return form_schema(s.form)
    assert s.schema is not None
    return s.schema


@functools.cache
def _validator(step: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(input_schema(step))


def _check(step: str, data: dict[str, Any], source: str) -> None:
    validator = (
        jsonschema.Draft202012Validator(_PRE_SERVICE_SCHEMA)
        if step == "close-before-service"
        else _validator(step)
    )
    issues = schema_issues(data, validator)
    if issues:
        lines = "; ".join(f"{i.path}: {i.message}" for i in issues[:20])
        raise InputError(f"{source}: the {step} input is not valid: {lines}", code="E252")


def prepare(
    step: str,
    data: dict[str, Any],
    acting: Acting,
    *,
    source: str = "input",
    staff: list[Staff] | None = None,
) -> Apply:
    """The Stepper function that records ``step`` with ``data`` for ``acting``.

    ``staff`` (``interop case intake --staff-file``): the organisation's staff list
    entries that join a listed child's case with the worker.
    """
    s = spec(step)
    data = dict(data)
    me = acting.staff_id
    if s.form is None:
        _check(step, data, source)
        return _plain(step, data, acting, staff or [])
    if step == "midterm":
        sup = data.setdefault("supervisor", me)
        if sup != me:
            acting.other(sup, frozenset({"supervisor"}), "supervisor")
    elif step == "crisis":
        by = data.setdefault("detected_by", me)
        if by != me:
            acting.other(by, CARE_ROLES, "detected_by")
    elif step == "session":
        named = [x for x in data.get("staff") or [] if isinstance(x, str)]
        for other in named:
            if other != me:
                acting.other(other, CARE_ROLES, "staff")
        data["staff"] = [me, *[x for x in named if x != me]]
    elif step == "close" and set(data) <= _PRE_SERVICE_KEYS:
        _check("close-before-service", data, source)
        reason, date = str(data["reason"]), str(data["date"])
        given = bool(data.get("resources_given"))
        return lambda st: st.close(reason, date, None, {}, given)
    assert s.form is not None
    part, extras = parse_form(s.form, data, source)
    if step == "assess":
        return lambda st: st.assess(part, extras)
    if step == "plan":
        return lambda st: st.plan(part, extras)
    if step == "session":
        return _joining(part["staff"], acting, lambda st: st.session(part))
    if step == "midterm":
        return lambda st: st.midterm(part)
    if step == "crisis":
        return lambda st: st.crisis(part)
    reason = REASON_ALIASES.get(str(part.get("reason") or ""), part.get("reason"))
    if not reason:
        raise InputError(f"{source}: closing a case needs its reason", code="E252")
    given = bool(part.get("resources_given"))
    body = {k: v for k, v in part.items() if k != "reason"}
    return lambda st: st.close(str(reason), str(part["date"]), body, extras, given)


def _intake_worker(to: str | None, acting: Acting) -> str:
    """Who carries the case from 接案: the signed-in worker or counsellor, or the worker a
    supervisor or the organisation's lead assigns it to (an active worker of the register)."""
    me = acting.staff_id
    if to is None or to == me:
        if not acting.holds(SERVICE_ROLES):
            raise StaffNotEligible(
                "intake (接案): the care manager is a worker or counsellor: name one with 'to'"
            )
        return me
    if not acting.holds(ASSIGNERS):
        raise AccessDenied(
            f"{me} may not assign a case to another worker (a supervisor or the "
            "organisation's lead does)",
            code="E821",
        )
    return acting.other(to, SERVICE_ROLES, "to (the care manager)")


def _joining(ids: list[str], acting: Acting, then: Apply) -> Apply:
    """``then``, after the people named on a session who are not yet staff of the case join
    it from the register (the second worker of a home visit is staff of the case, CL-07)."""

    def apply(st: Stepper) -> Step:
        have = {s.id for s in st.rec.staff}
        for staff_id in ids:
            if staff_id not in have:
                roles = acting.register.active_roles(staff_id)
                role = next(
                    (r for r in ("worker", "supervisor", "org-lead") if r in roles), "worker"
                )
                st.rec.staff.append(acting.staff_entry(staff_id, role))
        return then(st)

    return apply


def _plain(step: str, d: dict[str, Any], acting: Acting, staff: list[Staff]) -> Apply:
    """The steps without a form."""
    if step == "intake":
        worker = _intake_worker(d.get("to"), acting)
        joining = [s for s in staff if s.id != worker] + [acting.staff_entry(worker, "worker")]
        return lambda st: st.assign(worker, d["date"], joining)
    if step == "review":
        return lambda st: st.review(acting.staff_id, d["date"])
    if step == "agreement":
        return lambda st: st.agreement(d["date"], d.get("end"))
    if step == "crisis-update":
        changes: dict[str, Any] = {
            "status": d["status"],
            "reliable_carer": d.get("reliable_carer"),
            "reported_to_commissioner_at": d.get("reported_to_commissioner_at"),
            "safety_assessment": d.get("safety_assessment"),
            ("resolved_at" if d["status"] == "resolved" else "stabilised_at"): d.get("at"),
        }
        return lambda st: st.crisis_update(d.get("id"), changes)
    if step == "request":
        req = AdjustmentRequest(
            id=f"request-{d['received']}-{d['type']}",
            type=d["type"],
            received=d["received"],
            reported=d.get("reported"),
            completed=d.get("completed"),
            child_views=d.get("child_views"),
        )
        return lambda st: st.adjustment(req)
    if step == "resume":
        return lambda st: st.resume(d["date"])
    if step == "transfer":
        to = acting.other(d["to"], SERVICE_ROLES, "to (the new care manager)")
        agreement = Signature(signer=d["agreed_by"], date=d["date"]) if "agreed_by" in d else None
        change = WorkerChange(date=d["date"], to_worker=to, reason=d["reason"], agreement=agreement)
        entry = acting.staff_entry(to, "worker")

        def transfer(st: Stepper) -> Step:
            if all(s.id != to for s in st.rec.staff):
                st.rec.staff.append(entry)  # the new case manager joins the case's staff
            return st.transfer(change)

        return transfer
    assert step == "contact"
    contact = Contact(
        date=d["date"], party=d["party"], channel=d["channel"], summary=d.get("summary")
    )
    return lambda st: st.contact(contact)
