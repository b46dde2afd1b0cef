"""A JSON Schema check for flat records, fast enough for every row of a large list.

``jsonschema`` checks about 6,000 flat records a second on the target
machine — slower than the sync's budget. :func:`compile_schema` turns a
schema that uses only the keywords below into a plain Python predicate
that accepts exactly what ``jsonschema`` accepts (a property test holds
the two together). A row that fails the predicate is then explained by
``jsonschema`` itself, so messages are the same as without the fast path;
a schema using any other keyword is checked with ``jsonschema`` alone.

Supported: ``type`` (one or a list), ``properties``, ``required``,
``additionalProperties`` (boolean), ``items`` (a schema), ``minItems``,
``maxItems``, ``minLength``, ``maxLength``, ``pattern``, ``enum``,
``const``; annotations (``$schema``, ``$id``, ``title``, ``description``,
``$comment``, ``examples``, ``default``) are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset(
    {"$schema", "$id", "title", "description", "$comment", "examples", "default"}
)
_SUPPORTED = _ANNOTATIONS | {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "pattern",
    "enum",
    "const",
}


class Unsupported(Exception):
    """The schema uses a keyword the fast path does not implement."""


def _json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON Schema defines it (1 == 1.0, but True != 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _type_check(name: str) -> Check:
    if name == "string":
        return lambda v: isinstance(v, str)
    if name == "array":
        return lambda v: isinstance(v, list)
    if name == "object":
        return lambda v: isinstance(v, dict)
    if name == "null":
        return lambda v: v is None
    if name == "boolean":
        return lambda v: isinstance(v, bool)
    if name == "integer":
        return lambda v: (
            (isinstance(v, int) and not isinstance(v, bool))
            or (isinstance(v, float) and v.is_integer())
        )
    if name == "number":
        return lambda v: isinstance(v, int | float) and not isinstance(v, bool)
    raise Unsupported(f"type {name!r}")


def compile_schema(schema: Any) -> Check:
    """A predicate equivalent to ``jsonschema``'s ``is_valid`` for ``schema``.

    Raises :class:`Unsupported` when the schema needs a keyword not listed above.
    """
    if isinstance(schema, bool):
        return _enum([]) if not schema else _all_of([])
    if not isinstance(schema, dict):
        raise Unsupported("schema is not an object")
    unknown = set(schema) - _SUPPORTED
    if unknown:
        raise Unsupported(", ".join(sorted(unknown)))
    checks: list[Check] = []
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        checks.append(_any_of([_type_check(n) for n in names]))
    if "enum" in schema:
        checks.append(_enum(list(schema["enum"])))
    if "const" in schema:
        checks.append(_enum([schema["const"]]))
    if "minLength" in schema or "maxLength" in schema:
        checks.append(_length(str, schema.get("minLength", 0), schema.get("maxLength")))
    if "minItems" in schema or "maxItems" in schema:
        checks.append(_length(list, schema.get("minItems", 0), schema.get("maxItems")))
    if "pattern" in schema:
        checks.append(_pattern(re.compile(schema["pattern"])))
    if "items" in schema:
        checks.append(_items(compile_schema(schema["items"])))
    if "properties" in schema or "required" in schema or "additionalProperties" in schema:
        props = {k: compile_schema(s) for k, s in schema.get("properties", {}).items()}
        required = tuple(schema.get("required", ()))
        extra = schema.get("additionalProperties", True)
        if not isinstance(extra, bool):
            raise Unsupported("additionalProperties as a schema")

        def obj(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for k in required:
                if k not in v:
                    return False
            for k, val in v.items():
                c = props.get(k)
                if c is None:
                    if not extra:
                        return False
                elif not c(val):
                    return False
            return True

        checks.append(obj)
    return _all_of(checks)


def _any_of(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]

    def check(v: Any) -> bool:
        return any(c(v) for c in checks)

    return check


def _all_of(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]

    def check(v: Any) -> bool:
        return all(c(v) for c in checks)

    return check


def _enum(options: list[Any]) -> Check:
    strings = frozenset(o for o in options if isinstance(o, str))
    if len(strings) == len(options):

        def check(v: Any) -> bool:
            return isinstance(v, str) and v in strings

        return check

    def check_any(v: Any) -> bool:
        return any(_json_equal(v, o) for o in options)

    return check_any


def _length(kind: type, low: int, high: int | None) -> Check:
    def check(v: Any) -> bool:
        if not isinstance(v, kind):
            return True
        n = len(v)  # type: ignore[arg-type]
        return n >= low and (high is None or n <= high)

    return check


def _pattern(rx: re.Pattern[str]) -> Check:
    search = rx.search

    def check(v: Any) -> bool:
        return not isinstance(v, str) or search(v) is not None

    return check


def _items(item: Check) -> Check:
    def check(v: Any) -> bool:
        return not isinstance(v, list) or all(item(x) for x in v)

    return check
