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
the entry and the problem. Templates are compiled once into closures
(paths and conditions: :mod:`interop.fhir.mapping_paths`; directives:
:mod:`interop.fhir.mapping_compile`).
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interop._errors import DataFileError, RuleViolation
from interop.core.record import CaseRecord
from interop.fhir import canonical, release
from interop.fhir.mapping_compile import Compiler, resource_id
from interop.fhir.mapping_paths import (
    Context,
    Node,
    Scope,
    condition,
    getter,
    item_type,
    string_node,
)
from interop.fhir.narrative import with_narrative
from interop.fhir.shapes import element_names
from interop.fhir.terminology import Terminology
from interop.resources import mappings_dir

_ENTRY_KEYS = frozenset({"name", "resource", "for_each", "as", "when", "id", "template", "note"})


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
        comp = Compiler(terminology)
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
    def _entry(comp: Compiler, fname: str, label: str, e: Any) -> _Entry:
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
        ctx = Context(fname, label, {})
        # "for_each": "path" with "as", or a list of {"path", "as"} for nested lists.
        levels = e.get("for_each", [])
        if isinstance(levels, str):
            levels = [{"path": levels, "as": e.get("as", "it")}]
        loops: list[tuple[Node, str]] = []
        for j, lv in enumerate(levels):
            if not isinstance(lv, dict) or set(lv) != {"path", "as"}:
                raise ctx.fail(f"for_each[{j}]", "each level needs exactly 'path' and 'as'")
            loops.append((getter(ctx, lv["path"], f"for_each[{j}]"), lv["as"]))
            ctx = ctx.bind(lv["as"], item_type(ctx, lv["path"], f"for_each[{j}]"))
        when = condition(ctx, e["when"], "when") if "when" in e else None
        return _Entry(
            name=e["name"],
            resource=rtype,
            file=fname,
            loops=loops,
            when=when,
            id=string_node(ctx, e["id"], "id"),
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
                rid = resource_id(case_number, key)
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
            "id": resource_id(case_number, "Bundle"),
            "meta": {"profile": [canonical.sd("dc-case-bundle")]},
            "identifier": {
                "system": self.variables["@case_number_system"],
                "value": case_number,
            },
            "type": "collection",
            "entry": [{"fullUrl": "urn:uuid:" + r["id"], "resource": r} for r in resources],
        }
