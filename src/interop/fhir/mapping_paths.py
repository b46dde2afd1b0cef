"""The expressions of a mapping template (映射模板表达式): source paths checked against the
core records when a file is loaded, conditions, and strings with ``{{path}}`` tokens, each
compiled into a closure over the scope of one resource (see :mod:`interop.fhir.mapping`).
"""

from __future__ import annotations

import dataclasses
import html
import re
import typing
from collections.abc import Callable
from typing import Any

from interop._errors import DataFileError
from interop.core.record import CaseRecord
from interop.core.schema import hints, unwrap_optional
from interop.fhir import canonical

#: The names bound while one resource is built (``$root``: the case record; ``as`` names).
Scope = dict[str, Any]
#: A compiled piece of template: its value in a scope (None: left out).
Node = Callable[[Scope], Any]

_TOKEN = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
#: The prefixes of the programme's canonical URLs (``"cs:risk-level"``).
CANON = {"cs:": canonical.cs, "vs:": canonical.vs, "sd:": canonical.sd}


class Context:
    """Load-time context: which file/entry, and the static types of bound names."""

    def __init__(self, file: str, entry: str, types_: dict[str, Any]) -> None:
        self.file = file
        self.entry = entry
        self.types = types_

    def fail(self, where: str, problem: str) -> DataFileError:
        return DataFileError(self.file, f"{self.entry}: {where}", problem, code="E210")

    def bind(self, name: str, tp: Any) -> Context:
        return Context(self.file, self.entry, {**self.types, name: tp})


def _resolve_type(ctx: Context, path: str, where: str) -> Any:
    """Static type of a path; raises when a segment is not a field."""
    parts = path.split(".")
    head = parts[0]
    if head.startswith("@"):
        if len(parts) > 1:
            raise ctx.fail(where, f"engine variable '{head}' has no fields")
        return str
    tp = ctx.types[head] if head in ctx.types else _field_type(CaseRecord, head)
    if tp is None:
        raise ctx.fail(where, f"unknown source path '{path}' (no field or name '{head}')")
    for seg in parts[1:]:
        inner, _ = unwrap_optional(tp)
        if not (dataclasses.is_dataclass(inner) and isinstance(inner, type)):
            raise ctx.fail(where, f"unknown source path '{path}' ('{seg}' is not a field)")
        tp = _field_type(inner, seg)
        if tp is None:
            raise ctx.fail(where, f"unknown source path '{path}' (no field '{seg}')")
    return tp


def _field_type(cls: type, name: str) -> Any:
    """Type of a field of a record, or the return type of a derived value
    (a ``@property`` such as ``Session.minutes``); None when neither."""
    th = hints(cls)
    if name in th:
        return th[name]
    attr = getattr(cls, name, None)
    if not isinstance(attr, property) or attr.fget is None:
        return None
    return typing.get_type_hints(attr.fget).get("return")


def getter(ctx: Context, path: str, where: str) -> Node:
    _resolve_type(ctx, path, where)
    parts = path.split(".")
    head, rest = parts[0], tuple(parts[1:])
    if head.startswith("@"):
        key = head
        return lambda scope: scope.get(key)
    if head in ctx.types:
        first: Node = lambda scope: scope.get(head)  # noqa: E731
    else:
        first = lambda scope: getattr(scope["$root"], head)  # noqa: E731

    if not rest:
        return first

    def get(scope: Scope) -> Any:
        obj = first(scope)
        for seg in rest:
            if obj is None:
                return None
            obj = getattr(obj, seg)
        return obj

    return get


def item_type(ctx: Context, path: str, where: str) -> Any:
    tp, _ = unwrap_optional(_resolve_type(ctx, path, where))
    if typing.get_origin(tp) is list:
        return typing.get_args(tp)[0]
    return tp


def condition(ctx: Context, spec: Any, where: str) -> Callable[[Scope], bool]:
    if isinstance(spec, str):
        get = getter(ctx, spec, where)
        return lambda scope: bool(get(scope))
    if not isinstance(spec, dict) or "path" not in spec:
        raise ctx.fail(where, "a condition is a path or an object with 'path'")
    get = getter(ctx, spec["path"], where)
    ops = set(spec) - {"path"}
    if len(ops) != 1:
        raise ctx.fail(where, "a condition needs exactly one of equals, in, contains, not")
    (op,) = ops
    arg = spec[op]
    if op == "equals":
        return lambda scope: get(scope) == arg
    if op == "in":
        choices = frozenset(arg)
        return lambda scope: get(scope) in choices
    if op == "contains":
        return lambda scope: arg in (get(scope) or ())
    if op == "not":
        if arg is not True:
            raise ctx.fail(where, "'not' takes true")
        return lambda scope: not get(scope)
    raise ctx.fail(where, f"unknown condition operator '{op}'")


def _filtered(ctx: Context, token: str, where: str) -> Node:
    """A path with an optional ``|filter``: ``xhtml`` escapes for a Narrative div."""
    path, _, flt = token.partition("|")
    get = getter(ctx, path.strip(), where)
    flt = flt.strip()
    if not flt:
        return get
    if flt != "xhtml":
        raise ctx.fail(where, f"unknown filter '{flt}' (known: xhtml)")

    def escaped(scope: Scope) -> Any:
        v = get(scope)
        return None if v is None else html.escape(str(v), quote=False)

    return escaped


def string_node(ctx: Context, s: str, where: str) -> Node:
    for prefix, fn in CANON.items():
        if s.startswith(prefix) and "{{" not in s:
            const = fn(s[len(prefix) :])
            return lambda scope: const
    tokens = list(_TOKEN.finditer(s))
    if not tokens:
        return lambda scope: s
    if len(tokens) == 1 and tokens[0].span() == (0, len(s)):
        return _filtered(ctx, tokens[0].group(1), where)
    pieces: list[str | Node] = []
    pos = 0
    for m in tokens:
        if m.start() > pos:
            pieces.append(s[pos : m.start()])
        pieces.append(_filtered(ctx, m.group(1), where))
        pos = m.end()
    if pos < len(s):
        pieces.append(s[pos:])

    def interpolate(scope: Scope) -> Any:
        out = []
        for p in pieces:
            if isinstance(p, str):
                out.append(p)
            else:
                v = p(scope)
                if v is None:
                    return None
                out.append(str(v))
        return "".join(out)

    return interpolate
