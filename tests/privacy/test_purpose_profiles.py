"""Purpose profiles: every shared resource claims its rule's profile and is held to it (D-78).

The profiles in ``profiles/purposes/`` are written by ``tools/gen_purpose_profiles.py``
from the purpose policies and the full profiles; a share that drops an element its
purpose requires, carries one its purpose withholds or claims another purpose's profile
is refused by the extract's check before it leaves.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from gen_purpose_profiles import purpose_profiles
from privacy_support import make_discloser, store

from interop.config import Config, Partner
from interop.engine import Engine
from interop.fhir import canonical
from interop.privacy.policy import load_policies
from interop.privacy.purpose_profiles import profile_ids
from interop.privacy.rules import extract_errors
from interop.store import Archive

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "fixtures" / "cases" / "05-disability-reenrolment.json"


@pytest.fixture
def school_share(sqlite_archive: Archive, engine: Engine) -> dict[str, Any]:
    doc = json.loads(CASE.read_text("utf-8"))
    doc["consents"].append(
        {
            "id": "consent-school",
            "topic": "school-contact",
            "status": "active",
            "grantor": "adult-01",
            "date": "2026-11-20",
            "period_start": "2026-11-20",
            "period_end": "2027-07-15",
            "child_assent": True,
        }
    )
    number = store(sqlite_archive, engine, doc)
    config = Config(partners={"s": Partner("s", "school", {"out_dir": "out"})})
    d = make_discloser(sqlite_archive, engine, config).request(
        number, purpose="school-support", partner="s", requester="staff-01", dry_run=True
    )
    assert d.bundle is not None, d.reasons
    return d.bundle


def _patient(bundle: dict[str, Any]) -> dict[str, Any]:
    return next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )


def test_the_package_holds_the_profiles_the_policies_make() -> None:
    folder = ROOT / "profiles" / "purposes"
    on_disk = {p.name: json.loads(p.read_text("utf-8")) for p in folder.glob("*.json")}
    assert on_disk == purpose_profiles(), "run: python tools/gen_purpose_profiles.py"
    policies = load_policies().policies
    assert len(on_disk) == sum(len(profile_ids(p)) for p in policies)


def test_every_shared_resource_claims_its_purpose_profile(school_share: dict[str, Any]) -> None:
    claimed = {
        e["resource"]["resourceType"]: e["resource"]["meta"]["profile"]
        for e in school_share["entry"]
    }
    assert claimed["Patient"] == [canonical.sd("dc-share-school-support-patient")]
    assert all(len(p) == 1 and "/dc-share-school-support-" in p[0] for p in claimed.values())


def test_the_extract_of_each_purpose_meets_its_profiles(
    school_share: dict[str, Any], engine: Engine
) -> None:
    assert extract_errors(engine.validator, school_share) == []


def test_a_share_that_drops_a_purpose_required_element_is_refused(
    school_share: dict[str, Any], engine: Engine
) -> None:
    broken = copy.deepcopy(school_share)
    del _patient(broken)["birthDate"]  # the school gets it; the profile requires it (R-3.1-01)
    errors = extract_errors(engine.validator, broken)
    assert [(i.code, i.requirement) for i in errors] == [("required", "R-3.1-01")]
    assert "birthDate" in errors[0].path


def test_a_share_that_carries_a_withheld_element_is_refused(
    school_share: dict[str, Any], engine: Engine
) -> None:
    broken = copy.deepcopy(school_share)
    _patient(broken)["identifier"] = [{"system": "urn:oid:2.16.156.10011.1.3", "value": "x"}]
    errors = extract_errors(engine.validator, broken)
    assert any("identifier" in i.path and i.code == "cardinality" for i in errors)


def test_a_share_that_claims_the_wrong_profile_is_refused(
    school_share: dict[str, Any], engine: Engine
) -> None:
    broken = copy.deepcopy(school_share)
    # the crisis-safety profile lets no extension of the Patient out, not the school's
    _patient(broken)["meta"]["profile"] = [canonical.sd("dc-share-crisis-safety-patient")]
    errors = extract_errors(engine.validator, broken)
    assert errors and all("extension" in i.path for i in errors)
    # a profile of another resource type
    _patient(broken)["meta"]["profile"] = [canonical.sd("dc-share-school-support-careplan")]
    assert any(i.code == "profile" for i in extract_errors(engine.validator, broken))
    # none at all
    del _patient(broken)["meta"]["profile"]
    assert any(i.code == "profile" for i in extract_errors(engine.validator, broken))
