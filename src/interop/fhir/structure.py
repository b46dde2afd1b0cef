"""Fast structural check of FHIR R4 JSON on plain dicts (基础结构校验).

The shape of every resource, datatype and backbone element is compiled once
from the metadata of the ``fhir.resources`` R4B models (JSON names, lists,
required elements, primitive types, choice groups ``value[x]``) into small
tables (:mod:`interop.fhir.shapes`, kept between runs); :meth:`Structure.check`
then walks a dict against them. It agrees
with ``fhir.resources`` ``model_validate`` on what is structurally valid and is
much faster, because it builds no objects.

Where ``fhir.resources`` is lax it follows the FHIR JSON rules instead:

- JSON types are strict: ``"true"`` is not a boolean, ``"1"`` is not an
  integer, ``1.0`` is not an integer, a decimal must be a JSON number;
- ``null``, ``{}`` and ``[]`` are not allowed as element values (``null`` only
  as a placeholder in a primitive array that has a ``_name`` sibling);
- ``id`` is at most 64 characters; ``uri``/``url``/``canonical`` have no
  whitespace; ``base64Binary`` is checked; the narrative ``div`` must start
  with ``<div``; ``fhir_comments`` is not an element;
- a contained or Bundle resource must carry a known ``resourceType``;
- R4B-only choice types (``CodeableReference``, ``RatioRange``,
  ``Task.input.valueMeta`` …) are not R4 and are rejected.

It also checks the required bindings of base R4 when given the tables of
``profiles/base/r4-required-bindings.json`` (element path → codes for ``code``
elements, → ``system|code`` for CodeableConcept/Coding elements).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from interop.fhir import release
from interop.fhir.shapes import (
    COMPLEX,
    NO_BINDINGS,
    PRIMITIVE,
    PRIMITIVE_EXT,
    Field,
    Graph,
    RequiredBindings,
    TypeInfo,
    element_names,
    graph,
    load_required_bindings,
    type_info,
)
from interop.issues import Issue

__all__ = [
    "COMPLEX",
    "PRIMITIVE",
    "PRIMITIVE_EXT",
    "Field",
    "RequiredBindings",
    "Structure",
    "TypeInfo",
    "element_names",
    "load_required_bindings",
    "shown_code",
    "type_info",
]

# ---------------------------------------------------------------------------
# The checker
# ---------------------------------------------------------------------------


_EMPTY_OBJECT = "element has no content (empty object)"
_EMPTY_ARRAY = "array has no items (an absent element is left out, not [])"
_NULL = "null is not allowed (leave the element out)"


class Structure:
    """Structural validator for base R4; create with :meth:`compile`."""

    __slots__ = ("_graph", "_resources")

    def __init__(self, shapes: Graph) -> None:
        self._graph = shapes
        self._resources: dict[str, TypeInfo] = {
            rtype: info
            for rtype, info in shapes.by_class.items()
            if rtype in release.RESOURCE_TYPES
        }

    @classmethod
    def compile(
        cls,
        bindings: RequiredBindings | None = None,
        resource_types: Iterable[str] | None = None,
    ) -> Structure:
        """The structure check of every R4 type with the given required bindings
        of base R4 (``resource_types`` is accepted for callers that name the
        types they need; every type is available anyway)."""
        del resource_types
        return cls(graph(bindings if bindings is not None else NO_BINDINGS))

    def _resource(self, rtype: str) -> TypeInfo | None:
        return self._resources.get(rtype)

    def resource_info(self, rtype: str) -> TypeInfo | None:
        """Compiled shape of a resource type (with bindings), None if unknown."""
        return self._resource(rtype) if isinstance(rtype, str) else None

    def unbound_paths(self) -> list[str]:
        """Binding paths of the table that no compiled element carries (a check
        that the data file and the models agree)."""
        used: set[str] = set()
        for info in self._graph.all_types():
            for fld in info.fields.values():
                if fld.codes is not None or fld.codings is not None:
                    used.add(fld.path)
        bindings = self._graph.bindings
        bound = set(bindings.codes) | set(bindings.codings)
        return sorted(bound - used)

    # -- walking -----------------------------------------------------------

    def check(self, resource: Any, path: str | None = None) -> list[Issue]:
        """Structural issues of one resource (a Bundle is walked entirely)."""
        out: list[Issue] = []
        self.check_resource(resource, path, out)
        return out

    def check_resource(self, resource: Any, path: str | None, out: list[Issue]) -> str | None:
        """Append the issues of ``resource``; returns its type if it is known."""
        if type(resource) is not dict:
            out.append(
                Issue("error", path or "(root)", "a resource must be a JSON object", "structure")
            )
            return None
        rtype = resource.get("resourceType")
        info = self._resource(rtype) if type(rtype) is str else None
        if info is None:
            where = path or "(root)"
            if rtype is None:
                out.append(Issue("error", where, "resourceType is missing", "unknown-resource"))
            else:
                shown = (
                    rtype if type(rtype) is str and _NAME_LIKE.fullmatch(rtype) else "(withheld)"
                )
                out.append(
                    Issue(
                        "error",
                        where,
                        f"unknown resource type {shown} (not an R4 resource)",
                        "unknown-resource",
                    )
                )
            return None
        name: str = info.name
        self._walk(info, resource, path if path is not None else name, out)
        return name

    def _walk(self, info: TypeInfo, obj: dict[str, Any], path: str, out: list[Issue]) -> None:
        fields = info.fields
        seen_choice: dict[str, str] | None = None
        if not obj:
            out.append(Issue("error", path, _EMPTY_OBJECT, "structure"))
            return
        for key, value in obj.items():
            field = fields.get(key)
            if field is None:
                if key == "resourceType" and info.is_resource:
                    continue
                out.append(Issue("error", f"{path}.{key}", _unknown(key, info), "structure"))
                continue
            if field.choice is not None:
                member = key[1:] if field.kind == PRIMITIVE_EXT else key
                if seen_choice is None:
                    seen_choice = {field.choice: member}
                else:
                    other = seen_choice.get(field.choice)
                    if other is None:
                        seen_choice[field.choice] = member
                    elif other != member:
                        out.append(
                            Issue(
                                "error",
                                f"{path}.{key}",
                                f"only one of {field.choice}[x] is allowed, also found {other}",
                                "structure",
                            )
                        )
            if value is None:
                out.append(Issue("error", f"{path}.{key}", _NULL, "structure"))
                continue
            kind = field.kind
            if field.many:
                if type(value) is not list:
                    out.append(Issue("error", f"{path}.{key}", "must be a JSON array", "structure"))
                    continue
                if not value:
                    out.append(Issue("error", f"{path}.{key}", _EMPTY_ARRAY, "structure"))
                    continue
                if kind == PRIMITIVE:
                    check = field.check
                    codes = field.codes
                    for i, item in enumerate(value):
                        if item is None:
                            ext = obj.get("_" + key)
                            if not (type(ext) is list and i < len(ext) and ext[i] is not None):
                                out.append(Issue("error", f"{path}.{key}[{i}]", _NULL, "structure"))
                            continue
                        bad = check(item)  # type: ignore[misc]
                        if bad is not None:
                            out.append(Issue("error", f"{path}.{key}[{i}]", bad[1], bad[0]))
                        elif codes is not None and item not in codes:
                            out.append(_binding_issue(f"{path}.{key}[{i}]", item, field))
                elif kind in (COMPLEX, PRIMITIVE_EXT):
                    spec = field.spec
                    for i, item in enumerate(value):
                        if type(item) is dict:
                            self._walk(spec, item, f"{path}.{key}[{i}]", out)  # type: ignore[arg-type]
                            if field.codings is not None:
                                _check_codings(item, field, f"{path}.{key}[{i}]", out)
                        elif item is None and kind == PRIMITIVE_EXT:
                            continue
                        else:
                            out.append(_not_object(f"{path}.{key}[{i}]", item))
                    if kind == PRIMITIVE_EXT:
                        prim = obj.get(key[1:])
                        if type(prim) is list and len(prim) != len(value):
                            out.append(
                                Issue(
                                    "error",
                                    f"{path}.{key}",
                                    f"must have as many items as {key[1:]}",
                                    "structure",
                                )
                            )
                else:
                    for i, item in enumerate(value):
                        self._nested_resource(item, f"{path}.{key}[{i}]", out)
            elif kind == PRIMITIVE:
                bad = field.check(value)  # type: ignore[misc]
                if bad is not None:
                    out.append(Issue("error", f"{path}.{key}", bad[1], bad[0]))
                elif field.codes is not None and value not in field.codes:
                    out.append(_binding_issue(f"{path}.{key}", value, field))
            elif kind in (COMPLEX, PRIMITIVE_EXT):
                if type(value) is dict:
                    self._walk(field.spec, value, f"{path}.{key}", out)  # type: ignore[arg-type]
                    if field.codings is not None:
                        _check_codings(value, field, f"{path}.{key}", out)
                elif type(value) is list:
                    out.append(
                        Issue(
                            "error",
                            f"{path}.{key}",
                            "must be a single value, not an array",
                            "structure",
                        )
                    )
                else:
                    out.append(_not_object(f"{path}.{key}", value))
            else:
                self._nested_resource(value, f"{path}.{key}", out)
        for name, ext in info.required:
            if name not in obj and (ext is None or ext not in obj):
                out.append(
                    Issue(
                        "error", f"{path}.{name}", f"required element {name} is missing", "required"
                    )
                )
        if info.required_choices:
            for group in info.required_choices:
                if seen_choice is None or group not in seen_choice:
                    out.append(
                        Issue(
                            "error",
                            f"{path}.{group}[x]",
                            f"required element {group}[x] is missing",
                            "required",
                        )
                    )

    def _nested_resource(self, value: Any, path: str, out: list[Issue]) -> None:
        if type(value) is list:
            out.append(Issue("error", path, "must be a single resource, not an array", "structure"))
            return
        if type(value) is not dict:
            out.append(_not_object(path, value))
            return
        rtype = value.get("resourceType")
        info = self._resource(rtype) if type(rtype) is str else None
        if info is None:
            self.check_resource(value, path, out)
            return
        self._walk(info, value, f"{path}.ofType({rtype})", out)


def _unknown(key: str, info: TypeInfo) -> str:
    what = "resource" if info.is_resource else "element"
    shown = key if _NAME_LIKE.fullmatch(key) else "(withheld)"
    return f"unknown element {shown} (not in R4 {what} {info.name})"


def _not_object(path: str, value: Any) -> Issue:
    if type(value) is list:
        return Issue("error", path, "must be a single value, not an array", "structure")
    return Issue("error", path, "must be a JSON object", "structure")


def _check_codings(value: dict[str, Any], field: Field, path: str, out: list[Issue]) -> None:
    """A CodeableConcept/Coding with a required binding has a coding from its value set."""
    assert field.codings is not None
    codings = value.get("coding") if field.type_name == "CodeableConcept" else [value]
    pairs = [
        (c.get("system"), c.get("code"))
        for c in (codings if type(codings) is list else ())
        if type(c) is dict
    ]
    if any(pair in field.codings for pair in pairs):
        return
    shown = ", ".join(shown_code(code) for _, code in pairs[:3])
    out.append(
        Issue(
            "error",
            path,
            f"no coding {shown + ' ' if shown else ''}is in the value set required for "
            f"{field.path} (required binding of R4)",
            "binding",
        )
    )


_CODE_LIKE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:|\-]{0,39}")
_NAME_LIKE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def shown_code(code: Any) -> str:
    """A code for a message: quoted when it looks like a code (short ASCII),
    else withheld, since a wrong value in a code element may be personal data."""
    if type(code) is str and _CODE_LIKE.fullmatch(code):
        return repr(code)
    return "(withheld)"


def _binding_issue(path: str, code: Any, field: Field) -> Issue:
    return Issue(
        "error",
        path,
        f"code {shown_code(code)} is not allowed for {field.path} (required binding of R4)",
        "binding",
    )
