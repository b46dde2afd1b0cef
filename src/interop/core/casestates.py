"""个案状态 — the case state machine of the standard, as data (§3.1, §3.3; 7.1–7.6).

Every change of a case's state goes through :func:`transition`: a step names the
action it performs (``assign``, ``session``, ``close`` …) and the table below says
from which states that action is allowed and which state it leads to. An action
asked for in any other state is refused with the transition's ID (``T-xx``), the
requirement it comes from and the state the case is in (E250).

The crisis overlay (T-18, T-19) does not change the main state; its actions are
in the table so that they too are refused outside INTAKE…CLOSING.
"""

from __future__ import annotations

from dataclasses import dataclass

from interop._errors import IllegalTransition as IllegalTransition
from interop.i18n import N_

#: state code → (Chinese name, EpisodeOfCare.status) (§3.1)
STATES: dict[str, tuple[str, str]] = {
    "listed": ("名单已接收", "waitlist"),
    "intake": ("接案审核中", "planned"),
    "feasibility-assessed": ("可行性评估完成", "planned"),
    "org-reviewed": ("机构审核并报备", "planned"),
    "agreement-signed": ("协议签订", "planned"),
    "plan-drafted": ("方案已拟定", "planned"),
    "ready": ("方案确认、知情同意", "planned"),
    "in-service": ("服务中", "active"),
    "midterm": ("中期评估", "active"),
    "paused": ("暂停", "onhold"),
    "closing": ("结案评估中", "active"),
    "closed": ("已结案", "finished"),
    "not-accepted": ("未接案", "cancelled"),
    "archived-handed-over": ("已移交", "finished"),
    "entered-in-error": ("录入错误", "entered-in-error"),
}

#: INTAKE … CLOSING: where the crisis and referral overlays and most steps may happen.
OPEN_STATES = (
    "intake",
    "feasibility-assessed",
    "org-reviewed",
    "agreement-signed",
    "plan-drafted",
    "ready",
    "in-service",
    "midterm",
    "paused",
    "closing",
)
#: States in which the care manager carries the case for the caseload limit (G-09, CL-04).
CASELOAD_STATES = frozenset(OPEN_STATES)
#: States in which sessions are being delivered (DL-11, DL-12 run).
SERVING_STATES = frozenset({"in-service", "midterm"})
TERMINAL_STATES = frozenset({"closed", "not-accepted", "archived-handed-over", "entered-in-error"})

#: Marks a transition that keeps the state the case is in (T-11, T-18, T-21, T-22 …).
SAME = "="


@dataclass(frozen=True, slots=True)
class Transition:
    """One transition of §3.3: its ID, the action, where it may start and where it leads."""

    id: str
    action: str
    sources: tuple[str, ...]
    target: str  # a state code, or SAME
    rule: str  # the requirement it carries out
    event: str  # what happens, in plain words

    def leads_to(self, state: str) -> str:
        return state if self.target == SAME else self.target


TRANSITIONS: tuple[Transition, ...] = (
    Transition("T-02", "assign", ("listed",), "intake", "R-7.1.1-01", "worker assigned"),
    Transition(
        "T-03",
        "not-accept",
        ("intake", "feasibility-assessed"),
        "not-accepted",
        "R-6.1.1-03",
        "ineligible, or a normal result without designation",
    ),
    Transition(
        "T-04",
        "refer-out",
        ("intake", "feasibility-assessed"),
        "not-accepted",
        "R-7.1.2-01",
        "referred out at intake",
    ),
    Transition(
        "T-05", "assess", ("intake",), "feasibility-assessed", "R-7.1.1-06", "Annex A completed"
    ),
    Transition(
        "T-06",
        "review",
        ("feasibility-assessed",),
        "org-reviewed",
        "R-7.1.3-01",
        "contractor review and report to the commissioner",
    ),
    Transition(
        "T-07",
        "agreement",
        ("org-reviewed",),
        "agreement-signed",
        "R-7.1.3-03",
        "child under a signed project agreement",
    ),
    Transition(
        "T-08", "plan", ("agreement-signed",), "plan-drafted", "R-7.2.1-01", "Annex B drafted"
    ),
    Transition(
        "T-09",
        "confirm",
        ("plan-drafted",),
        "ready",
        "R-7.2.3-01",
        "plan signed by three parties and service consent active",
    ),
    Transition(
        "T-22",
        "adjust-plan",
        ("plan-drafted", "ready", "in-service", "midterm", "paused", "closing"),
        SAME,
        "R-7.2.2-01",
        "new version of the plan",
    ),
    Transition("T-10", "session", ("ready",), "in-service", "R-7.3-01", "first session finished"),
    Transition(
        "T-11",
        "session",
        ("in-service", "midterm"),
        SAME,
        "R-7.3-05",
        "further session recorded",
    ),
    Transition(
        "T-12", "midterm-due", ("in-service",), "midterm", "R-7.4.1-01", "mid-term evaluation due"
    ),
    Transition(
        "T-12",
        "midterm",
        ("in-service", "midterm"),
        "in-service",
        "R-7.4.1-01",
        "mid-term evaluation completed",
    ),
    Transition(
        "T-13", "pause", ("in-service", "midterm"), "paused", "R-7.4.2-01", "service paused"
    ),
    Transition("T-14", "resume", ("paused",), "in-service", "R-7.4.2-01", "service resumed"),
    Transition(
        "T-15",
        "terminate",
        ("in-service", "midterm", "paused"),
        "closing",
        "R-7.4.2-01",
        "termination requested and decided",
    ),
    Transition(
        "T-16",
        "closing",
        ("in-service", "midterm", "paused"),
        "closing",
        "R-7.5.1-01",
        "closure assessment begun",
    ),
    Transition("T-17", "close", ("closing",), "closed", "R-D-01", "Annex D signed"),
    Transition("T-18", "crisis", OPEN_STATES, SAME, "R-7.6.1-01", "crisis opened"),
    Transition(
        "T-19", "crisis-update", OPEN_STATES, SAME, "R-7.6.1-04", "crisis stabilised or resolved"
    ),
    Transition(
        "T-21",
        "transfer",
        ("plan-drafted", "ready", "in-service", "midterm", "paused"),
        SAME,
        "R-7.3-07",
        "worker changed",
    ),
    Transition(
        "T-21", "reassign", ("intake", "feasibility-assessed"), SAME, "R-7.3-07", "worker changed"
    ),
    Transition(
        "T-13",
        "adjustment-request",
        ("ready", "in-service", "midterm", "paused"),
        SAME,
        "R-7.4.2-01",
        "pause, change or termination requested",
    ),
    Transition("T-11", "contact", OPEN_STATES, SAME, "R-7.3-03", "regular contact logged"),
    Transition(
        "T-23",
        "hand-over",
        ("closed", "not-accepted"),
        "archived-handed-over",
        "R-9.4.2-01",
        "archive handed over",
    ),
)

#: action → its transitions (an action has one, except where sources differ by transition)
_BY_ACTION: dict[str, list[Transition]] = {}
for _t in TRANSITIONS:
    _BY_ACTION.setdefault(_t.action, []).append(_t)


#: The refusal's message (E250), formatted in English where it is raised and said in the
#: operator's language from this template (the codes and the transition IDs kept).
NOT_ALLOWED = N_(
    "case {case} is in state {state} ({name}): "
    "'{action}' ({ids}, {rules}) is allowed only in state {where}"
)
NO_STATE = N_("no state")


def illegal_transition(case_number: str, state: str, action: str) -> IllegalTransition:
    """The refusal of ``action`` in ``state``: the transition, its rule and the state (E250)."""
    allowed = allowed_from(action)
    ids = "/".join(sorted({t.id for t in _BY_ACTION.get(action, [])})) or "§3.3"
    rules = ", ".join(sorted({t.rule for t in _BY_ACTION.get(action, [])}))
    where = ", ".join(allowed) if allowed else NO_STATE
    return IllegalTransition(
        NOT_ALLOWED.format(
            case=case_number,
            state=state,
            name=state_name(state),
            action=action,
            ids=ids,
            rules=rules,
            where=where,
        ),
        case_number=case_number,
        state=state,
        action=action,
    )


def state_name(state: str) -> str:
    """The Chinese name of a state, or the code itself when it is not a state."""
    return STATES.get(state, (state, ""))[0]


def allowed_from(action: str) -> list[str]:
    """The states from which ``action`` may be taken, in the order of :data:`STATES`."""
    sources = {s for t in _BY_ACTION.get(action, []) for s in t.sources}
    return [s for s in STATES if s in sources]


def actions() -> list[str]:
    return list(_BY_ACTION)


def transition(case_number: str, state: str, action: str) -> Transition:
    """The transition ``action`` takes from ``state``; :class:`IllegalTransition` if none."""
    for t in _BY_ACTION.get(action, []):
        if state in t.sources:
            return t
    raise illegal_transition(case_number, state, action)


def episode_status(state: str) -> str:
    """The coarse FHIR EpisodeOfCare.status of a state (§3.1)."""
    return STATES[state][1]
