"""The case state machine (§3.1, §3.3): the data, and every illegal transition refused."""

from __future__ import annotations

import json

import pytest
from case_support import ROOT, record, session_data, stepper

from interop.core.casestates import (
    SAME,
    STATES,
    TRANSITIONS,
    IllegalTransition,
    actions,
    allowed_from,
    transition,
)

ILLEGAL = [(a, s) for a in actions() for s in STATES if s not in allowed_from(a)]


def test_states_are_the_programme_case_state_codes() -> None:
    cs = json.loads((ROOT / "profiles/terminology/CodeSystem-case-state.json").read_text("utf-8"))
    assert set(STATES) == {c["code"] for c in cs["concept"]}


def test_every_transition_joins_known_states() -> None:
    for t in TRANSITIONS:
        assert set(t.sources) <= set(STATES), t
        assert t.target == SAME or t.target in STATES, t
        assert t.id.startswith("T-") and t.rule


@pytest.mark.parametrize(("action", "state"), ILLEGAL)
def test_every_illegal_transition_is_refused_with_rule_and_state(action: str, state: str) -> None:
    with pytest.raises(IllegalTransition) as err:
        transition("JX-TEST-1", state, action)
    e = err.value
    assert e.code == "E250" and e.exit_code == 1
    assert f"in state {state}" in str(e)
    ids = {t.id for t in TRANSITIONS if t.action == action}
    assert any(i in str(e) for i in ids)
    assert any(t.rule in str(e) for t in TRANSITIONS if t.action == action)


def test_main_flow_is_allowed_in_order() -> None:
    state = "listed"
    for action in ("assign", "assess", "review", "agreement", "plan", "confirm", "session"):
        state = transition("X", state, action).leads_to(state)
    assert state == "in-service"
    for action, expected in (
        ("session", "in-service"),
        ("midterm-due", "midterm"),
        ("session", "midterm"),
        ("midterm", "in-service"),
        ("pause", "paused"),
        ("resume", "in-service"),
        ("closing", "closing"),
        ("close", "closed"),
        ("hand-over", "archived-handed-over"),
    ):
        state = transition("X", state, action).leads_to(state)
        assert state == expected


def test_a_session_on_a_listed_case_is_refused_and_the_record_untouched() -> None:
    """T-10/T-11: a listed case cannot have a session (R-7.3-05)."""
    rec = record(IN := "01-medium-in-service.json", state="listed")
    before = rec.sessions[:]
    with pytest.raises(IllegalTransition, match="in state listed"):
        stepper(rec, "session").session(session_data())
    assert rec.sessions == before and IN


def test_a_closed_case_cannot_open_a_crisis() -> None:
    rec = record("04-closed-pre-post.json")
    with pytest.raises(IllegalTransition, match=r"T-18.*only in state intake"):
        stepper(rec, "crisis").crisis(
            {
                "type": "life-self",
                "detected_at": "2026-05-01T10:00:00+08:00",
                "detected_by": "staff-01",
            }
        )
