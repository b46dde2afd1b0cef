"""The FHIR package (profiles/): sound, complete, reproducible, described (D-45, D-46)."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest

from interop.cli import main
from interop.fhir import canonical, package, profiles_doc
from interop.resources import mappings_dir, profiles_dir

ROOT = Path(__file__).resolve().parents[2]
OTHER_BASE = "https://fhir.example-province.cn/dcmh"


def _used() -> list[str]:
    return package.used_extensions(mappings_dir() / "fhir")


def test_the_package_is_sound_and_defines_every_extension_the_mappings_use() -> None:
    assert package.check(profiles_dir(), _used()) == []
    assert len(_used()) >= 39
    pkg = package.manifest(profiles_dir())
    assert pkg["fhirVersions"] == ["4.0.1"]
    assert pkg["dependencies"] == {"hl7.fhir.r4.core": "4.0.1"}
    assert pkg["canonical"] == canonical.BASE
    assert "example.org" not in canonical.BASE


def test_check_names_a_missing_extension_and_a_stale_index(tmp_path: Path) -> None:
    folder = tmp_path / "profiles"
    shutil.copytree(profiles_dir(), folder)
    (folder / "extensions" / "StructureDefinition-homework.json").unlink()
    problems = package.check(folder, _used())
    assert "the mappings use extension 'homework', which has no definition" in problems
    assert any(p.startswith(".index.json is not current") for p in problems)
    package.write_index(folder)
    assert package.check(folder, [n for n in _used() if n != "homework"]) == []


def test_check_names_a_binding_to_a_value_set_the_package_lacks(tmp_path: Path) -> None:
    folder = tmp_path / "profiles"
    shutil.copytree(profiles_dir(), folder)
    (folder / "terminology" / "ValueSet-attendance-status.json").unlink()
    package.write_index(folder)
    problems = package.check(folder)
    assert any(
        p.startswith("extensions/StructureDefinition-attendance.json: valueSet names")
        and p.endswith("/ValueSet/attendance-status, which the package lacks")
        for p in problems
    ), problems


def _members(tgz: Path) -> dict[str, bytes]:
    with tarfile.open(tgz) as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def test_build_writes_a_flat_reproducible_package(tmp_path: Path) -> None:
    a, b = tmp_path / "a.tgz", tmp_path / "b.tgz"
    package.build(profiles_dir(), a)
    package.build(profiles_dir(), b)
    assert a.read_bytes() == b.read_bytes()
    files = _members(a)
    index = json.loads(files["package/.index.json"])
    listed = {f["filename"] for f in index["files"]}
    assert listed == {n.removeprefix("package/") for n in files} - {"package.json", ".index.json"}
    assert "StructureDefinition-home-visit-safety.json" in listed
    assert "SearchParameter-episodeofcare-case-number.json" in listed
    ig = json.loads(files["package/ImplementationGuide-jxdcmh.db36t2143.r4.json"])
    refs = {r["reference"]["reference"] for r in ig["definition"]["resource"]}
    assert len(refs) == len(listed) - 1  # every artefact but the guide itself
    assert not any(n.startswith("package/base") or "required-bindings" in n for n in files)


def test_a_province_builds_the_package_under_its_own_base(tmp_path: Path) -> None:
    out = tmp_path / "p.tgz"
    package.build(profiles_dir(), out, base=OTHER_BASE)
    files = _members(out)
    text = b"".join(files.values()).decode("utf-8")
    assert canonical.BASE not in text
    sd = json.loads(files["package/StructureDefinition-dc-patient.json"])
    assert sd["url"] == f"{OTHER_BASE}/StructureDefinition/dc-patient"
    assert json.loads(files["package/package.json"])["canonical"] == OTHER_BASE


def test_package_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["package", "check"]) == 0
    assert "the package is sound" in capsys.readouterr().out
    out = tmp_path / "pkg.tgz"
    assert main(["package", "build", "--out", str(out)]) == 0
    assert "jxdcmh.db36t2143.r4#0.1.0" in capsys.readouterr().out
    assert "package/package.json" in _members(out)


def test_docs_profiles_md_is_current() -> None:
    """docs/profiles.md is generated: `interop package doc --out docs/profiles.md`."""
    text = profiles_doc.render(profiles_dir())
    assert (ROOT / "docs" / "profiles.md").read_text("utf-8") == text
    for name in ("dc-patient", "home-visit-safety", "risk-level", "episodeofcare-case-number"):
        assert f"`{name}`" in text
    assert "| `dc-careplan` | CarePlan |" in text and "R-7.2.1-03" in text
