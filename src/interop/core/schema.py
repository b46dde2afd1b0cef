"""The case-record JSON Schema, derived from the core records (one source of truth).

The shipped file ``interop/schemas/case-record.schema.json`` is generated
from here (``python -m interop.core.schema``) and a test keeps the two equal.
Codes are checked against the programme's ValueSets on load, not here,
because some code systems are configurable (G-24).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any

from interop.core.record import CaseRecord

SCHEMA_ID = "https://fhir.jxdcmh.cn/schema/case-record.schema.json"

_DATE = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"
_YEAR_MONTH_OR_DATE = r"^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$"
_DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$"

#: Field names whose strings are dates or date-times (by the standard's forms).
DATE_FIELDS = frozenset(
    {
        "date",
        "assessment_date",
        "intake_date",
        "list_received_date",
        "designation_date",
        "record_date",
        "created",
        "period_start",
        "period_end",
        "due",
        "end_date",
        "withdrawn_date",
        "agreement_date",
        "agreement_end",
        "review_date",
        "received",
        "reported",
        "completed",
        "qualification_reviewed",
    }
)
DATETIME_FIELDS = frozenset(
    {
        "start",
        "end",
        "time",
        "detected_at",
        "resolved_at",
        "reported_to_commissioner_at",
        "stabilised_at",
        "received_at",
        "discharged",
    }
)


@functools.cache
def hints(cls: type) -> dict[str, Any]:
    """Resolved type hints of a record class (cached)."""
    return typing.get_type_hints(cls)


def unwrap_optional(tp: Any) -> tuple[Any, bool]:
    """``X | None`` → ``(X, True)``; anything else → ``(tp, False)``."""
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def _field_schema(name: str, tp: Any, meta: Any) -> dict[str, Any]:
    inner, optional = unwrap_optional(tp)
    schema: dict[str, Any]
    origin = typing.get_origin(inner)
    if origin is list:
        (item,) = typing.get_args(inner)
        schema = {"type": "array", "items": _field_schema(name, item, {})}
    elif dataclasses.is_dataclass(inner) and isinstance(inner, type):
        schema = {"$ref": f"#/$defs/{inner.__name__}"}
    elif inner is bool:
        schema = {"type": "boolean"}
    elif inner is int:
        schema = {"type": "integer", "minimum": 0}
    elif inner is float:
        schema = {"type": "number"}
    else:
        schema = {"type": "string", "minLength": 1}
        if name == "birth_date":
            schema["pattern"] = _YEAR_MONTH_OR_DATE
        elif name in DATE_FIELDS:
            schema["pattern"] = _DATE
        elif name in DATETIME_FIELDS:
            schema["pattern"] = _DATETIME
    desc = []
    if meta.get("valueset"):
        desc.append(f"code from ValueSet {meta['valueset']}")
    if meta.get("req"):
        desc.append(f"requirement {meta['req']}")
    if desc:
        schema = {**schema, "description": "; ".join(desc)}
    if optional:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


def _object_schema(cls: type) -> dict[str, Any]:
    props: dict[str, Any] = {}
    required: list[str] = []
    th = hints(cls)
    for f in dataclasses.fields(cls):
        props[f.name] = _field_schema(f.name, th[f.name], f.metadata)
        no_default = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if no_default:
            required.append(f.name)
    doc = (cls.__doc__ or "").strip().splitlines()[0]
    return {
        "type": "object",
        "description": doc,
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


def record_classes(root: type = CaseRecord) -> dict[str, type]:
    """Every record class reachable from ``root``, by name."""
    found: dict[str, type] = {}

    def visit(cls: type) -> None:
        if cls.__name__ in found:
            return
        found[cls.__name__] = cls
        for tp in hints(cls).values():
            inner, _ = unwrap_optional(tp)
            if typing.get_origin(inner) is list:
                inner = typing.get_args(inner)[0]
            if dataclasses.is_dataclass(inner) and isinstance(inner, type):
                visit(inner)

    visit(root)
    return found


def case_record_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a case-record file."""
    classes = record_classes()
    root = _object_schema(CaseRecord)
    root["properties"]["format_version"] = {"const": "1.0"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "interop case record (一人一档), DB36/T 2143-2025",
        **root,
        "$defs": {
            name: _object_schema(cls)
            for name, cls in sorted(classes.items())
            if cls is not CaseRecord
        },
    }


if __name__ == "__main__":  # pragma: no cover - developer tool
    import json
    import sys

    json.dump(case_record_schema(), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
