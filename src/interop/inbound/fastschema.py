"""A JSON Schema check for flat records, fast enough for every row of a large list.

``jsonschema`` checks about 6,000 flat records a second on the target
machine — slower than the sync's budget. :func:`compile_schema` turns a
schema that uses only the keywords below into a plain Python predicate
that accepts exactly what ``jsonschema`` accepts (a property test holds
the two together): it generates the source of small functions, one per
object, with each property's check as one inline expression. Only the
schema's structure reaches the generated source (keys as ``repr`` literals,
integers); every other value from the schema is bound by name. A row
that fails the predicate is then explained by ``jsonschema`` itself, so
messages are the same as without the fast path; a schema using any other
keyword is checked with ``jsonschema`` alone.

Supported: ``type`` (one or a list), ``properties``, ``required``,
``additionalProperties`` (boolean or a schema), ``minProperties``,
``maxProperties``, ``items`` (a schema), ``minItems``, ``maxItems``,
``minLength``, ``maxLength``, ``pattern``, ``enum``, ``const``, ``anyOf``;
annotations (``$schema``, ``$id``, ``title``, ``description``,
``$comment``, ``examples``, ``default``) are ignored.

A schema compiles only when each of these keywords has a value the Draft
2020-12 meta-schema allows (an ``enum`` that is an array, ``required``
unique strings, …): a schema that compiles is a valid schema, so a caller
need not load ``jsonschema`` to check it (:func:`is_valid_schema`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset(
    {"$schema", "$id", "title", "description", "$comment", "examples", "default"}
)
#: The keywords of an object schema that :func:`compile_split` can take apart (all of them
#: look at one property at a time, or at none).
_SPLITTABLE = _ANNOTATIONS | {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "minProperties",
    "maxProperties",
}
_SUPPORTED = _SPLITTABLE | {
    "anyOf",
    "items",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "pattern",
    "enum",
    "const",
}
_TYPES = {
    "string": "isinstance({v}, str)",
    "array": "isinstance({v}, list)",
    "object": "isinstance({v}, dict)",
    "null": "{v} is None",
    "boolean": "isinstance({v}, bool)",
    "integer": "((isinstance({v}, int) and not isinstance({v}, bool))"
    " or (isinstance({v}, float) and {v}.is_integer()))",
    "number": "(isinstance({v}, (int, float)) and not isinstance({v}, bool))",
}

_TYPE_OF = {"str": "string", "list": "array"}


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


def _count(schema: dict[str, Any], key: str) -> int:
    n = schema[key]
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise Unsupported(f"{key} must be a non-negative integer")
    return n


class _Generator:
    def __init__(self) -> None:
        self.ns: dict[str, Any] = {"_json_equal": _json_equal, "_missing": object()}
        self.n = 0

    def bind(self, value: Any) -> str:
        self.n += 1
        name = f"_c{self.n}"
        self.ns[name] = value
        return name

    def function(self, schema: Any) -> str:
        self.n += 1
        name = f"_f{self.n}"
        src = f"def {name}(x):\n    return {self.expr(schema, 'x')}\n"
        exec(compile(src, f"<schema {name}>", "exec"), self.ns)
        return name

    def expr(self, schema: Any, v: str) -> str:
        if isinstance(schema, bool):
            return "True" if schema else "False"
        if not isinstance(schema, dict):
            raise Unsupported("schema is not an object")
        unknown = set(schema) - _SUPPORTED
        if unknown:
            raise Unsupported(", ".join(sorted(unknown)))
        _check_annotations(schema)
        parts: list[str] = []
        if "type" in schema:
            names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not names or any(n not in _TYPES for n in names) or len(set(names)) < len(names):
                raise Unsupported(f"type {schema['type']!r}")
            parts.append("(" + " or ".join(_TYPES[n].format(v=v) for n in names) + ")")
        # One "type" checked first makes the guards of the keywords of that type
        # (``not isinstance(v, str) or …``) always true: they are left out.
        only = schema.get("type") if isinstance(schema.get("type"), str) else None
        if "enum" in schema:
            if not isinstance(schema["enum"], list):
                raise Unsupported("enum is not an array")
            options = list(schema["enum"])
            if all(isinstance(o, str) for o in options):
                member = f"{v} in {self.bind(frozenset(options))}"
                parts.append(member if only == "string" else f"(isinstance({v}, str) and {member})")
            else:
                parts.append(f"any(_json_equal({v}, _o) for _o in {self.bind(options)})")
        if "const" in schema:
            parts.append(f"_json_equal({v}, {self.bind(schema['const'])})")
        for kind, low, high in (
            ("str", "minLength", "maxLength"),
            ("list", "minItems", "maxItems"),
        ):
            guard = "" if only == _TYPE_OF[kind] else f"not isinstance({v}, {kind}) or "
            if low in schema:
                parts.append(f"({guard}len({v}) >= {_count(schema, low)})")
            if high in schema:
                parts.append(f"({guard}len({v}) <= {_count(schema, high)})")
        if "pattern" in schema:
            if not isinstance(schema["pattern"], str):
                raise Unsupported("pattern is not a string")
            try:
                search = self.bind(re.compile(schema["pattern"]).search)
            except re.error:
                raise Unsupported("pattern is not a regular expression") from None
            guard = "" if only == "string" else f"not isinstance({v}, str) or "
            parts.append(f"({guard}{search}({v}) is not None)")
        if "items" in schema:
            fn = self.function(schema["items"])
            guard = "" if only == "array" else f"not isinstance({v}, list) or "
            parts.append(f"({guard}all({fn}(_i) for _i in {v}))")
        guard = "" if only == "object" else f"not isinstance({v}, dict) or "
        if "minProperties" in schema:
            parts.append(f"({guard}len({v}) >= {_count(schema, 'minProperties')})")
        if "maxProperties" in schema:
            parts.append(f"({guard}len({v}) <= {_count(schema, 'maxProperties')})")
        if "anyOf" in schema:
            options = schema["anyOf"]
            if not isinstance(options, list) or not options:
                raise Unsupported("anyOf is not a non-empty array")
            parts.append("(" + " or ".join(f"({self.expr(o, v)})" for o in options) + ")")
        if {"properties", "required", "additionalProperties"} & set(schema):
            parts.append(f"{self.object_function(schema)}({v})")
        return " and ".join(parts) or "True"

    def object_function(self, schema: dict[str, Any]) -> str:
        extra = schema.get("additionalProperties", True)
        props = schema.get("properties", {})
        required = schema.get("required", [])
        if not isinstance(props, dict) or not isinstance(required, list):
            raise Unsupported("properties or required malformed")
        if not all(isinstance(k, str) for k in required) or len(set(required)) < len(required):
            raise Unsupported("required is not an array of unique strings")
        # Each property's check is inlined (no call per property): a record of
        # twenty fields is checked in a few microseconds.
        self.n += 1
        name = f"_o{self.n}"
        lines = [f"def {name}(v):", "    if not isinstance(v, dict):", "        return True"]
        if required:
            missing = " or ".join(f"{str(k)!r} not in v" for k in required)
            lines += [f"    if {missing}:", "        return False"]
        if extra is False:
            known = self.bind(frozenset(str(k) for k in props))
            lines += [f"    if not v.keys() <= {known}:", "        return False"]
        elif extra is not True:  # a schema for the other properties
            known = self.bind(frozenset(str(k) for k in props))
            other = self.function(extra)
            lines += [
                "    for k, x in v.items():",
                f"        if k not in {known} and not {other}(x):",
                "            return False",
            ]
        for k, s in props.items():
            check = self.expr(s, "x")
            if check == "True":  # (a property any value of which is valid)
                continue
            lines += [
                f"    x = v.get({str(k)!r}, _missing)",
                f"    if x is not _missing and not ({check}):",
                "        return False",
            ]
        lines += ["    return True", ""]
        exec(compile("\n".join(lines), f"<schema {name}>", "exec"), self.ns)
        return name


def _check_annotations(schema: dict[str, Any]) -> None:
    for key in ("$schema", "$id", "title", "description", "$comment"):
        if key in schema and not isinstance(schema[key], str):
            raise Unsupported(f"{key} is not a string")
    if "examples" in schema and not isinstance(schema["examples"], list):
        raise Unsupported("examples is not an array")


def is_valid_schema(schema: Any) -> bool:
    """Whether ``schema`` compiles here — then it is a valid Draft 2020-12 schema.

    False says only that this module cannot tell (``jsonschema`` can).
    """
    try:
        compile_schema(schema)
    except Unsupported:
        return False
    return True


def compile_schema(schema: Any) -> Check:
    """A predicate equivalent to ``jsonschema``'s ``is_valid`` for ``schema``.

    Raises :class:`Unsupported` when the schema needs a keyword not listed above.
    """
    gen = _Generator()
    check: Check = gen.ns[gen.function(schema)]
    return check
