"""The form files of the steps: shipped JSON Schemas, JSON and TOML, required fields.

A field a form requires is refused when missing (E252, exit 2) with its name: that
is how the requirement IDs below are enforced at the step.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from case_support import FORMS, doc

from interop._errors import InputError
from interop.casework.forms import FORMS as FORM_DEFS
from interop.casework.forms import form_schema, parse_form, read_form_file
from interop.resources import schemas_dir


@pytest.mark.parametrize("name", list(FORM_DEFS))
def test_shipped_form_schemas_equal_the_generated_ones(name: str) -> None:
    shipped = json.loads((schemas_dir() / "forms" / f"{name}.schema.json").read_text("utf-8"))
    assert shipped == form_schema(name), "run: python -m interop.casework.forms"


def test_one_schema_per_annex_and_the_mid_term_and_crisis() -> None:
    assert set(FORM_DEFS) == {"annex-a", "annex-b", "annex-c", "annex-d", "midterm", "crisis"}


@pytest.mark.parametrize(
    ("file", "form"),
    [
        ("annex-a.toml", "annex-a"),
        ("annex-b.json", "annex-b"),
        ("session.toml", "annex-c"),
        ("annex-d.toml", "annex-d"),
    ],
)
def test_bundled_forms_are_valid(file: str, form: str) -> None:
    data, extras = parse_form(form, read_form_file(FORMS / file), file)
    assert data and all(isinstance(v, list) for v in extras.values())


def test_toml_and_json_give_the_same_content(tmp_path: Path) -> None:
    toml = read_form_file(FORMS / "session.toml")
    path = tmp_path / "session.json"
    path.write_text(json.dumps(toml, ensure_ascii=False), "utf-8")
    assert read_form_file(path) == toml


def _without(file: str, field: str) -> dict[str, Any]:
    path = FORMS / file
    raw = path.read_text("utf-8")
    data: dict[str, Any] = tomllib.loads(raw) if path.suffix == ".toml" else json.loads(raw)
    data.pop(field)
    return data


@pytest.mark.parametrize(
    ("req", "file", "form", "field"),
    [
        ("R-7.1.1-02", "annex-a.toml", "annex-a", "home_visit_verification"),
        ("R-7.1.1-03", "annex-a.toml", "annex-a", "main_problems"),
        ("R-7.1.1-04", "annex-a.toml", "annex-a", "family_situation"),
        ("R-A-01", "annex-a.toml", "annex-a", "assessor"),
        ("R-A-01", "annex-a.toml", "annex-a", "assessment_date"),
        ("R-4.4-01", "annex-b.json", "annex-b", "case_background"),
        ("R-7.2.1-02", "annex-b.json", "annex-b", "intervention_pathway"),
        ("R-8.2-01", "annex-b.json", "annex-b", "theoretical_orientations"),
        ("R-8.2-01", "session.toml", "annex-c", "theoretical_orientation"),
        ("R-6.1.2-01", "session.toml", "annex-c", "method"),
        ("R-9.2-05", "session.toml", "annex-c", "effect"),
        ("R-7.5.1-01", "annex-d.toml", "annex-d", "service_summary"),
    ],
)
def test_a_required_field_missing_is_refused_by_name(
    req: str, file: str, form: str, field: str
) -> None:
    with pytest.raises(InputError) as err:
        parse_form(form, _without(file, field), file)
    assert err.value.code == "E252" and field in str(err.value), req


def test_an_assessment_without_its_scale_is_refused_r_6_1_1_01() -> None:
    data = read_form_file(FORMS / "annex-a.toml")
    del data["assessments"][0]["scale_code"]
    with pytest.raises(InputError, match="scale_code"):
        parse_form("annex-a", data, "annex-a.toml")


def test_form_messages_carry_no_personal_data(tmp_path: Path) -> None:
    data = read_form_file(FORMS / "annex-a.toml")
    data["family_situation"] = 12
    with pytest.raises(InputError) as err:
        parse_form("annex-a", data, "a.toml")
    names = [a["name"] for a in doc("listed.json")["adults"]]
    assert not any(n in str(err.value) for n in names)
    assert "12" not in str(err.value).replace("E252", "")
