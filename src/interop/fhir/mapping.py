"""Declarative mapping engine: case record → FHIR R4 resources (``mappings/fhir/``).

A mapping file is JSON: ``{"entries": [entry, …]}``. Each entry makes zero,
one or many resources of one type::

    {
      "name": "session-encounter",          # unique in the folder
      "resource": "Encounter",              # an R4 resource type
      "for_each": "sessions", "as": "s",    # optional: one resource per item
      "when": {"path": "s.attendance", "equals": "attended"},   # optional
      "id": "{{s.id}}",                     # local key → Encounter/<id>
      "template": { …FHIR JSON with directives… }
    }

Template values:

- ``"{{path}}"`` alone: the value at ``path`` (keeps its JSON type); absent
  → the element is left out. ``"x {{a}} y"`` interpolates strings.
- A path starts with a bound name (``as``) or a field of the case record
  (``child.name``, ``case.case_number``); ``@name`` reads an engine
  variable (``@case_number_system``).
- ``"cs:risk-level"``, ``"vs:…"``, ``"sd:…"``: the programme's canonical URLs.
- ``{"$ref": "Practitioner/{{id}}"}``: a reference to a resource of the
  Bundle; every reference must resolve, else the mapping fails.
- ``{"$coding": path, "system": url}`` and ``{"$concept": path, "system": url}``:
  a Coding / CodeableConcept with the Chinese display from the terminology.
- ``{"$translate": path, "map": conceptmap, "source": system, "as": "code"|"coding"}``.
- ``{"$each": path, "as": name, "where": cond, "template": …}`` in an array:
  one item per element of a list.
- ``{"$if": cond, "then": …, "else": …}``; a ``cond`` is a path (truthy) or
  ``{"path": p, "equals"|"in"|"contains"|"not": …}``.

Empty values (absent, ``None``, ``{}``, ``[]``) are pruned. Files are checked
when loaded: every path must name a real field of the core records, every
directive must be known, every resource type real; errors name the file,
the entry and the problem. Templates are compiled once into closures.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interop._errors import DataFileError, RuleViolation
from interop.core.record import CaseRecord
from interop.core.schema import hints, unwrap_optional
from interop.fhir import canonical, release
from interop.fhir.narrative import with_narrative
from interop.fhir.shapes import element_names
from interop.fhir.terminology import Terminology
from interop.resources import mappings_dir

Scope = dict[str, Any]
Node = Callable[[Scope], Any]

_TOKEN = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_CANON = {"cs:": canonical.cs, "vs:": canonical.vs, "sd:": canonical.sd}
_ENTRY_KEYS = frozenset({"name", "resource", "for_each", "as", "when", "id", "template", "note"})
#: Namespace for deterministic resource ids (uuid5 of case number + local key).
_NS = uuid.UUID("6f1c1b55-53e6-4d33-9a2b-0d8f2b1c7e11")


class _Ctx:
    """Load-time context: which file/entry, and the static types of bound names."""

    def __init__(self, file: str, entry: str, types_: dict[str, Any]) -> None:
        self.file = file
        self.entry = entry
        self.types = types_

    def fail(self, where: str, problem: str) -> DataFileError:
        return DataFileError(self.file, f"{self.entry}: {where}", problem, code="E210")

    def bind(self, name: str, tp: Any) -> _Ctx:
        return _Ctx(self.file, self.entry, {**self.types, name: tp})


def _resolve_type(ctx: _Ctx, path: str, where: str) -> Any:
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


def _getter(ctx: _Ctx, path: str, where: str) -> Node:
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


def _item_type(ctx: _Ctx, path: str, where: str) -> Any:
    tp, _ = unwrap_optional(_resolve_type(ctx, path, where))
    if typing.get_origin(tp) is list:
        return typing.get_args(tp)[0]
    return tp


def _condition(ctx: _Ctx, spec: Any, where: str) -> Callable[[Scope], bool]:
    if isinstance(spec, str):
        get = _getter(ctx, spec, where)
        return lambda scope: bool(get(scope))
    if not isinstance(spec, dict) or "path" not in spec:
        raise ctx.fail(where, "a condition is a path or an object with 'path'")
    get = _getter(ctx, spec["path"], where)
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


def _filtered(ctx: _Ctx, token: str, where: str) -> Node:
    """A path with an optional ``|filter``: ``xhtml`` escapes for a Narrative div."""
    path, _, flt = token.partition("|")
    get = _getter(ctx, path.strip(), where)
    flt = flt.strip()
    if not flt:
        return get
    if flt != "xhtml":
        raise ctx.fail(where, f"unknown filter '{flt}' (known: xhtml)")

    def escaped(scope: Scope) -> Any:
        v = get(scope)
        return None if v is None else html.escape(str(v), quote=False)

    return escaped


def _string(ctx: _Ctx, s: str, where: str) -> Node:
    for prefix, fn in _CANON.items():
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


class _Compiler:
    def __init__(self, terminology: Terminology) -> None:
        self.term = terminology

    def node(self, ctx: _Ctx, spec: Any, where: str) -> Node:
        if isinstance(spec, str):
            return _string(ctx, spec, where)
        if isinstance(spec, list):
            return self._array(ctx, spec, where)
        if isinstance(spec, dict):
            directives = [k for k in spec if k.startswith("$")]
            if directives:
                return self._directive(ctx, spec, directives, where)
            return self._object(ctx, spec, where)
        const = spec
        return lambda scope: const

    def _object(self, ctx: _Ctx, spec: dict[str, Any], where: str) -> Node:
        # "!key": the object exists only if this element has a value.
        items = [
            (k.lstrip("!"), k.startswith("!"), self.node(ctx, v, f"{where}.{k.lstrip('!')}"))
            for k, v in spec.items()
        ]

        def build(scope: Scope) -> Any:
            out = {}
            for k, needed, fn in items:
                v = fn(scope)
                if v is not None and v != [] and v != {}:
                    out[k] = v
                elif needed:
                    return None
            return out or None

        return build

    def _array(self, ctx: _Ctx, spec: list[Any], where: str) -> Node:
        parts: list[tuple[bool, Node]] = []
        for i, item in enumerate(spec):
            w = f"{where}[{i}]"
            if isinstance(item, dict) and "$each" in item:
                parts.append((True, self._each(ctx, item, w)))
            else:
                parts.append((False, self.node(ctx, item, w)))

        def build(scope: Scope) -> Any:
            out: list[Any] = []
            for many, fn in parts:
                v = fn(scope)
                if many:
                    out.extend(v)
                elif v is not None and v != {} and v != []:
                    out.append(v)
            return out or None

        return build

    def _each(self, ctx: _Ctx, spec: dict[str, Any], where: str) -> Node:
        allowed = {"$each", "as", "where", "template"}
        if set(spec) - allowed or "template" not in spec or "as" not in spec:
            raise ctx.fail(where, "$each takes 'as', 'template' and optional 'where'")
        get = _getter(ctx, spec["$each"], where)
        name = spec["as"]
        index = f"{name}#"
        inner = ctx.bind(name, _item_type(ctx, spec["$each"], where)).bind(index, int)
        cond = _condition(inner, spec["where"], where) if "where" in spec else None
        tmpl = self.node(inner, spec["template"], f"{where}.template")

        def each(scope: Scope) -> list[Any]:
            seq = get(scope) or ()
            out = []
            for i, item in enumerate(seq):
                s = {**scope, name: item, index: i}
                if cond is not None and not cond(s):
                    continue
                v = tmpl(s)
                if v is not None and v != {} and v != []:
                    out.append(v)
            return out

        return each

    def _directive(
        self, ctx: _Ctx, spec: dict[str, Any], directives: list[str], where: str
    ) -> Node:
        if len(directives) != 1:
            raise ctx.fail(where, f"one directive per object, found {', '.join(directives)}")
        d = directives[0]
        if d == "$ref":
            return self._ref(ctx, spec, where)
        if d in ("$coding", "$concept"):
            return self._coding(ctx, spec, d, where)
        if d == "$translate":
            return self._translate(ctx, spec, where)
        if d == "$if":
            cond = _condition(ctx, spec["$if"], where)
            then = self.node(ctx, spec.get("then"), f"{where}.then")
            other = self.node(ctx, spec.get("else"), f"{where}.else")
            return lambda scope: then(scope) if cond(scope) else other(scope)
        if d == "$each":
            raise ctx.fail(where, "$each is only allowed as an item of an array")
        raise ctx.fail(where, f"unknown directive '{d}'")

    def _ref(self, ctx: _Ctx, spec: dict[str, Any], where: str) -> Node:
        target = spec["$ref"]
        if set(spec) - {"$ref", "display"} or not isinstance(target, str) or "/" not in target:
            raise ctx.fail(where, "$ref takes 'ResourceType/{{id}}'")
        rtype = target.split("/", 1)[0]
        if not release.is_resource_type(rtype):
            raise ctx.fail(where, f"$ref to unknown resource type '{rtype}'")
        key = _string(ctx, target, where)

        def ref(scope: Scope) -> Any:
            k = key(scope)
            if k is None:
                return None
            scope["$refs"].add(k)
            return {"reference": "urn:uuid:" + _uuid(scope["$case"], k)}

        return ref

    def _system(self, ctx: _Ctx, spec: dict[str, Any], where: str) -> str:
        system = spec.get("system")
        if not isinstance(system, str):
            raise ctx.fail(where, "a 'system' is required")
        for prefix, fn in _CANON.items():
            if system.startswith(prefix):
                system = fn(system[len(prefix) :])
        if not self.term.has_codesystem(system):
            raise ctx.fail(where, f"unknown code system '{spec['system']}'")
        return system

    def _coding(self, ctx: _Ctx, spec: dict[str, Any], d: str, where: str) -> Node:
        if set(spec) - {d, "system"}:
            raise ctx.fail(where, f"{d} takes a path and 'system'")
        src = spec[d]
        if not isinstance(src, str):
            raise ctx.fail(where, f"{d} takes a path, or '=code' for a fixed code")
        if src.startswith("="):
            fixed = src[1:]
            get: Node = lambda scope: fixed  # noqa: E731
        else:
            get = _string(ctx, src, where) if "{{" in src else _getter(ctx, src, where)
        system = self._system(ctx, spec, where)
        if src.startswith("=") and self.term.lookup(system, src[1:]) is None:
            raise ctx.fail(where, f"unknown code '{src[1:]}' in {spec['system']}")
        display = self.term.display
        concept = d == "$concept"

        def coding(scope: Scope) -> Any:
            code = get(scope)
            if code is None:
                return None
            code = str(code)
            shown = display(system, code)
            c = {"system": system, "code": code}
            if shown is not None:
                c["display"] = shown
            if concept:
                return {"coding": [c], "text": shown} if shown else {"coding": [c]}
            return c

        return coding

    def _translate(self, ctx: _Ctx, spec: dict[str, Any], where: str) -> Node:
        if set(spec) - {"$translate", "map", "source", "as"}:
            raise ctx.fail(where, "$translate takes a path, 'map', 'source' and 'as'")
        get = _getter(ctx, spec["$translate"], where)
        cmap = f"{canonical.BASE}/ConceptMap/{spec.get('map')}"
        source = self._system(ctx, {"system": spec.get("source")}, where)
        as_ = spec.get("as", "code")
        if as_ not in ("code", "coding"):
            raise ctx.fail(where, "'as' is 'code' or 'coding'")
        translate = self.term.translate
        if not self.term.has_conceptmap(cmap):
            raise ctx.fail(where, f"unknown ConceptMap '{spec.get('map')}'")

        def tr(scope: Scope) -> Any:
            code = get(scope)
            if code is None:
                return None
            hit = translate(cmap, source, str(code))
            if hit is None:
                return None
            return hit[1] if as_ == "code" else {"system": hit[0], "code": hit[1]}

        return tr


def _iterate(scope: Scope, loops: list[tuple[Node, str]]) -> typing.Iterator[Scope]:
    """Scopes of nested ``for_each`` levels (one scope when there are none)."""
    if not loops:
        yield scope
        return
    (get, name), rest = loops[0], loops[1:]
    v = get(scope)
    items = v if isinstance(v, list) else ([] if v is None else [v])
    for item in items:
        yield from _iterate({**scope, name: item}, rest)


def _uuid(case_number: str, key: str) -> str:
    return str(uuid.uuid5(_NS, f"{case_number}|{key}"))


@dataclass(slots=True)
class _Entry:
    name: str
    resource: str
    file: str
    loops: list[tuple[Node, str]]  # nested for_each levels: (getter, bound name)
    when: Callable[[Scope], bool] | None
    id: Node
    template: Node


class MappingSet:
    """The compiled FHIR mappings of a folder (``mappings/fhir`` by default)."""

    def __init__(self, entries: list[_Entry], variables: dict[str, str]) -> None:
        self.entries = entries
        self.variables = variables

    @classmethod
    def load(
        cls,
        terminology: Terminology,
        directory: Path | None = None,
        *,
        case_number_system: str | None = None,
    ) -> MappingSet:
        """Load and check every ``*.json`` mapping file of ``directory``."""
        folder = directory or (mappings_dir() / "fhir")
        files = sorted(folder.glob("*.json"))
        if not files:
            raise DataFileError(str(folder), "(folder)", "no mapping files found", code="E211")
        comp = _Compiler(terminology)
        entries: list[_Entry] = []
        seen: dict[str, str] = {}
        for f in files:
            fname = f.name
            try:
                doc = json.loads(f.read_text("utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise DataFileError(fname, "(file)", f"not readable JSON ({exc})") from None
            if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
                raise DataFileError(fname, "(file)", "must be an object with an 'entries' list")
            for i, e in enumerate(doc["entries"]):
                label = f"entries[{i}]"
                if isinstance(e, dict) and isinstance(e.get("name"), str):
                    label = f"entries[{i}] '{e['name']}'"
                entries.append(cls._entry(comp, fname, label, e))
                name = entries[-1].name
                if name in seen:
                    raise DataFileError(fname, label, f"name already used in {seen[name]}")
                seen[name] = fname
        variables = {
            "@case_number_system": case_number_system or canonical.case_number_system(),
            "@base": canonical.BASE,
        }
        return cls(entries, variables)

    @staticmethod
    def _entry(comp: _Compiler, fname: str, label: str, e: Any) -> _Entry:
        if not isinstance(e, dict):
            raise DataFileError(fname, label, "an entry must be an object")
        unknown = set(e) - _ENTRY_KEYS
        if unknown:
            raise DataFileError(fname, label, f"unknown key(s): {', '.join(sorted(unknown))}")
        for key in ("name", "resource", "id", "template"):
            if key not in e:
                raise DataFileError(fname, label, f"'{key}' is required")
        rtype = e["resource"]
        if not release.is_resource_type(rtype):
            raise DataFileError(fname, label, f"unknown FHIR R4 resource type '{rtype}'")
        tmpl = e["template"]
        if not isinstance(tmpl, dict):
            raise DataFileError(fname, label, "'template' must be an object")
        allowed = element_names(rtype)
        for key in tmpl:
            if key not in allowed:
                raise DataFileError(
                    fname, f"{label}: template.{key}", f"{rtype} has no element '{key}'"
                )
        ctx = _Ctx(fname, label, {})
        # "for_each": "path" with "as", or a list of {"path", "as"} for nested lists.
        levels = e.get("for_each", [])
        if isinstance(levels, str):
            levels = [{"path": levels, "as": e.get("as", "it")}]
        loops: list[tuple[Node, str]] = []
        for j, lv in enumerate(levels):
            if not isinstance(lv, dict) or set(lv) != {"path", "as"}:
                raise ctx.fail(f"for_each[{j}]", "each level needs exactly 'path' and 'as'")
            loops.append((_getter(ctx, lv["path"], f"for_each[{j}]"), lv["as"]))
            ctx = ctx.bind(lv["as"], _item_type(ctx, lv["path"], f"for_each[{j}]"))
        when = _condition(ctx, e["when"], "when") if "when" in e else None
        return _Entry(
            name=e["name"],
            resource=rtype,
            file=fname,
            loops=loops,
            when=when,
            id=_string(ctx, e["id"], "id"),
            template=comp.node(ctx, tmpl, "template"),
        )

    def resources(self, record: CaseRecord) -> list[dict[str, Any]]:
        """Every resource of the case, with deterministic ids; references checked."""
        case_number = record.case.case_number
        refs: set[str] = set()
        made: dict[str, str] = {}
        scope: Scope = {"$root": record, "$case": case_number, "$refs": refs, **self.variables}
        out: list[dict[str, Any]] = []
        for entry in self.entries:
            for s in _iterate(scope, entry.loops):
                if entry.when is not None and not entry.when(s):
                    continue
                local = entry.id(s)
                if local is None:
                    continue
                key = f"{entry.resource}/{local}"
                if key in made:
                    raise RuleViolation(
                        f"mapping '{entry.name}' makes {key} twice (also '{made[key]}')",
                        code="E310",
                    )
                made[key] = entry.name
                body = entry.template(s) or {}
                rid = _uuid(case_number, key)
                out.append(
                    with_narrative({"resourceType": entry.resource, "id": rid, **body}, keep=True)
                )
        missing = sorted(refs - made.keys())
        if missing:
            raise RuleViolation(
                "references that do not resolve inside the Bundle: " + ", ".join(missing),
                code="E311",
            )
        return out

    def bundle(self, record: CaseRecord) -> dict[str, Any]:
        """A Bundle of type ``collection`` with every resource of the case."""
        resources = self.resources(record)
        case_number = record.case.case_number
        return {
            "resourceType": "Bundle",
            "id": _uuid(case_number, "Bundle"),
            "meta": {"profile": [canonical.sd("dc-case-bundle")]},
            "identifier": {
                "system": self.variables["@case_number_system"],
                "value": case_number,
            },
            "type": "collection",
            "entry": [{"fullUrl": "urn:uuid:" + r["id"], "resource": r} for r in resources],
        }
