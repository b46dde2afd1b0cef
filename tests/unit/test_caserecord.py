"""The case-record loader on broken files (tests/data/cases/invalid).

Each file is a small modification of ``fixtures/cases/01-medium-in-service.json``
written by ``python tools/synth.py --write-invalid tests/data/cases/invalid``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import synth  # type: ignore[import-not-found]  # tools/synth.py, on the pytest path

from interop._errors import InputError
from interop.caserecord import load_case_file, read_case_file
from interop.core.masking import mask_id
from interop.resources import profiles_dir

ROOT = Path(__file__).resolve().parents[2]
INVALID = ROOT / "tests" / "data" / "cases" / "invalid"
BASE = ROOT / "fixtures" / "cases" / "01-medium-in-service.json"


#: file → the one error expected: (path, code, words the message must contain)
EXPECTED: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "wrong-check-digit.json": ("child.resident_id", "resident-id", ("check character",)),
    "birth-date-mismatch.json": (
        "child.birth_date",
        "resident-id",
        ("child.birth_date", "child.resident_id"),
    ),
    "sex-mismatch.json": ("child.sex", "resident-id", ("child.sex", "child.resident_id")),
    "unknown-code.json": ("case.risk_level", "binding", ("extreme", "risk-level")),
    "missing-child-name.json": ("child.name", "schema", ("required",)),
    "unknown-staff.json": ("sessions[0].staff[0]", "reference", ("staff-99",)),
}


@pytest.fixture(scope="module")
def term() -> Any:
    if not (profiles_dir() / "terminology").is_dir():
        pytest.skip("profiles/terminology/ does not exist yet, so codes cannot be checked")
    from interop.fhir.terminology import Terminology

    return Terminology.load()


def _secrets() -> list[str]:
    """The child's name and every unmasked resident ID used in the invalid files."""
    base = json.loads(BASE.read_text("utf-8"))
    out = [base["child"]["name"], base["child"]["resident_id"]]
    for path in INVALID.glob("*.json"):
        if path.name in EXPECTED:
            rid = json.loads(path.read_text("utf-8"))["child"]["resident_id"]
            out.append(rid)
    return sorted(set(out))


def test_every_invalid_file_is_covered() -> None:
    names = {p.name for p in INVALID.glob("*.json")}
    assert names == set(EXPECTED) | {synth.TRUNCATED}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_file_gives_one_error_at_the_field(name: str, term: Any) -> None:
    path, code, words = EXPECTED[name]
    checked = load_case_file(INVALID / name, term)
    assert not checked.ok
    errors = [i for i in checked.issues if i.severity == "error"]
    assert [(i.path, i.code) for i in errors] == [(path, code)], [i.line() for i in errors]
    for word in words:
        assert word in errors[0].message


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_messages_carry_no_personal_data(name: str, term: Any) -> None:
    """4.3 / 9.3: issues name fields and masked IDs, never the name or the full ID."""
    checked = load_case_file(INVALID / name, term)
    secrets = _secrets()
    for issue in checked.issues:
        for secret in secrets:
            assert secret not in issue.message
            assert secret not in issue.path


@pytest.mark.parametrize("name", ["wrong-check-digit.json", "birth-date-mismatch.json"])
def test_resident_id_is_named_masked(name: str, term: Any) -> None:
    rid = json.loads((INVALID / name).read_text("utf-8"))["child"]["resident_id"]
    (issue,) = load_case_file(INVALID / name, term).issues
    assert mask_id(rid) in issue.message
    assert rid not in issue.message


def test_truncated_file_is_an_input_error() -> None:
    with pytest.raises(InputError) as info:
        read_case_file(INVALID / synth.TRUNCATED)
    assert "not valid JSON" in info.value.message
    assert info.value.exit_code == 2
    for secret in _secrets():
        assert secret not in str(info.value)


def test_truncated_file_fails_load_too(term: Any) -> None:
    with pytest.raises(InputError):
        load_case_file(INVALID / synth.TRUNCATED, term)


def test_base_fixture_is_clean(term: Any) -> None:
    """The invalid files differ from a clean record by exactly their one change."""
    checked = load_case_file(BASE, term)
    assert checked.ok, [i.line() for i in checked.issues]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_file_is_the_generator_output(name: str) -> None:
    """Regenerate with ``python tools/synth.py --write-invalid DIR`` when this fails."""
    assert (INVALID / name).read_text("utf-8") == synth.dumps(synth.invalid_cases()[name])


def test_truncated_file_is_the_generator_output() -> None:
    full = synth.dumps(synth.make_case(*synth.FIXTURES[BASE.name]))
    assert (INVALID / synth.TRUNCATED).read_text("utf-8") == full[: len(full) // 3]
