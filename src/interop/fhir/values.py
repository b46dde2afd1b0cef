"""Comparing element values as profiles do (值比较): fixed, pattern, codes.

Plain JSON values: ``true`` is not ``1``, a pattern matches when everything
in it is in the value, and the codes of a code, Coding, CodeableConcept or
Quantity are read the same way for bindings.
"""

from __future__ import annotations

from typing import Any

__all__ = ["codings", "equal", "matches", "shown_fixed", "values_at"]


def values_at(item: Any, steps: tuple[str, ...]) -> list[Any]:
    values = [item]
    for step in steps:
        nxt: list[Any] = []
        for value in values:
            if isinstance(value, dict) and step in value:
                got = value[step]
                nxt.extend(got if isinstance(got, list) else [got])
        values = nxt
    return values


def equal(value: Any, expected: Any) -> bool:
    """Exact equality, with JSON types (true is not 1)."""
    if isinstance(expected, dict):
        return (
            isinstance(value, dict)
            and value.keys() == expected.keys()
            and all(equal(value[k], expected[k]) for k in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(value, list)
            and len(value) == len(expected)
            and all(equal(v, e) for v, e in zip(value, expected, strict=True))
        )
    if isinstance(expected, bool) or isinstance(value, bool):
        return value is expected
    return bool(type(value) is type(expected) or _numbers(value, expected)) and value == expected


def _numbers(a: Any, b: Any) -> bool:
    return isinstance(a, int | float) and isinstance(b, int | float)


def matches(value: Any, pattern: Any) -> bool:
    """Pattern match: everything in the pattern is in the value (lists: each
    pattern item matches some value item)."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            k in value and matches(value[k], p) for k, p in pattern.items()
        )
    if isinstance(pattern, list):
        items = value if isinstance(value, list) else [value]
        return all(any(matches(v, p) for v in items) for p in pattern)
    return equal(value, pattern)


def codings(value: Any) -> list[tuple[str | None, str]]:
    """(system, code) pairs of a code, Coding, CodeableConcept or Quantity."""
    if isinstance(value, str):
        return [(None, value)]
    if not isinstance(value, dict):
        return []
    if "coding" in value:
        out: list[tuple[str | None, str]] = []
        codings = value["coding"]
        for coding in codings if isinstance(codings, list) else []:
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                system = coding.get("system")
                out.append((system if isinstance(system, str) else None, coding["code"]))
        return out
    code = value.get("code")
    if isinstance(code, str):
        system = value.get("system")
        return [(system if isinstance(system, str) else None, code)]
    return []


def shown_fixed(value: Any) -> str:
    """A fixed value for a message: only short codes and URIs (profile data)."""
    if isinstance(value, str) and len(value) <= 80 and " " not in value:
        return f" {value!r}"
    return ""
