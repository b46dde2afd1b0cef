"""The compiler of mapping templates (映射模板编译): FHIR JSON with directives (``$ref``,
``$coding``, ``$concept``, ``$translate``, ``$each``, ``$if``) into closures that build the
resource from a scope, and the deterministic id of each resource of the Bundle.
"""

from __future__ import annotations

import uuid
from typing import Any

from interop.fhir import canonical, release
from interop.fhir.mapping_paths import (
    CANON,
    Context,
    Node,
    Scope,
    condition,
    getter,
    item_type,
    string_node,
)
from interop.fhir.terminology import Terminology

#: Namespace for deterministic resource ids (uuid5 of case number + local key).
_NS = uuid.UUID("6f1c1b55-53e6-4d33-9a2b-0d8f2b1c7e11")


class Compiler:
    """Compiles template values, once per file load, with the terminology for displays."""

    def __init__(self, terminology: Terminology) -> None:
        self.term = terminology

    def node(self, ctx: Context, spec: Any, where: str) -> Node:
        if isinstance(spec, str):
            return string_node(ctx, spec, where)
        if isinstance(spec, list):
            return self._array(ctx, spec, where)
        if isinstance(spec, dict):
            directives = [k for k in spec if k.startswith("$")]
            if directives:
                return self._directive(ctx, spec, directives, where)
            return self._object(ctx, spec, where)
        const = spec
        return lambda scope: const

    def _object(self, ctx: Context, spec: dict[str, Any], where: str) -> Node:
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

    def _array(self, ctx: Context, spec: list[Any], where: str) -> Node:
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

    def _each(self, ctx: Context, spec: dict[str, Any], where: str) -> Node:
        allowed = {"$each", "as", "where", "template"}
        if set(spec) - allowed or "template" not in spec or "as" not in spec:
            raise ctx.fail(where, "$each takes 'as', 'template' and optional 'where'")
        get = getter(ctx, spec["$each"], where)
        name = spec["as"]
        index = f"{name}#"
        inner = ctx.bind(name, item_type(ctx, spec["$each"], where)).bind(index, int)
        cond = condition(inner, spec["where"], where) if "where" in spec else None
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
        self, ctx: Context, spec: dict[str, Any], directives: list[str], where: str
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
            cond = condition(ctx, spec["$if"], where)
            then = self.node(ctx, spec.get("then"), f"{where}.then")
            other = self.node(ctx, spec.get("else"), f"{where}.else")
            return lambda scope: then(scope) if cond(scope) else other(scope)
        if d == "$each":
            raise ctx.fail(where, "$each is only allowed as an item of an array")
        raise ctx.fail(where, f"unknown directive '{d}'")

    def _ref(self, ctx: Context, spec: dict[str, Any], where: str) -> Node:
        target = spec["$ref"]
        if set(spec) - {"$ref", "display"} or not isinstance(target, str) or "/" not in target:
            raise ctx.fail(where, "$ref takes 'ResourceType/{{id}}'")
        rtype = target.split("/", 1)[0]
        if not release.is_resource_type(rtype):
            raise ctx.fail(where, f"$ref to unknown resource type '{rtype}'")
        key = string_node(ctx, target, where)

        def ref(scope: Scope) -> Any:
            k = key(scope)
            if k is None:
                return None
            scope["$refs"].add(k)
            return {"reference": "urn:uuid:" + resource_id(scope["$case"], k)}

        return ref

    def _system(self, ctx: Context, spec: dict[str, Any], where: str) -> str:
        system = spec.get("system")
        if not isinstance(system, str):
            raise ctx.fail(where, "a 'system' is required")
        for prefix, fn in CANON.items():
            if system.startswith(prefix):
                system = fn(system[len(prefix) :])
        if not self.term.has_codesystem(system):
            raise ctx.fail(where, f"unknown code system '{spec['system']}'")
        return system

    def _coding(self, ctx: Context, spec: dict[str, Any], d: str, where: str) -> Node:
        if set(spec) - {d, "system"}:
            raise ctx.fail(where, f"{d} takes a path and 'system'")
        src = spec[d]
        if not isinstance(src, str):
            raise ctx.fail(where, f"{d} takes a path, or '=code' for a fixed code")
        if src.startswith("="):
            fixed = src[1:]
            get: Node = lambda scope: fixed  # noqa: E731
        else:
            get = string_node(ctx, src, where) if "{{" in src else getter(ctx, src, where)
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

    def _translate(self, ctx: Context, spec: dict[str, Any], where: str) -> Node:
        if set(spec) - {"$translate", "map", "source", "as"}:
            raise ctx.fail(where, "$translate takes a path, 'map', 'source' and 'as'")
        get = getter(ctx, spec["$translate"], where)
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


def resource_id(case_number: str, key: str) -> str:
    """The id of resource ``key`` (``Encounter/<local id>``) of a case: the same in every run."""
    return str(uuid.uuid5(_NS, f"{case_number}|{key}"))
