"""The programme's profiles, compiled (规范约束): StructureDefinition differentials.

:func:`~interop.fhir.profile_loading.load_profiles` reads and :class:`ProfileFile`
compiles the StructureDefinitions ``profiles/StructureDefinition-*.json`` (their
  ``differential``): cardinality of any element path, extension slices by
  url and ``value``/``pattern`` slicing, ``fixed[x]``/``pattern[x]``, bindings
  (``required`` → error, ``extensible`` → warning) checked with
  :class:`~interop.fhir.terminology.Terminology`, type restrictions of
  ``value[x]``, and ``constraint`` invariants in FHIRPath (compiled once with
  fhirpathpy; ``requirements`` carries the requirement ID of DB36/T 2143-2025).

The compiled form is :mod:`interop.fhir.profile_model`; it is applied by
:class:`~interop.fhir.validate.Validator`.

A profile applies to a resource when the resource names it in ``meta.profile``;
otherwise when it is the only loaded profile of that resource type (the purpose
profiles of ``profiles/purposes/`` only when claimed, D-78). Profiles of
type ``Extension`` apply to every extension with their url. A profile on
``Bundle`` may hold cross-resource invariants over ``entry.resource``; FHIRPath
``%resource`` and ``%rootResource`` are the resource being checked.

For profile authors:

- slices of ``extension`` are told apart by url: the slice's ``.url`` element
  with ``fixedUri``, else its ``type[0].profile[0]``; ``slicing`` may be left
  out for extensions (value discriminator on ``url``, open). Other elements
  need ``slicing`` with ``value``/``pattern`` discriminators whose path holds
  a ``fixed[x]``/``pattern[x]`` in each slice; ``rules: closed`` is enforced.
- ``value[x]:valueQuantity`` is read as ``valueQuantity``; below ``value[x]``
  constrain only after ``type`` restricts it to one type.
- a requirement ID (``R-7.2.1-03``, ``CL-07``, ``G-01`` ...) is taken from the
  first ID in ``requirements``: of a constraint for its invariant, of an
  element for its cardinality, fixed, pattern and binding issues.
- ``baseDefinition`` is core R4 or another loaded profile (whose rules apply too).
- not supported (rejected at load): re-slicing, ``type``/``profile``/``exists``
  discriminators; ignored: ``mustSupport``, ``maxLength``, ``minValue``,
  ``preferred``/``example`` bindings, the base R4 invariants (ele-1, ext-1 ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from interop._errors import DataFileError
from interop.fhir import release
from interop.fhir.fhirpath import compile_expression
from interop.fhir.profile_model import Constraint, Element, Profile
from interop.fhir.shapes import COMPLEX, PRIMITIVE, PRIMITIVE_EXT, type_info
from interop.fhir.terminology import Terminology
from interop.fhir.values import equal, matches, values_at

__all__ = ["Constraint", "Element", "Profile", "ProfileFile"]

_CORE = "http://hl7.org/fhir/StructureDefinition/"
# Requirement IDs of the catalogue: R-7.2.1-03, R-7.3-17, CL-07, G-01, RT-07, B-16 ...
_REQUIREMENT_ID = re.compile(
    r"(?<![A-Za-z0-9-])[A-Z]{1,2}-[0-9]+(?:\.[0-9]+)*(?:-[0-9]+)?(?![0-9A-Za-z])"
)
_STRENGTHS = frozenset({"required", "extensible", "preferred", "example"})
_SLICING_RULES = frozenset({"open", "closed", "openAtEnd"})
_DISCRIMINATORS = frozenset({"value", "pattern"})


class ProfileFile:
    """Compiles one StructureDefinition; errors name the file and the entry."""

    def __init__(
        self, name: str, sd: dict[str, Any], terminology: Callable[[], Terminology]
    ) -> None:
        self.name = name
        self.sd = sd
        self.terminology = terminology

    def error(self, entry: str, problem: str) -> DataFileError:
        return DataFileError(self.name, entry, problem)

    def compile(self) -> Profile:
        sd = self.sd
        if sd.get("resourceType") != "StructureDefinition":
            raise self.error("resourceType", "must be StructureDefinition")
        url = sd.get("url")
        if not isinstance(url, str) or not url:
            raise self.error("url", "is missing")
        rtype = sd.get("type")
        if rtype != "Extension" and (
            not isinstance(rtype, str) or not release.is_resource_type(rtype)
        ):
            raise self.error("type", f"{rtype!r} is not an R4 resource type (or Extension)")
        if sd.get("derivation", "constraint") != "constraint":
            raise self.error("derivation", "only constraint profiles are supported")
        base = sd.get("baseDefinition", _CORE + rtype)
        if not isinstance(base, str):
            raise self.error("baseDefinition", "must be a canonical URL")
        differential = sd.get("differential")
        elements = differential.get("element") if isinstance(differential, dict) else None
        if not isinstance(elements, list) or not elements:
            raise self.error("differential", "differential.element is missing or empty")
        info = type_info(rtype)
        root = Element(id=rtype, names=(), many=False, prim=False, info=info)
        for i, element in enumerate(elements):
            self._element(root, rtype, i, element)
        self._finish_slices(root)
        name = sd.get("name") if isinstance(sd.get("name"), str) else url.rsplit("/", 1)[-1]
        return Profile(
            url=url,
            name=str(name),
            type=rtype,
            file=self.name,
            root=root,
            base=None if base == _CORE + rtype else base,
        )

    # -- one element ---------------------------------------------------------

    def _element(self, root: Element, rtype: str, index: int, element: Any) -> None:
        if not isinstance(element, dict):
            raise self.error(f"differential.element[{index}]", "must be a JSON object")
        eid = element.get("id") or element.get("path")
        entry = f"differential.element[{index}] {eid}"
        if not isinstance(eid, str) or not eid:
            raise self.error(f"differential.element[{index}]", "has neither id nor path")
        path = element.get("path")
        if isinstance(path, str) and _strip_slices(eid) != path:
            raise self.error(entry, f"id and path disagree (path {path})")
        segments = eid.split(".")
        if segments[0] != rtype:
            raise self.error(entry, f"element path must start with {rtype}")
        node = root
        for depth, segment in enumerate(segments[1:], start=1):
            name, _, slice_name = segment.partition(":")
            if "/" in slice_name or (slice_name == "" and ":" in segment):
                raise self.error(entry, "re-slicing is not supported")
            if name.endswith("[x]") and slice_name:
                name, slice_name = slice_name, ""  # value[x]:valueQuantity is valueQuantity
            child = node.children.get(name)
            if child is None:
                child = self._child(node, name, entry, ".".join(segments[: depth + 1]))
                node.children[name] = child
            if slice_name:
                sliced = child.slices.get(slice_name)
                if sliced is None:
                    sliced = Element(
                        id=".".join(segments[: depth + 1]),
                        names=child.names,
                        many=child.many,
                        prim=child.prim,
                        info=child.info,
                        choice_group=child.choice_group,
                        slice_name=slice_name,
                        owner=child.owner,
                    )
                    child.slices[slice_name] = sliced
                child = sliced
            node = child
        if node.declared:
            raise self.error(entry, "element id is listed twice")
        node.declared = True
        self._rules(node, element, entry)

    def _child(self, parent: Element, name: str, entry: str, eid: str) -> Element:
        info = parent.info  # of a primitive: its "_name" Element (id, extension)
        if info is None:
            raise self.error(
                entry,
                f"cannot constrain below {parent.id} (restrict its type to one type first)",
            )
        if name.endswith("[x]"):
            group = name[:-3]
            members = (info.choices or {}).get(group)
            if members is None:
                raise self.error(entry, f"unknown element {name} in {info.name}")
            return Element(
                id=eid,
                names=members,
                many=False,
                prim=False,
                info=None,
                choice_group=group,
                owner=info,
            )
        fld = info.fields.get(name)
        if fld is None or name.startswith("_"):
            raise self.error(entry, f"unknown element {name} in {info.name} (R4)")
        if fld.kind == PRIMITIVE:
            ext = info.fields.get("_" + name)
            return Element(
                id=eid,
                names=(name,),
                many=fld.many,
                prim=True,
                info=ext.spec if ext is not None else None,
            )
        if fld.kind == COMPLEX or fld.kind == PRIMITIVE_EXT:
            return Element(id=eid, names=(name,), many=fld.many, prim=False, info=fld.spec)
        return Element(id=eid, names=(name,), many=fld.many, prim=False, info=None)

    def _rules(self, node: Element, element: dict[str, Any], entry: str) -> None:
        is_root = not node.names
        node.requirement = _requirement_id(element.get("requirements"))
        if "min" in element:
            low = element["min"]
            if not isinstance(low, int) or isinstance(low, bool) or low < 0:
                raise self.error(entry, "min must be a non-negative integer")
            node.min = low
        if "max" in element:
            high = element["max"]
            if high == "*":
                node.max = None if node.many else 1
            elif isinstance(high, str) and high.isdigit():
                node.max = int(high)
            else:
                raise self.error(entry, "max must be '*' or a number as a string")
            if node.max is not None and node.max > 1 and not node.many and not is_root:
                raise self.error(entry, f"max {high} but {node.id} is a single element in R4")
            if high == "*" and not node.many and not is_root:
                raise self.error(entry, f"max * but {node.id} is a single element in R4")
        if node.min is not None and node.max is not None and node.min > node.max:
            raise self.error(entry, f"min {node.min} is greater than max {node.max}")
        fixed = [k for k in element if k.startswith(("fixed", "pattern"))]
        if len(fixed) > 1:
            raise self.error(entry, "more than one fixed[x]/pattern[x]")
        if fixed:
            key = fixed[0]
            node.fixed = ("fixed" if key.startswith("fixed") else "pattern", element[key])
        types = element.get("type")
        if types is not None:
            self._types(node, types, entry)
        binding = element.get("binding")
        if binding is not None:
            self._binding(node, binding, entry)
        slicing = element.get("slicing")
        if slicing is not None:
            self._slicing(node, slicing, entry)
        constraints = element.get("constraint", [])
        if not isinstance(constraints, list):
            raise self.error(entry, "constraint must be a list")
        for j, constraint in enumerate(constraints):
            node.constraints.append(self._constraint(constraint, f"{entry} constraint[{j}]"))

    def _types(self, node: Element, types: Any, entry: str) -> None:
        if not isinstance(types, list) or not all(isinstance(t, dict) for t in types):
            raise self.error(entry, "type must be a list of objects")
        codes = [t.get("code") for t in types]
        if not all(isinstance(c, str) for c in codes):
            raise self.error(entry, "type.code is missing")
        profiles = [p for t in types for p in t.get("profile", []) if isinstance(p, str)]
        if profiles:
            node.type_profile = profiles[0]
        if node.choice_group is None:
            return
        allowed = set()
        for code in codes:
            member = node.choice_group + code[:1].upper() + code[1:]
            if member not in node.names:
                raise self.error(
                    entry, f"type {code} is not allowed for {node.choice_group}[x] in R4"
                )
            allowed.add(member)
        node.allowed = frozenset(allowed)
        if len(allowed) == 1 and node.info is None and node.owner is not None:
            # value[x] restricted to one type: its children can be resolved
            (member,) = allowed
            fld = node.owner.fields.get(member)
            if fld is not None and fld.kind == PRIMITIVE:
                ext = node.owner.fields.get("_" + member)
                node.prim, node.info = True, ext.spec if ext is not None else None
            elif fld is not None and fld.kind == COMPLEX:
                node.info = fld.spec

    def _binding(self, node: Element, binding: Any, entry: str) -> None:
        if not isinstance(binding, dict):
            raise self.error(entry, "binding must be an object")
        strength = binding.get("strength")
        if strength not in _STRENGTHS:
            raise self.error(entry, f"binding.strength {strength!r} is not a binding strength")
        if strength not in ("required", "extensible"):
            return  # preferred and example bindings are not checked
        url = binding.get("valueSet")
        if not isinstance(url, str) or not url:
            raise self.error(entry, "binding.valueSet is missing")
        url = url.split("|", 1)[0]
        if not self.terminology().has_valueset(url):
            raise self.error(entry, f"unknown ValueSet {url}")
        node.binding = (strength, url)

    def _slicing(self, node: Element, slicing: Any, entry: str) -> None:
        if not isinstance(slicing, dict):
            raise self.error(entry, "slicing must be an object")
        rules = slicing.get("rules", "open")
        if rules not in _SLICING_RULES:
            raise self.error(entry, f"slicing.rules {rules!r} is not open, closed or openAtEnd")
        discriminators = []
        for disc in slicing.get("discriminator", []):
            kind = disc.get("type") if isinstance(disc, dict) else None
            dpath = disc.get("path") if isinstance(disc, dict) else None
            if kind not in _DISCRIMINATORS or not isinstance(dpath, str):
                raise self.error(
                    entry,
                    f"slicing discriminator {kind!r} is not supported (use value or pattern)",
                )
            discriminators.append((kind, dpath))
        if not discriminators:
            raise self.error(entry, "slicing needs a discriminator")
        node.discriminators = discriminators
        node.closed = rules == "closed"

    def _constraint(self, constraint: Any, entry: str) -> Constraint:
        if not isinstance(constraint, dict):
            raise self.error(entry, "must be an object")
        key = constraint.get("key")
        severity = constraint.get("severity")
        human = constraint.get("human")
        expression = constraint.get("expression")
        if not isinstance(key, str) or not key:
            raise self.error(entry, "key is missing")
        entry = f"{entry} {key}"
        if severity not in ("error", "warning"):
            raise self.error(entry, "severity must be error or warning")
        if not isinstance(human, str) or not human:
            raise self.error(entry, "human is missing")
        if not isinstance(expression, str) or not expression.strip():
            raise self.error(entry, "expression is missing")
        try:
            run = compile_expression(expression)
        except Exception as exc:
            raise self.error(entry, f"FHIRPath does not compile: {exc}") from exc
        return Constraint(
            key=key,
            severity=severity,
            human=human,
            expression=expression,
            requirement=_requirement_id(constraint.get("requirements")),
            run=run,
        )

    # -- slices ------------------------------------------------------------------

    def _finish_slices(self, node: Element) -> None:
        for child in node.children.values():
            if child.slices:
                if child.discriminators is None:
                    if child.names in (("extension",), ("modifierExtension",)):
                        child.discriminators = [("value", "url")]
                    else:
                        raise self.error(
                            f"differential element {child.id}", "slices without slicing"
                        )
                for sliced in child.slices.values():
                    sliced.match = self._matcher(child, sliced)
                    self._finish_slices(sliced)
            self._finish_slices(child)

    def _matcher(self, base: Element, sliced: Element) -> Callable[[Any], bool]:
        assert base.discriminators is not None
        tests: list[tuple[str, tuple[str, ...], Any]] = []
        for kind, dpath in base.discriminators:
            expected = _slice_value(sliced, dpath)
            if expected is None and dpath == "url" and sliced.type_profile is not None:
                expected = ("fixed", sliced.type_profile)
            if expected is None:
                raise self.error(
                    f"differential element {sliced.id}",
                    f"slice has no fixed or pattern value for its discriminator {dpath}",
                )
            steps = () if dpath == "$this" else tuple(dpath.split("."))
            tests.append((kind, steps, expected[1]))

        def match(item: Any) -> bool:
            for kind, steps, expected in tests:
                values = values_at(item, steps)
                if kind == "value":
                    if not any(equal(v, expected) for v in values):
                        return False
                elif not any(matches(v, expected) for v in values):
                    return False
            return True

        return match


def _requirement_id(text: Any) -> str | None:
    """The first requirement ID in a ``requirements`` text, if any."""
    found = _REQUIREMENT_ID.search(text) if isinstance(text, str) else None
    return found.group(0) if found else None


def _strip_slices(eid: str) -> str:
    """Element path of an element id (``Patient.extension:a.url`` → ``Patient.extension.url``)."""
    return ".".join(segment.partition(":")[0] for segment in eid.split("."))


def _slice_value(sliced: Element, dpath: str) -> tuple[str, Any] | None:
    node: Element | None = sliced
    if dpath != "$this":
        for step in dpath.split("."):
            node = node.children.get(step) if node is not None else None
    return node.fixed if node is not None else None
