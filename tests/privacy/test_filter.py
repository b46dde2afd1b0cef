"""The purpose filter on one case: deny by default, labels, references, ids (§4.5, §4.6)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from privacy_support import CASES

from interop.engine import Engine
from interop.privacy.filter import apply_policy
from interop.privacy.labels import Labeller
from interop.privacy.policy import Policy, load_policies


@pytest.fixture(scope="module")
def setup(engine: Engine) -> tuple[Engine, Any, dict[str, Any], Labeller]:
    checked = engine.read_case(CASES / "05-disability-reenrolment.json")
    assert checked.record is not None
    full = engine.case_bundle(checked.record).bundle
    assert full is not None
    return engine, load_policies(terminology=engine.terminology), full, Labeller(engine.terminology)


def _run(setup: Any, purpose: str, kind: str, partner: str = "p", **kw: Any) -> Any:
    _, ps, full, labeller = setup
    policy: Policy = ps.find(purpose, kind)
    return apply_policy(
        full,
        policy,
        labeller,
        partner=partner,
        bundle_id="b",
        timestamp="2026-11-30T10:00:00+08:00",
        **kw,
    )


def _of(bundle: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]


def test_deeper_paths_keep_the_element_named_whole(setup: Any) -> None:
    out = _run(setup, "ca-oversight", "civil-affairs")
    patient = _of(out.bundle, "Patient")[0]
    household = next(x for x in patient["extension"] if x["url"].endswith("household-registration"))
    assert household["valueAddress"]["text"]
    assert household["valueAddress"]["extension"][0]["valueCode"] == "360802"
    # ethnicity (row 3, A‡) and the health detail (row 12, A‡) stay home
    urls = {x["url"].rsplit("/", 1)[-1] for x in patient["extension"]}
    assert "ethnicity" not in urls and "health-status" not in urls and "disability" not in urls


def test_labels_and_redaction_are_said_not_silent(setup: Any) -> None:
    out = _run(setup, "school-support", "school")
    codes = [s["code"] for s in out.bundle["meta"]["security"]]
    assert codes == ["R", "NORDSCLCD", "REDACTED"]  # security-labels codes only (D-49)
    assert [t["code"] for t in out.bundle["meta"]["tag"]] == ["school-support"]
    assert out.dropped > 0 and out.redacted > 0
    ca = _run(setup, "ca-oversight", "civil-affairs")
    for entry in ca.bundle["entry"]:
        meta = entry["resource"]["meta"]
        codes = {s["code"] for s in meta["security"]}
        assert {"R", "HCOMPL", "NORDSCLCD"} <= codes  # v3 PurposeOfUse mapped
        assert [t["code"] for t in meta["tag"]] == ["ca-oversight"]


def test_references_to_what_stayed_home_are_removed(setup: Any) -> None:
    out = _run(setup, "school-support", "school")
    ids = {e["fullUrl"] for e in out.bundle["entry"]}
    refs = [m for m in orjson.dumps(out.bundle).decode().split('"reference":"')[1:]]
    assert refs and all(r.split('"', 1)[0] in ids for r in refs)


def test_ids_are_per_partner(setup: Any) -> None:
    a = _run(setup, "school-support", "school", partner="school-a")
    b = _run(setup, "school-support", "school", partner="school-b")
    again = _run(setup, "school-support", "school", partner="school-a")
    ids_a = {e["resource"]["id"] for e in a.bundle["entry"]}
    assert ids_a == {e["resource"]["id"] for e in again.bundle["entry"]}
    assert not ids_a & {e["resource"]["id"] for e in b.bundle["entry"]}
    _, _, full, _ = setup
    assert not ids_a & {e["resource"]["id"] for e in full["entry"]}


def test_consent_class_rules_are_held_back_without_their_consent(setup: Any) -> None:
    with_c = _run(setup, "school-support", "school")
    without = _run(setup, "school-support", "school", allow_c=False)
    assert _of(with_c.bundle, "CarePlan") and not _of(without.bundle, "CarePlan")
    assert "C" in with_c.classes and "C" not in without.classes


def test_ceiling_keeps_very_restricted_resources_home(setup: Any) -> None:
    _, ps, full, labeller = setup
    policy = ps.find("hosp-referral", "hospital-fhir")
    import dataclasses

    everything = dataclasses.replace(
        policy,
        rules={
            **policy.rules,
            "Observation": (
                *policy.rules["Observation"],
                dataclasses.replace(policy.rules["Observation"][-1], where=None),
            ),
        },
    )
    out = apply_policy(
        full,
        everything,
        labeller,
        partner="h",
        bundle_id="b",
        timestamp="2026-11-30T10:00:00+08:00",
    )
    codes = [o["code"]["coding"][0]["code"] for o in _of(out.bundle, "Observation")]
    assert "interview-findings" not in codes and "session-effect" not in codes  # V > ceiling R
