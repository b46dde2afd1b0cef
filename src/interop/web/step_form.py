"""A step's form page (步骤表单) drawn from the JSON Schema of its input, and the posted
fields turned back into that input — the object the API takes and the CLI's ``--form``
holds, so the console adds no rule of its own: the step checks it like any other.

Each top-level property is one labelled field: a date, a date-time (China time when no
offset is typed), a choice, yes/no, a number, a list (one entry a line) or text; a part
with fields of its own (Annex C's effect, a confirmation, the consents of a plan) is a
JSON text area. An empty field is left out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from interop._errors import InputError
from interop.i18n import N_
from interop.web.field_labels import LABELS

__all__ = ["HINTS", "Field", "fields_of", "input_of"]

#: The shapes of a form schema's field descriptions (the hint beside a field), as the
#: catalogue knows them: the page says a hint through them, the requirement ID kept.
HINTS = (
    N_("requirement {id}"),
    N_("code from ValueSet {valueset}; requirement {id}"),
)
NOT_NUMBER = N_("{field}: not a whole number")
NOT_JSON = N_("{field}: not valid JSON")

_LONG = ("process", "summary", "reflection", "goal", "effect", "rationale", "analysis", "views")


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a step's form page."""

    name: str
    kind: str  # date | moment | choice | yesno | number | lines | text | long | json
    required: bool
    hint: str  # the requirement the schema names (e.g. "requirement C-06")
    options: tuple[str, ...] = ()
    #: the standard's name of the field (a msgid: zh_CN says it, English shows ``name``)
    label: str = ""


def _plain(prop: dict[str, Any]) -> dict[str, Any]:
    """The property without its ``anyOf [X, null]`` (an optional field)."""
    for alt in prop.get("anyOf") or ():
        if alt.get("type") != "null":
            return {**alt, "description": alt.get("description") or prop.get("description")}
    return prop


def _kind(name: str, prop: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    if "enum" in prop:
        return "choice", tuple(str(v) for v in prop["enum"])
    t = prop.get("type")
    pattern = str(prop.get("pattern") or "")
    if t == "string" and "T" in pattern and pattern.startswith("^\\d{4}"):
        return "moment", ()
    if t == "string" and pattern.startswith("^\\d{4}"):
        return "date", ()
    if t == "boolean":
        return "yesno", ()
    if t == "integer":
        return "number", ()
    if t == "array" and (prop.get("items") or {}).get("type") == "string":
        return "lines", ()
    if t == "string":
        return ("long" if any(w in name for w in _LONG) else "text"), ()
    return "json", ()


def fields_of(schema: dict[str, Any], skip: frozenset[str] = frozenset()) -> list[Field]:
    """The fields of a step's form page, in the schema's order (required ones first)."""
    required = set(schema.get("required") or ())
    out = []
    for name, raw in (schema.get("properties") or {}).items():
        if name in skip:
            continue
        prop = _plain(raw)
        kind, options = _kind(name, prop)
        hint = str(prop.get("description") or raw.get("description") or "")
        out.append(Field(name, kind, name in required, hint, options, LABELS.get(name, name)))
    out.sort(key=lambda f: not f.required)
    return out


def input_of(fields: list[Field], form: dict[str, str]) -> dict[str, Any]:
    """The step's input object from posted fields (:class:`InputError` E252 naming a field
    that is not a number or not JSON)."""
    data: dict[str, Any] = {}
    for f in fields:
        raw = (form.get(f.name) or "").strip()
        if not raw:
            continue
        if f.kind == "moment":
            data[f.name] = _moment(raw)
        elif f.kind == "yesno":
            data[f.name] = raw == "yes"
        elif f.kind == "number":
            try:
                data[f.name] = int(raw)
            except ValueError:
                raise InputError(NOT_NUMBER.format(field=f.name), code="E252") from None
        elif f.kind == "lines":
            data[f.name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif f.kind == "json":
            try:
                data[f.name] = json.loads(raw)
            except ValueError:
                raise InputError(NOT_JSON.format(field=f.name), code="E252") from None
        else:
            data[f.name] = raw
    return data


def _moment(raw: str) -> str:
    """A browser's ``datetime-local`` value (no offset) as China time with seconds."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", raw):
        return raw + ":00+08:00"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", raw):
        return raw + "+08:00"
    return raw
