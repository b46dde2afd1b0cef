"""Purpose policies are data, checked when loaded: errors name the file, the line
and the entry (unknown element path, resource type, purpose, consent topic)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from interop._errors import DataFileError
from interop.privacy.policy import load_policies
from interop.resources import mappings_dir

POLICIES = mappings_dir() / "purposes"
REQUIRED = {"hosp-referral", "school-support", "ca-oversight", "community-linkage", "crisis"}


def test_bundled_policies_load_and_cover_the_required_purposes() -> None:
    ps = load_policies()
    assert set(ps.purposes()) >= REQUIRED
    assert ps.find("school-support", "school") is not None
    assert ps.find("crisis", "school") is not None  # safety instructions only
    assert ps.find("school-support", "hospital-fhir") is None
    for p in ps.policies:
        assert p.break_glass == (p.purpose == "crisis")
        for rules in p.rules.values():
            for r in rules:
                assert r.rows, f"{p.file} {r.type}: cite the matrix rows"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "purposes"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def _school_text() -> str:
    return (POLICIES / "school-support.json").read_text("utf-8")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('"Patient.birthDate"', '"Patient.birthdate"', "unknown element 'birthdate' of Patient"),
        ('"type": "CarePlan"', '"type": "CarePlann"', "unknown resource type 'CarePlann'"),
        ('"purpose": "school-support"', '"purpose": "schooling"', "unknown purpose 'schooling'"),
        ('"topic": "school-contact"', '"topic": "school"', "unknown consent topic 'school'"),
        ('"Patient.gender"', '"Pateint.gender"', "must start with 'Patient.'"),
        ('"RelatedPerson.name"', '"RelatedPerson.name.given.foo"', "below a primitive"),
        ('"ceiling": "R"', '"ceiling": "X"', "must be one of"),
        ('"rows": [29]', '"rows": [35]', "matrix rows 1–34"),
    ],
)
def test_errors_name_file_line_and_entry(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = _school_text()
    assert old in text
    broken = text.replace(old, new, 1)
    folder = _write(tmp_path, "school-support.json", broken)
    with pytest.raises(DataFileError) as info:
        load_policies(folder)
    err = info.value
    assert err.file == "school-support.json"
    assert message in err.problem
    line = next(i + 1 for i, ln in enumerate(broken.splitlines()) if new in ln)
    assert err.entry.startswith(f"line {line}:"), (err.entry, line)


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    folder = _write(tmp_path, "x.json", '{\n  "purpose": "crisis",\n  oops\n}')
    with pytest.raises(DataFileError, match=r"x.json: line 3"):
        load_policies(folder)


def test_the_same_purpose_and_kind_twice_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "purposes"
    folder.mkdir()
    shutil.copy(POLICIES / "school-support.json", folder / "a.json")
    shutil.copy(POLICIES / "school-support.json", folder / "b.json")
    with pytest.raises(DataFileError, match=r"also defined in a\.json"):
        load_policies(folder)


def test_unknown_key_is_an_error(tmp_path: Path) -> None:
    data = json.loads(_school_text())
    data["allow_everything"] = True
    folder = _write(tmp_path, "s.json", json.dumps(data, indent=2))
    with pytest.raises(DataFileError, match="allow_everything: unknown key"):
        load_policies(folder)


def test_every_policy_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "purposes.md").read_text("utf-8")
    for p in load_policies().policies:
        assert f"(`{p.file}`)" in doc, f"{p.file} is not listed in docs/purposes.md"
