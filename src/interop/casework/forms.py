"""表单 — the form files of the steps of a case: Annex A–D, the mid-term evaluation, a crisis.

A form file is JSON or TOML (by its suffix). Its content is the record part it fills
(Annex A = :class:`~interop.core.intake.Intake` …) with the same field names as the
case-record file, plus, for some forms, the lists that travel with it (the intake or
closure assessments, the service consent signed with the plan). Each form has a
JSON Schema, generated from the record classes like the case record's and shipped
in ``interop/schemas/forms/`` (a test keeps the files equal to this module).
"""

from __future__ import annotations

import functools
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from interop._errors import InputError
from interop.caserecord import build_part, schema_issues
from interop.core.assessment import Assessment
from interop.core.closure import Closure
from interop.core.consent import Consent
from interop.core.crisis import Crisis
from interop.core.intake import Intake
from interop.core.midterm import Midterm
from interop.core.plan import Plan
from interop.core.schema import _object_schema, record_classes
from interop.core.session import Session
from interop.resources import schemas_dir

FORM_SCHEMA_BASE = "https://fhir.interop.example.org/schema/forms/"


@dataclass(frozen=True, slots=True)
class Form:
    """A form: its name, title, the record part it fills and what travels with it."""

    name: str
    title: str
    part: type
    extras: dict[str, type]  # list field → item class
    optional: tuple[str, ...] = ()  # fields of the part the step fills in when absent
    nonempty: tuple[str, ...] = ()  # lists the paper form requires (at least one entry)


FORMS: dict[str, Form] = {
    f.name: f
    for f in (
        Form(
            "annex-a",
            "心理健康服务可行性评估表 (Annex A, feasibility assessment and intake)",
            Intake,
            {"assessments": Assessment},
            nonempty=("main_problems",),
        ),
        Form(
            "annex-b",
            "心理健康服务方案设计表 (Annex B, service plan)",
            Plan,
            {"consents": Consent},
            ("id", "version", "status"),
            ("problem_types", "theoretical_orientations", "methods", "service_types"),  # B-05..16
        ),
        Form(
            "annex-c",
            "心理健康服务记录表 (Annex C, session record)",
            Session,
            {},
            ("id", "number"),
            ("staff",),  # C-05
        ),
        Form(
            "annex-d",
            "心理健康服务结案表 (Annex D, closure)",
            Closure,
            {"assessments": Assessment},
            ("reason",),
        ),
        Form("midterm", "中期评估 (mid-term evaluation, 7.4.1)", Midterm, {}, ("id",)),
        Form("crisis", "危机干预 (crisis record, 7.6.1)", Crisis, {}, ("id", "status")),
    )
}


def form_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of form ``name``."""
    form = FORMS[name]
    root = _object_schema(form.part)
    root["required"] = [r for r in root["required"] if r not in form.optional]
    for name_ in form.nonempty:
        root["required"].append(name_)
        root["properties"][name_] = {**root["properties"][name_], "minItems": 1}
    for field_name, item in form.extras.items():
        root["properties"][field_name] = {
            "type": "array",
            "items": {"$ref": f"#/$defs/{item.__name__}"},
        }
    classes: dict[str, type] = {}
    for cls in (form.part, *form.extras.values()):
        classes.update(record_classes(cls))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{FORM_SCHEMA_BASE}{name}.schema.json",
        "title": form.title,
        **root,
        "$defs": {n: _object_schema(c) for n, c in sorted(classes.items()) if c is not form.part},
    }


@functools.cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    path = schemas_dir() / "forms" / f"{name}.schema.json"
    return jsonschema.Draft202012Validator(json.loads(path.read_text("utf-8")))


def read_form_file(path: Path | str) -> dict[str, Any]:
    """The content of a JSON or TOML form file; :class:`InputError` when unreadable."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p}: cannot read the form ({exc.strerror})", code="E252") from None
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text) if p.suffix.lower() == ".toml" else json.loads(text)
    except UnicodeDecodeError:
        raise InputError(f"{p}: not UTF-8 text", code="E252") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{p}: not valid TOML ({exc})", code="E252") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise InputError(f"{p}: not valid JSON at {where}", code="E252") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: a form is an object of fields", code="E252")
    plain: dict[str, Any] = _plain(data)
    return plain


def _plain(value: Any) -> Any:
    """TOML dates and times as the ISO strings the record holds."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def parse_form(name: str, data: dict[str, Any], source: str) -> tuple[Any, dict[str, list[Any]]]:
    """Check ``data`` against form ``name``'s schema: the record part and the extras.

    :class:`InputError` (E252, exit 2) lists every field that breaks the schema.
    """
    form = FORMS[name]
    issues = schema_issues(data, _validator(name))
    if issues:
        lines = "; ".join(f"{i.path}: {i.message}" for i in issues[:20])
        raise InputError(f"{source}: the {name} form is not valid: {lines}", code="E252")
    part_data = {k: v for k, v in data.items() if k not in form.extras}
    extras = {k: [build_part(item, v) for v in data.get(k, [])] for k, item in form.extras.items()}
    return part_data, extras


if __name__ == "__main__":  # pragma: no cover - developer tool: regenerate the shipped files
    folder = schemas_dir() / "forms"
    folder.mkdir(exist_ok=True)
    for form_name in FORMS:
        text = json.dumps(form_schema(form_name), ensure_ascii=False, indent=2) + "\n"
        (folder / f"{form_name}.schema.json").write_text(text, "utf-8")
