"""The package loaded into Medplum: Medplum then holds what we send to our profiles.

The loopback server (tests/fhirserver) is Medplum's router and validator; like the
Medplum server it validates a resource on create against each stored StructureDefinition
its ``meta.profile`` names (``$validate`` too). The package goes in as a partner loads it:
snapshots written by the vendored HL7 engine (``--snapshot-out``), one transaction Bundle
of every conformance resource (``interop package bundle``). Needs Java 17+ and node.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import harness
import pytest
from emitted import PARTNERS, write_all

from interop.cli import main
from interop.config import load_config
from interop.engine import Engine
from interop.fhir.canonical import sd
from interop.store import Archive

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "tools" / "hl7-validator" / "validate"
CASES = sorted((ROOT / "fixtures" / "cases").glob("*.json"))

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None and not os.environ.get("CI"),
    reason="Java 17+ is needed to write the snapshots (HL7 reference validator)",
)


@pytest.fixture(scope="module")
def medplum(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.FhirServer]:
    work = tmp_path_factory.mktemp("medplum")
    done = subprocess.run(
        [str(VALIDATOR), "--snapshot-out", str(work / "snap"), "--ig", str(ROOT / "profiles")],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "HL7_VALIDATOR_HOME": str(work / "home")},
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    load = work / "load.json"
    args = ["package", "bundle", "--snapshots", str(work / "snap"), "--out", str(load)]
    assert main(args) == 0
    server = harness.start()
    try:
        status, answer = server.request("POST", "", json.loads(load.read_text("utf-8")))
        assert status == 200, answer
        statuses = Counter(e["response"]["status"][:3] for e in answer["entry"])
        assert set(statuses) <= {"200", "201"}, statuses
        yield server
    finally:
        server.stop()


def _profiled(case: Path, tmp: Path) -> list[dict[str, Any]]:
    """The resources of the mapped case that claim one of our profiles."""
    out = tmp / f"{case.stem}.json"
    assert main(["map", str(case), "--out", str(out)]) == 0
    bundle = json.loads(out.read_text("utf-8"))
    return [e["resource"] for e in bundle["entry"] if e["resource"].get("meta", {}).get("profile")]


def _patient(tmp: Path) -> dict[str, Any]:
    return next(r for r in _profiled(CASES[0], tmp) if r["resourceType"] == "Patient")


def _texts(answer: Any) -> str:
    return " ".join(i.get("details", {}).get("text", "") for i in answer.get("issue", []))


def test_medplum_holds_the_package(medplum: harness.FhirServer) -> None:
    found = medplum.search(f"StructureDefinition?url={sd('dc-patient')}")
    assert len(found) == 1 and found[0]["snapshot"]["element"]
    assert medplum.search("ValueSet?url=https://fhir.jxdcmh.cn/ValueSet/risk-level")


def test_medplum_accepts_every_profiled_resource_we_map(
    medplum: harness.FhirServer, tmp_path: Path
) -> None:
    kinds: Counter[str] = Counter()
    for case in CASES:
        for resource in _profiled(case, tmp_path):
            status, answer = medplum.request("POST", resource["resourceType"], resource)
            assert status == 201, (case.name, resource["resourceType"], _texts(answer))
            kinds[resource["meta"]["profile"][0].rsplit("/", 1)[-1]] += 1
    assert {"dc-patient", "dc-careplan", "dc-encounter", "dc-observation-scale"} <= set(kinds)


def test_medplum_refuses_a_patient_without_a_required_extension(
    medplum: harness.FhirServer, tmp_path: Path
) -> None:
    patient = _patient(tmp_path)
    patient["extension"] = [x for x in patient["extension"] if x["url"] != sd("ethnicity")]
    status, answer = medplum.request("POST", "Patient", patient)
    assert status == 400 and "ethnicity" in _texts(answer)
    status, answer = medplum.request("POST", "Patient/$validate", patient)
    assert status == 400 and "ethnicity" in _texts(answer)
    # the refusal is the profile's: without meta.profile base R4 lets it in
    del patient["meta"]
    status, _ = medplum.request("POST", "Patient", patient)
    assert status == 201


def test_medplum_refuses_a_plan_that_breaks_an_invariant(
    medplum: harness.FhirServer, tmp_path: Path
) -> None:
    plan = next(r for r in _profiled(CASES[0], tmp_path) if r["resourceType"] == "CarePlan")
    status, answer = medplum.request("POST", "CarePlan/$validate", plan)
    assert status == 200, _texts(answer)
    short = copy.deepcopy(plan)
    for activity in short["activity"]:
        activity["detail"]["scheduledTiming"]["repeat"]["count"] = 5
    status, answer = medplum.request("POST", "CarePlan", short)
    assert status == 400 and "dc-cp-1" in _texts(answer)  # R-7.2.1-03


def test_medplum_accepts_each_shared_resource_under_its_purpose_profile(
    medplum: harness.FhirServer, tmp_path: Path
) -> None:
    """What a partner's Medplum receives claims the purpose profiles and meets them (D-78)."""
    (tmp_path / "partners.toml").write_text(PARTNERS, "utf-8")
    config = load_config(tmp_path / "partners.toml")
    folder = tmp_path / "bundles"
    folder.mkdir()
    with Archive.create(f"sqlite:///{tmp_path / 'archive.sqlite3'}") as archive:
        paths = write_all(folder, Engine(), archive, config, CASES[:1])
    claimed: Counter[str] = Counter()
    for path in paths:
        if not path.name.startswith("share-"):
            continue
        for entry in json.loads(path.read_text("utf-8"))["entry"]:
            resource = entry["resource"]
            (profile,) = resource["meta"]["profile"]
            status, answer = medplum.request("POST", resource["resourceType"], resource)
            assert status == 201, (path.name, profile, _texts(answer))
            claimed[profile.rsplit("/", 1)[-1]] += 1
    assert "dc-share-school-support-patient" in claimed and len(claimed) > 30
    # and refuses one that carries what its purpose withholds
    school = json.loads((folder / "share-01-school-support-school.json").read_text("utf-8"))
    resources = [e["resource"] for e in school["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    patient["identifier"] = [{"system": "urn:oid:2.16.156.10011.1.3", "value": "x"}]
    status, answer = medplum.request("POST", "Patient", patient)
    assert status == 400 and answer["issue"][0]["expression"] == ["Patient.identifier"]
