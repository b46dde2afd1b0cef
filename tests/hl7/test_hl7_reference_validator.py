"""Every Bundle interop emits is valid under the HL7 FHIR reference validator with our package.

The proof a partner's system (HAPI's FhirInstanceValidator, the official
validator_cli) would give: the vendored engine (``tools/hl7-validator``), R4
4.0.1, ``--ig profiles``, run ONCE over every Bundle (each fixture mapped, each
purpose's share, each referral transaction and crisis Bundle) plus one Bundle
that must fail. Our own validator stays the fast path; this is the check of
ourselves by someone else. Needs Java 17+ (``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from emitted import PARTNERS, ROOT, write_all

from interop.config import load_config
from interop.engine import Engine
from interop.store import Archive

VALIDATOR = ROOT / "tools" / "hl7-validator" / "validate"
PROFILES = ROOT / "profiles"

# Skipped without Java outside CI only; under CI (.ci/run installs Java 17) a missing Java fails.
pytestmark = pytest.mark.skipif(
    shutil.which("java") is None and not os.environ.get("CI"),
    reason="Java 17+ is needed for the HL7 reference validator",
)


def _run(args: list[str], home: Path) -> tuple[int, list[dict[str, Any]], str]:
    proc = subprocess.run(
        [str(VALIDATOR), *args],
        capture_output=True,
        text=True,
        timeout=1500,
        env={**os.environ, "HL7_VALIDATOR_HOME": str(home)},
        check=False,
    )
    lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    return proc.returncode, lines, proc.stderr[-2000:]


def _broken(folder: Path, good: Path) -> Path:
    """A mapped Bundle with an undefined extension and a code outside its value set."""
    bundle = json.loads(good.read_text("utf-8"))
    patient = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    patient["extension"].append(
        {"url": "https://fhir.jxdcmh.cn/StructureDefinition/no-such-extension", "valueString": "x"}
    )
    patient["gender"] = "unknown-ish"
    path = folder / "zz-must-fail.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), "utf-8")
    return path


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    work = tmp_path_factory.mktemp("hl7")
    folder = work / "bundles"
    folder.mkdir()
    (work / "partners.toml").write_text(PARTNERS, "utf-8")
    config = load_config(work / "partners.toml")
    with Archive.create(f"sqlite:///{work / 'archive.sqlite3'}") as archive:
        paths = write_all(folder, Engine(), archive, config)
    paths.append(_broken(folder, paths[0]))
    args = ["--ig", str(PROFILES), *map(str, paths)]
    _, lines, stderr = _run(args, work / "home")
    out = {Path(x["file"]).name: x for x in lines}
    assert len(out) == len(paths), stderr
    return out


def _errors(result: dict[str, Any]) -> list[str]:
    return [
        f"{m['location']}: {m['message']}"
        for m in result["messages"]
        if m["severity"] in ("error", "fatal")
    ]


def test_every_emitted_bundle_has_no_error_under_the_reference_validator(
    results: dict[str, dict[str, Any]],
) -> None:
    kinds = Counter(name.split("-")[0] for name in results)
    # 6 fixtures mapped; 8 purpose/kind shares of each; a referral and a crisis Bundle of each
    assert kinds["map"] == 6 and kinds["referral"] == 6 and kinds["crisis"] == 6
    assert kinds["share"] >= 6 * 7
    bad = {
        name: _errors(r)[:3]
        for name, r in results.items()
        if r["error"] and name != "zz-must-fail.json"
    }
    assert bad == {}


def test_the_reference_validator_can_fail(results: dict[str, dict[str, Any]]) -> None:
    errors = _errors(results["zz-must-fail.json"])
    assert any("no-such-extension" in e for e in errors)
    assert any("gender" in e for e in errors)


def test_every_resource_has_a_chinese_narrative_and_language(
    results: dict[str, dict[str, Any]],
) -> None:
    # dom-6 (narrative) and display-language warnings are gone everywhere
    ids = Counter(
        m["id"] for r in results.values() for m in r["messages"] if m["severity"] == "warning"
    )
    assert "http://hl7.org/fhir/StructureDefinition/DomainResource#dom-6" not in ids
    assert "Language_XHTML_Lang_Missing1" not in ids


def test_every_structure_definition_of_the_package_can_be_snapshotted(tmp_path: Path) -> None:
    code, lines, stderr = _run(["--check-igs", "--ig", str(PROFILES)], tmp_path / "home")
    assert lines, stderr
    bad = {x["sd"]: x["problems"] for x in lines if not x["ok"]}
    assert bad == {}
    assert code == 0
    names = {Path(x["file"]).name for x in lines}
    assert "StructureDefinition-dc-encounter.json" in names
    assert "StructureDefinition-home-visit-safety.json" in names
