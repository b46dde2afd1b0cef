"""The synthetic case fixtures (fixtures/cases) and their generator (tools/synth.py)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
import synth  # type: ignore[import-not-found]  # tools/synth.py, on the pytest path

from interop.caserecord import check_case_record, load_case_file
from interop.core import resident_id
from interop.core.schema import DATE_FIELDS, DATETIME_FIELDS
from interop.resources import profiles_dir

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "cases"
RULE_BREAKING = ROOT / "tests" / "data" / "cases" / "rule-breaking"


FIXTURE_NAMES = sorted(synth.FIXTURES)
RULE_BREAKING_NAMES = sorted(synth.RULE_BREAKING)


@pytest.fixture(scope="module")
def term() -> Any:
    if not (profiles_dir() / "terminology").is_dir():
        pytest.skip("profiles/terminology/ does not exist yet, so codes cannot be checked")
    from interop.fhir.terminology import Terminology

    return Terminology.load()


def _read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def _errors(checked: Any) -> list[str]:
    return [i.line() for i in checked.issues if i.severity == "error"]


def _walk(obj: Any, key: str = "") -> Any:
    """Yield ``(key, value)`` for every scalar in a JSON document."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk(v, k)
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk(v, key)
    else:
        yield key, obj


def _minutes(session: dict[str, Any]) -> float:
    start = dt.datetime.fromisoformat(session["start"])
    end = dt.datetime.fromisoformat(session["end"])
    return (end - start).total_seconds() / 60


# --------------------------------------------------------------------------- the files


def test_the_six_fixtures_are_committed() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.json")) == FIXTURE_NAMES
    assert len(FIXTURE_NAMES) >= 6


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_loads_without_errors(name: str, term: Any) -> None:
    checked = load_case_file(FIXTURES / name, term)
    assert checked.record is not None
    assert _errors(checked) == []


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_is_the_generator_output(name: str) -> None:
    """Regenerate with ``python tools/synth.py --write fixtures/cases`` when this fails."""
    seed, kind = synth.FIXTURES[name]
    text = (FIXTURES / name).read_text("utf-8")
    assert text == synth.dumps(synth.make_case(seed, kind))
    assert "\\u" not in text  # ensure_ascii=False: Chinese stays readable


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_resident_id_encodes_birth_date_and_sex(name: str) -> None:
    child = _read(FIXTURES / name)["child"]
    rid = resident_id.parse(child["resident_id"])
    assert rid.birth_date.isoformat().startswith(child["birth_date"])
    assert rid.sex == child["sex"]
    assert rid.province == "36"  # Jiangxi
    assert child["home_address"]["division"].startswith("36")
    assert resident_id.mismatches(rid, birth_date=child["birth_date"], sex=child["sex"]) == []


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_child_is_under_18_at_intake(name: str) -> None:
    """R-3.1-01 (CL-08)."""
    record = _read(FIXTURES / name)
    born = resident_id.parse(record["child"]["resident_id"]).birth_date
    intake = dt.date.fromisoformat(record["case"]["intake_date"])
    age = intake.year - born.year - ((intake.month, intake.day) < (born.month, born.day))
    assert 0 <= age < 18


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_dates_are_2025_2026_and_times_carry_plus_0800(name: str) -> None:
    record = _read(FIXTURES / name)
    seen = 0
    for key, value in _walk(record):
        if key in DATE_FIELDS | DATETIME_FIELDS and isinstance(value, str):
            seen += 1
            assert value[:4] in ("2025", "2026"), (key, value)
            if key in DATETIME_FIELDS:
                assert value.endswith("+08:00"), (key, value)
    assert seen >= 4


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_sessions_are_numbered_timed_and_recorded_the_same_day(name: str) -> None:
    sessions = _read(FIXTURES / name)["sessions"]
    assert [s["number"] for s in sessions] == list(range(1, len(sessions) + 1))
    for s in sessions:
        assert 60 <= _minutes(s) <= 120  # CL-05
        assert s["record_date"] == s["start"][:10]
        assert s["private_space_confirmed"] is True  # R-7.3-14


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_every_fixture_has_the_parties(name: str) -> None:
    record = _read(FIXTURES / name)
    kinds = {o["id"]: o["kind"] for o in record["organisations"]}
    assert kinds[record["case"]["contractor"]] == "contractor"
    assert kinds[record["case"]["commissioner"]] == "commissioner"
    roles = {s["id"]: s["role"] for s in record["staff"]}
    assert roles[record["case"]["care_manager"]] == "worker"
    assert roles[record["case"]["supervisor"]] == "supervisor"
    adults = {a["id"]: a["roles"] for a in record["adults"]}
    assert any("guardian" in r for r in adults.values())
    assert "emergency-contact" in adults[record["intake"]["emergency_contact"]]


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_personal_data_is_synthetic(name: str) -> None:
    """Phones only from the 138-0000 / 139-0000 placeholder ranges; addresses in Jiangxi."""
    for key, value in _walk(_read(FIXTURES / name)):
        if key.endswith("phone"):
            assert re.fullmatch(r"13[89]0000\d{4}", value), (key, value)
        if key in ("text", "address"):  # Address.text, Organisation.address
            assert value.startswith("江西省"), (key, value)
        if key == "division":
            assert value.startswith("36")


# --------------------------------------------------------------------------- what each exercises


def _fixture(prefix: str) -> dict[str, Any]:
    (name,) = [n for n in FIXTURE_NAMES if n.startswith(prefix)]
    return _read(FIXTURES / name)


def _service_consent(record: dict[str, Any]) -> dict[str, Any]:
    guardians = {a["id"] for a in record["adults"] if "guardian" in a["roles"]}
    (consent,) = [c for c in record["consents"] if c["topic"] == "service"]
    assert consent["status"] == "active"
    assert consent["grantor"] in guardians
    return consent


def test_01_medium_in_service() -> None:
    r = _fixture("01-")
    assert (r["case"]["state"], r["case"]["risk_level"]) == ("in-service", "medium")
    (asmt,) = r["assessments"]
    assert asmt["phase"] == "intake" and len(asmt["dimensions"]) == 3
    assert asmt["total"] == sum(d["score"] for d in asmt["dimensions"])
    (plan,) = r["plans"]
    assert plan["planned_session_count"] >= 6  # R-7.2.1-03
    assert {"counselling", "intervention"} <= set(plan["service_types"])  # R-6.1.1-05
    assert plan["goals"]
    _service_consent(r)
    assert len(r["sessions"]) == 3
    assert {s["location"] for s in r["sessions"]} <= {"office", "school"}
    assert all(s["attendance"] == "attended" for s in r["sessions"])


def test_02_high_risk_crisis() -> None:
    r = _fixture("02-")
    assert r["case"]["risk_level"] == "high"
    assert r["intake"]["emergency_present"] is True
    assert r["intake"]["referral_triggers"] == ["RT-01"]
    (crisis,) = r["crises"]
    assert (crisis["type"], crisis["status"]) == ("life-self", "active")
    (plan,) = r["plans"]
    assert plan["planned_session_count"] >= 12  # CL-03
    assert {"counselling", "intervention"} <= set(plan["service_types"])
    consent = _service_consent(r)
    assert r["sessions"] and consent["date"] <= r["sessions"][0]["record_date"]


def test_03_home_visits_with_guardian_absent() -> None:
    r = _fixture("03-")
    absent = [s for s in r["sessions"] if s.get("guardian_present") is False]
    assert len(absent) >= 2
    for s in absent:
        assert s["location"] == "home"
        assert len(s["staff"]) >= 2  # R-7.3-17
        told = s["guardian_notified"]  # R-7.3-16
        assert told["by"] in s["staff"] and told["channel"]
        assert told["time"] < s["start"]
        assert s["private_space_confirmed"] is True
    _service_consent(r)


def test_04_closed_with_pre_and_post_on_the_same_instrument() -> None:
    r = _fixture("04-")
    assert (r["case"]["state"], r["case"]["closure_reason"]) == ("closed", "goals-achieved")
    pre = [a for a in r["assessments"] if a["phase"] == "intake"]
    post = [a for a in r["assessments"] if a["phase"] == "closure"]
    assert pre and post
    assert (pre[0]["scale_code"], pre[0]["scale_version"]) == (
        post[0]["scale_code"],
        post[0]["scale_version"],
    )  # R-7.5.2-02
    assert post[0]["total"] < pre[0]["total"]
    assert len(r["sessions"]) >= 6
    closure = r["closure"]
    assert closure["reason"] == "goals-achieved"
    for sig in ("recipient_confirmation", "worker_confirmation", "supervisor_confirmation"):
        assert closure[sig]["signer"] and closure[sig]["date"]
    goals = r["plans"][0]["goals"]
    assert goals and all(g["achievement"] == "achieved" for g in goals)


def test_05_disability_and_reenrolment() -> None:
    r = _fixture("05-")
    child = r["child"]
    assert child["disability"]["category"]
    assert "disability-integration" in child["difficulty_categories"]
    assert child["school"]["stage"] == "junior-secondary"
    kinds = {o["id"]: o["kind"] for o in r["organisations"]}
    assert kinds[child["school"]["school"]] == "school"
    (plan,) = r["plans"]
    assert plan["reenrolment_support"]
    assert "reenrolment-support" in plan["service_types"]
    assert r["case"]["risk_level"] in ("low", "medium")


def test_06_listed_intake_only() -> None:
    r = _fixture("06-")
    assert r["case"]["state"] == "intake"
    assert r["intake"]
    assert r["plans"] == r["sessions"] == r["consents"] == []
    assert "closure" not in r
    assert len(r["child"]["birth_date"]) == 7  # 出生年月, YYYY-MM


# --------------------------------------------------------------------------- the generator


@pytest.mark.parametrize("kind", synth.KINDS)
def test_generator_is_deterministic(kind: str) -> None:
    assert synth.make_case(11, kind) == synth.make_case(11, kind)
    assert synth.make_case(11, kind) != synth.make_case(12, kind)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        synth.make_case(1, "no-such-kind")


def test_make_many_cycles_kinds_and_varies_identities() -> None:
    many = synth.make_many(24, seed=3)
    assert many == synth.make_many(24, seed=3)
    states = [r["case"]["state"] for r in many[:6]]
    assert states == ["in-service", "in-service", "in-service", "closed", "in-service", "intake"]
    assert len({r["case"]["case_number"] for r in many}) == len(many)
    assert len({r["child"]["resident_id"] for r in many}) == len(many)
    assert len({r["child"]["name"] for r in many}) > len(many) // 2


def test_make_many_50_load_cleanly(term: Any) -> None:
    for record in synth.make_many(50):
        checked = check_case_record(record, term)
        assert _errors(checked) == [], record["case"]["case_number"]
        rid = resident_id.parse(record["child"]["resident_id"])
        assert rid.birth_date.isoformat().startswith(record["child"]["birth_date"])
        assert rid.sex == record["child"]["sex"]


# --------------------------------------------------------------------------- rule-breaking files


@pytest.mark.parametrize("name", RULE_BREAKING_NAMES)
def test_rule_breaking_file_loads_cleanly(name: str, term: Any) -> None:
    """They break a rule of the standard, not the file format: the loader accepts them."""
    checked = load_case_file(RULE_BREAKING / name, term)
    assert checked.record is not None
    assert _errors(checked) == []


@pytest.mark.parametrize("name", RULE_BREAKING_NAMES)
def test_rule_breaking_file_is_the_generator_output(name: str) -> None:
    """Regenerate with ``python tools/synth.py --write-rule-breaking DIR`` when this fails."""
    text = (RULE_BREAKING / name).read_text("utf-8")
    assert text == synth.dumps(synth.rule_breaking_cases()[name])
    _, _, rule, _ = synth.RULE_BREAKING[name]
    readme = (RULE_BREAKING / "README.md").read_text("utf-8")
    assert f"`{name}`" in readme and rule in readme


def test_rule_breaking_files_break_their_rule() -> None:
    def rb(name: str) -> dict[str, Any]:
        return _read(RULE_BREAKING / name)

    assert rb("plan-5-sessions.json")["plans"][0]["planned_session_count"] == 5
    r = rb("medium-risk-no-intervention.json")
    assert r["case"]["risk_level"] == "medium"
    assert r["plans"][0]["service_types"] == ["counselling"]
    s = rb("home-visit-one-staff.json")["sessions"][1]
    assert (s["location"], s["guardian_present"], len(s["staff"])) == ("home", False, 1)
    s = rb("home-visit-not-notified.json")["sessions"][1]
    assert (s["location"], s["guardian_present"]) == ("home", False)
    assert "guardian_notified" not in s
    r = rb("adult-at-intake.json")
    rid = resident_id.parse(r["child"]["resident_id"])
    assert rid.birth_date.isoformat() == r["child"]["birth_date"]
    born, intake = rid.birth_date, dt.date.fromisoformat(r["case"]["intake_date"])
    assert intake.year - born.year - ((intake.month, intake.day) < (born.month, born.day)) >= 18
    r = rb("closure-other-instrument.json")
    by_phase = {a["phase"]: a for a in r["assessments"]}
    assert by_phase["intake"]["scale_code"] != by_phase["closure"]["scale_code"]
    assert "instrument_override_reason" not in by_phase["closure"]
    r = rb("session-without-consent.json")
    assert r["sessions"] and r["consents"] == []
