"""The FHIR validator: base R4 structure, base required bindings, the programme's profiles.

:meth:`Validator.load` reads and compiles everything once:

- the structure of base R4 (:mod:`interop.fhir.structure`) with the required
  bindings of ``profiles/base/r4-required-bindings.json``;
- the StructureDefinitions ``profiles/StructureDefinition-*.json`` (their
  ``differential``): cardinality of any element path, extension slices by
  url and ``value``/``pattern`` slicing, ``fixed[x]``/``pattern[x]``, bindings
  (``required`` → error, ``extensible`` → warning) checked with
  :class:`~interop.fhir.terminology.Terminology`, type restrictions of
  ``value[x]``, and ``constraint`` invariants in FHIRPath (compiled once with
  fhirpathpy; ``requirements`` carries the requirement ID of DB36/T 2143-2025).

:meth:`Validator.validate` then checks a resource or a Bundle without file
I/O and without compiling anything. Findings are :class:`Issue` rows;
:func:`operation_outcome` turns them into a FHIR OperationOutcome.

A profile applies to a resource when the resource names it in ``meta.profile``;
otherwise when it is the only loaded profile of that resource type. Profiles of
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

import functools
import importlib
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interop import resources
from interop._errors import DataFileError
from interop.fhir import release
from interop.fhir.structure import (
    COMPLEX,
    PRIMITIVE,
    PRIMITIVE_EXT,
    Structure,
    TypeInfo,
    load_required_bindings,
    shown_code,
    type_info,
)
from interop.fhir.terminology import Terminology
from interop.issues import Issue

__all__ = ["Issue", "Validator", "operation_outcome"]

BINDINGS_FILE = Path("base") / "r4-required-bindings.json"
_CORE = "http://hl7.org/fhir/StructureDefinition/"
# Requirement IDs of the catalogue: R-7.2.1-03, R-7.3-17, CL-07, G-01, RT-07, B-16 ...
_REQUIREMENT_ID = re.compile(
    r"(?<![A-Za-z0-9-])[A-Z]{1,2}-[0-9]+(?:\.[0-9]+)*(?:-[0-9]+)?(?![0-9A-Za-z])"
)
_ENV_VARIABLES = frozenset({"resource", "rootResource", "context", "ucum", "sct", "loinc"})
_STRENGTHS = frozenset({"required", "extensible", "preferred", "example"})
_SLICING_RULES = frozenset({"open", "closed", "openAtEnd"})
_DISCRIMINATORS = frozenset({"value", "pattern"})

#: Issue kind → FHIR R4 IssueType code.
ISSUE_TYPES = {
    "structure": "structure",
    "required": "required",
    "cardinality": "structure",
    "value": "value",
    "fixed": "value",
    "pattern": "value",
    "binding": "code-invalid",
    "invariant": "invariant",
    "unknown-resource": "not-supported",
    "profile": "processing",
}


# ---------------------------------------------------------------------------
# FHIRPath (fhirpathpy), compiled once
# ---------------------------------------------------------------------------


class _SyntaxErrors:
    """ANTLR error listener that raises (fhirpathpy's own one ignores errors)."""

    def syntaxError(  # ANTLR's name
        self, recognizer: Any, symbol: Any, line: int, column: int, msg: str, e: Any
    ) -> None:
        raise ValueError(f"FHIRPath syntax error at column {column + 1}: {msg}")

    def reportAmbiguity(self, *args: Any) -> None:
        return None

    def reportAttemptingFullContext(self, *args: Any) -> None:
        return None

    def reportContextSensitivity(self, *args: Any) -> None:
        return None


def _check_fhirpath(expression: str) -> None:
    """Raise ValueError when the expression does not parse or names an
    unknown function or environment variable."""
    # fhirpathpy and its ANTLR runtime are untyped: used through Any
    fp_parser: Any = importlib.import_module("fhirpathpy.parser")
    antlr: Any = importlib.import_module("antlr4")
    registry: Any = importlib.import_module("fhirpathpy.engine.invocations")

    listener = _SyntaxErrors()
    lexer = fp_parser.FHIRPathLexer(antlr.InputStream(expression))
    lexer.removeErrorListeners()
    lexer.addErrorListener(listener)
    parser = fp_parser.FHIRPathParser(antlr.CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    try:
        parser.entireExpression()
    except ValueError:
        raise
    except Exception as exc:  # the lexer raises its own exceptions
        raise ValueError(f"FHIRPath syntax error: {type(exc).__name__}") from exc

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            kind = node.get("type")
            if kind == "Functn":
                name = node["children"][0].get("text")
                if name not in registry.invocation_registry:
                    raise ValueError(f"unknown FHIRPath function {name}()")
            elif kind == "ExternalConstant":
                name = str(node["children"][0].get("text", "")).strip("`")
                if name not in _ENV_VARIABLES and not name.startswith(("vs-", "ext-")):
                    raise ValueError(f"unknown FHIRPath variable %{name}")
            for child in node.get("children", ()):
                walk(child)

    walk(fp_parser.parse(expression))


def _compile_fhirpath(expression: str) -> Callable[[Any, dict[str, Any]], list[Any]]:
    import fhirpathpy
    from fhirpathpy.models import models

    _check_fhirpath(expression)
    _resource_node()
    compiled: Callable[[Any, dict[str, Any]], list[Any]] = fhirpathpy.compile(
        expression, model=models["r4"]
    )
    return compiled


@functools.cache
def _resource_node() -> Any:
    """fhirpathpy's ResourceNode class (imported once, at load)."""
    nodes: Any = importlib.import_module("fhirpathpy.engine.nodes")
    return nodes.ResourceNode


def _fhirpath_node(value: Any, type_path: str | None) -> Any:
    """Wrap an element so that FHIRPath knows its type (for value[x] and ofType)."""
    if type_path is None or not isinstance(value, dict):
        return value
    return _resource_node().create_node(value, type_path)


# ---------------------------------------------------------------------------
# Compiled profiles
# ---------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class _Constraint:
    key: str
    severity: str
    human: str
    expression: str
    requirement: str | None
    run: Callable[[Any, dict[str, Any]], list[Any]]


@dataclass(slots=True, eq=False)
class _Element:
    """One element of a profile's differential, with its children and slices."""

    id: str
    names: tuple[str, ...]  # JSON names read from the parent object
    many: bool
    prim: bool  # a primitive: children are read from "_name"
    info: TypeInfo | None  # type of the value (for children and FHIRPath)
    choice_group: str | None = None
    min: int | None = None
    max: int | None = None  # None: not constrained
    fixed: tuple[str, Any] | None = None  # ("fixed" | "pattern", value)
    binding: tuple[str, str] | None = None  # (strength, ValueSet url)
    allowed: frozenset[str] | None = None  # allowed JSON names of a choice
    constraints: list[_Constraint] = field(default_factory=list)
    children: dict[str, _Element] = field(default_factory=dict)
    discriminators: list[tuple[str, str]] | None = None  # (type, path)
    closed: bool = False
    slices: dict[str, _Element] = field(default_factory=dict)
    slice_name: str | None = None
    type_profile: str | None = None
    match: Callable[[Any], bool] | None = None
    declared: bool = False  # listed in the differential (not only implied)
    owner: TypeInfo | None = None  # type holding a value[x] element
    requirement: str | None = None  # requirement ID from the element's "requirements"


@dataclass(slots=True, eq=False)
class _Profile:
    url: str
    name: str
    type: str
    file: str
    root: _Element
    base: str | None = None  # url of a loaded base profile
    chain: tuple[_Profile, ...] = ()


class _ProfileFile:
    """Compiles one StructureDefinition; errors name the file and the entry."""

    def __init__(
        self, name: str, sd: dict[str, Any], terminology: Callable[[], Terminology]
    ) -> None:
        self.name = name
        self.sd = sd
        self.terminology = terminology

    def error(self, entry: str, problem: str) -> DataFileError:
        return DataFileError(self.name, entry, problem)

    def compile(self) -> _Profile:
        sd = self.sd
        if sd.get("resourceType") != "StructureDefinition":
            raise self.error("resourceType", "must be StructureDefinition")
        url = sd.get("url")
        if not isinstance(url, str) or not url:
            raise self.error("url", "is missing")
        rtype = sd.get("type")
        if rtype != "Extension" and (
            not isinstance(rtype, str) or release.model_class(rtype) is None
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
        root = _Element(id=rtype, names=(), many=False, prim=False, info=info)
        for i, element in enumerate(elements):
            self._element(root, rtype, i, element)
        self._finish_slices(root)
        name = sd.get("name") if isinstance(sd.get("name"), str) else url.rsplit("/", 1)[-1]
        return _Profile(
            url=url,
            name=str(name),
            type=rtype,
            file=self.name,
            root=root,
            base=None if base == _CORE + rtype else base,
        )

    # -- one element ---------------------------------------------------------

    def _element(self, root: _Element, rtype: str, index: int, element: Any) -> None:
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
                    sliced = _Element(
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

    def _child(self, parent: _Element, name: str, entry: str, eid: str) -> _Element:
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
            return _Element(
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
            return _Element(
                id=eid,
                names=(name,),
                many=fld.many,
                prim=True,
                info=ext.spec if ext is not None else None,
            )
        if fld.kind == COMPLEX or fld.kind == PRIMITIVE_EXT:
            return _Element(id=eid, names=(name,), many=fld.many, prim=False, info=fld.spec)
        return _Element(id=eid, names=(name,), many=fld.many, prim=False, info=None)

    def _rules(self, node: _Element, element: dict[str, Any], entry: str) -> None:
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

    def _types(self, node: _Element, types: Any, entry: str) -> None:
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

    def _binding(self, node: _Element, binding: Any, entry: str) -> None:
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

    def _slicing(self, node: _Element, slicing: Any, entry: str) -> None:
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

    def _constraint(self, constraint: Any, entry: str) -> _Constraint:
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
            run = _compile_fhirpath(expression)
        except Exception as exc:
            raise self.error(entry, f"FHIRPath does not compile: {exc}") from exc
        return _Constraint(
            key=key,
            severity=severity,
            human=human,
            expression=expression,
            requirement=_requirement_id(constraint.get("requirements")),
            run=run,
        )

    # -- slices ------------------------------------------------------------------

    def _finish_slices(self, node: _Element) -> None:
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

    def _matcher(self, base: _Element, sliced: _Element) -> Callable[[Any], bool]:
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
                values = _values_at(item, steps)
                if kind == "value":
                    if not any(_equal(v, expected) for v in values):
                        return False
                elif not any(_matches(v, expected) for v in values):
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


def _slice_value(sliced: _Element, dpath: str) -> tuple[str, Any] | None:
    node: _Element | None = sliced
    if dpath != "$this":
        for step in dpath.split("."):
            node = node.children.get(step) if node is not None else None
    return node.fixed if node is not None else None


def _values_at(item: Any, steps: tuple[str, ...]) -> list[Any]:
    values = [item]
    for step in steps:
        nxt: list[Any] = []
        for value in values:
            if isinstance(value, dict) and step in value:
                got = value[step]
                nxt.extend(got if isinstance(got, list) else [got])
        values = nxt
    return values


def _equal(value: Any, expected: Any) -> bool:
    """Exact equality, with JSON types (true is not 1)."""
    if isinstance(expected, dict):
        return (
            isinstance(value, dict)
            and value.keys() == expected.keys()
            and all(_equal(value[k], expected[k]) for k in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(value, list)
            and len(value) == len(expected)
            and all(_equal(v, e) for v, e in zip(value, expected, strict=True))
        )
    if isinstance(expected, bool) or isinstance(value, bool):
        return value is expected
    return bool(type(value) is type(expected) or _numbers(value, expected)) and value == expected


def _numbers(a: Any, b: Any) -> bool:
    return isinstance(a, int | float) and isinstance(b, int | float)


def _matches(value: Any, pattern: Any) -> bool:
    """Pattern match: everything in the pattern is in the value (lists: each
    pattern item matches some value item)."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            k in value and _matches(value[k], p) for k, p in pattern.items()
        )
    if isinstance(pattern, list):
        items = value if isinstance(value, list) else [value]
        return all(any(_matches(v, p) for v in items) for p in pattern)
    return _equal(value, pattern)


def _codings(value: Any) -> list[tuple[str | None, str]]:
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


def _shown(value: Any) -> str:
    """A fixed value for a message: only short codes and URIs (profile data)."""
    if isinstance(value, str) and len(value) <= 80 and " " not in value:
        return f" {value!r}"
    return ""


# ---------------------------------------------------------------------------
# The validator
# ---------------------------------------------------------------------------

_STRUCTURES: dict[tuple[str, int], Structure] = {}
_STRUCTURES_LOCK = threading.Lock()


def _structure(path: Path) -> Structure:
    """Compiled base structure with the bindings of ``path`` (cached per file version)."""
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    with _STRUCTURES_LOCK:
        found = _STRUCTURES.get(key)
        if found is None:
            found = Structure.compile(load_required_bindings(path))
            _STRUCTURES[key] = found
        return found


class Validator:
    """Base R4 + required bindings + the programme's profiles; see :meth:`load`."""

    __slots__ = ("_by_type", "_by_url", "_extensions", "_structure", "terminology")

    def __init__(
        self,
        structure: Structure,
        profiles: list[_Profile],
        terminology: Terminology | None,
    ) -> None:
        self._structure = structure
        self.terminology = terminology
        self._by_url: dict[str, _Profile] = {p.url: p for p in profiles}
        self._by_type: dict[str, list[_Profile]] = {}
        self._extensions: dict[str, _Profile] = {}
        for profile in profiles:
            if profile.type == "Extension":
                self._extensions[profile.url] = profile
            else:
                self._by_type.setdefault(profile.type, []).append(profile)

    @classmethod
    def load(
        cls, profiles_dir: Path | None = None, terminology: Terminology | None = None
    ) -> Validator:
        """Read and compile the base bindings and every ``StructureDefinition-*.json``.

        ``terminology`` defaults to :meth:`Terminology.load` of
        ``<profiles_dir>/terminology`` (loaded only when a profile has a binding).
        Raises :class:`~interop._errors.DataFileError` naming the file and the
        entry when a profile is malformed: an unknown element path, an unknown
        ValueSet, FHIRPath that does not compile, an unsupported feature.
        """
        directory = profiles_dir if profiles_dir is not None else resources.profiles_dir()
        bindings = directory / BINDINGS_FILE
        if not bindings.is_file():
            bindings = resources.profiles_dir() / BINDINGS_FILE
        if not bindings.is_file():
            raise DataFileError(
                str(BINDINGS_FILE), "(file)", "the base R4 bindings file is missing"
            )
        structure = _structure(bindings)

        loaded: list[Terminology] = [terminology] if terminology is not None else []

        def get_terminology() -> Terminology:
            if not loaded:
                folder = directory / "terminology"
                loaded.append(Terminology.load(folder if folder.is_dir() else None))
            return loaded[0]

        profiles: list[_Profile] = []
        for path in sorted(directory.glob("StructureDefinition-*.json")):
            try:
                sd = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise DataFileError(
                    path.name,
                    f"line {exc.lineno}, column {exc.colno}",
                    f"not valid JSON: {exc.msg}",
                ) from exc
            except (OSError, UnicodeDecodeError) as exc:
                raise DataFileError(path.name, "(file)", f"cannot be read: {exc}") from exc
            if not isinstance(sd, dict):
                raise DataFileError(path.name, "(file)", "must be a JSON object")
            profiles.append(_ProfileFile(path.name, sd, get_terminology).compile())
        _link_profiles(profiles)
        return cls(structure, profiles, loaded[0] if loaded else None)

    @property
    def profile_urls(self) -> list[str]:
        return sorted(self._by_url)

    # -- validation ----------------------------------------------------------

    def validate(self, resource: dict[str, Any], *, implied: bool = True) -> list[Issue]:
        """Every issue of a resource or a Bundle (entries checked each, paths prefixed).

        ``implied=False`` checks only the profiles a resource claims in
        ``meta.profile`` (not the sole profile of its type): purpose-filtered
        outbound resources are not archive resources (:mod:`interop.privacy`).
        """
        out: list[Issue] = []
        rtype = self._structure.check_resource(resource, None, out)
        if rtype is not None:
            self._profiles_of(resource, rtype, rtype, out, implied)
        return out

    def _profiles_of(
        self,
        resource: dict[str, Any],
        rtype: str,
        path: str,
        out: list[Issue],
        implied: bool = True,
    ) -> None:
        for profile in self._select(resource, rtype, path, out, implied):
            for step in (*profile.chain, profile):
                self._apply(step, resource, path, out)
        if self._extensions:
            for ext, ext_path in _extensions(resource, path):
                url = ext.get("url")
                ext_profile = self._extensions.get(url) if isinstance(url, str) else None
                if ext_profile is not None:
                    for step in (*ext_profile.chain, ext_profile):
                        _Run(self, step, resource, out).element(step.root, ext, ext_path)
        if rtype == "Bundle":
            entries = resource.get("entry")
            for i, entry in enumerate(entries if isinstance(entries, list) else []):
                inner = entry.get("resource") if isinstance(entry, dict) else None
                if isinstance(inner, dict):
                    itype = inner.get("resourceType")
                    if isinstance(itype, str) and self._structure.resource_info(itype) is not None:
                        self._profiles_of(
                            inner,
                            itype,
                            f"{path}.entry[{i}].resource.ofType({itype})",
                            out,
                            implied,
                        )

    def _select(
        self,
        resource: dict[str, Any],
        rtype: str,
        path: str,
        out: list[Issue],
        implied: bool = True,
    ) -> list[_Profile]:
        meta = resource.get("meta")
        claimed = meta.get("profile") if isinstance(meta, dict) else None
        chosen: list[_Profile] = []
        if isinstance(claimed, list):
            for i, url in enumerate(claimed):
                if not isinstance(url, str):
                    continue
                profile = self._by_url.get(url.split("|", 1)[0])
                if profile is None:
                    out.append(
                        Issue(
                            "warning",
                            f"{path}.meta.profile[{i}]",
                            f"profile {url} is not known; the resource is not checked against it",
                            "profile",
                        )
                    )
                elif profile.type != rtype:
                    out.append(
                        Issue(
                            "error",
                            f"{path}.meta.profile[{i}]",
                            f"profile {url} is for {profile.type}, not {rtype}",
                            "profile",
                        )
                    )
                elif profile not in chosen:
                    chosen.append(profile)
        if not chosen and implied:
            candidates = self._by_type.get(rtype, [])
            if len(candidates) == 1:
                chosen.append(candidates[0])
        return chosen

    def _apply(
        self, profile: _Profile, resource: dict[str, Any], path: str, out: list[Issue]
    ) -> None:
        _Run(self, profile, resource, out).element(profile.root, resource, path)


class _Run:
    """Applies one profile to one resource."""

    __slots__ = ("env", "out", "profile", "terminology")

    def __init__(
        self, validator: Validator, profile: _Profile, resource: dict[str, Any], out: list[Issue]
    ) -> None:
        self.profile = profile
        self.out = out
        self.terminology = validator.terminology
        self.env = {
            "resource": resource,
            "rootResource": resource,
            "sct": "http://snomed.info/sct",
            "loinc": "http://loinc.org",
        }

    def issue(
        self, severity: str, path: str, message: str, code: str, requirement: str | None = None
    ) -> None:
        self.out.append(
            Issue(severity, path, f"{message} (profile {self.profile.name})", code, requirement)
        )

    def element(self, node: _Element, value: Any, path: str) -> None:
        """Rules of ``node`` on one value at ``path``, then its children."""
        if node.fixed is not None:
            kind, expected = node.fixed
            ok = _equal(value, expected) if kind == "fixed" else _matches(value, expected)
            if not ok:
                self.issue(
                    "error",
                    path,
                    f"{node.id} does not match the {kind} value{_shown(expected)}",
                    kind,
                    node.requirement,
                )
        if node.binding is not None:
            self.binding(node, value, path)
        for constraint in node.constraints:
            self.invariant(node, constraint, value, path)
        if not node.children:
            return
        if node.prim:
            return  # children of a primitive are checked through its "_name" element
        if not isinstance(value, dict):
            return
        for child in node.children.values():
            self.child(child, value, path)

    def child(self, node: _Element, parent: dict[str, Any], path: str) -> None:
        values = list(_child_values(node, parent, path))
        if node.allowed is not None:
            for key, _, where in values:
                if key not in node.allowed:
                    self.issue(
                        "error",
                        where,
                        f"{key} is not allowed here; {node.id} allows "
                        + ", ".join(sorted(node.allowed)),
                        "structure",
                        node.requirement,
                    )
        self.cardinality(node, len(values), path)
        if node.slices:
            assigned: dict[str, list[tuple[Any, str]]] = {name: [] for name in node.slices}
            for _, item, where in values:
                for name, sliced in node.slices.items():
                    if sliced.match is not None and sliced.match(item):
                        assigned[name].append((item, where))
                        break
                else:
                    if node.closed:
                        self.issue(
                            "error",
                            where,
                            f"{node.id} is closed; this item matches none of its slices",
                            "cardinality",
                            node.requirement,
                        )
            for name, sliced in node.slices.items():
                self.cardinality(sliced, len(assigned[name]), path, f"{node.id}:{name}")
                for item, where in assigned[name]:
                    self.element(sliced, item, where)
        for _, item, where in values:
            self.element(node, item, where)
        if node.prim and node.children:
            # children of a primitive (extension, id) live in its "_name" sibling
            for name in node.names:
                ext = parent.get("_" + name)
                items = ext if isinstance(ext, list) else [ext]
                for i, item in enumerate(items):
                    if isinstance(item, dict):
                        where = f"{path}._{name}" + (f"[{i}]" if isinstance(ext, list) else "")
                        for child in node.children.values():
                            self.child(child, item, where)

    def cardinality(self, node: _Element, count: int, path: str, label: str | None = None) -> None:
        label = label or node.id
        where = f"{path}.{node.choice_group + '[x]' if node.choice_group else node.names[0]}"
        if node.min is not None and count < node.min:
            self.issue(
                "error",
                where,
                f"{label}: at least {node.min} required, found {count}",
                "required" if count == 0 else "cardinality",
                node.requirement,
            )
        if node.max is not None and count > node.max:
            self.issue(
                "error",
                where,
                f"{label}: at most {node.max} allowed, found {count}"
                if node.max
                else f"{label} is not allowed (max 0)",
                "cardinality",
                node.requirement,
            )

    def binding(self, node: _Element, value: Any, path: str) -> None:
        assert node.binding is not None and self.terminology is not None
        strength, url = node.binding
        codings = _codings(value)
        if not codings:
            if strength == "required" and isinstance(value, dict):
                self.issue(
                    "error", path, f"needs a code from ValueSet {url}", "binding", node.requirement
                )
            return
        if any(self.terminology.in_valueset(url, system, code) for system, code in codings):
            return
        shown = ", ".join(shown_code(code) for _, code in codings[:3])
        self.issue(
            "error" if strength == "required" else "warning",
            path,
            f"code {shown} is not in ValueSet {url} ({strength} binding)",
            "binding",
            node.requirement,
        )

    def invariant(self, node: _Element, constraint: _Constraint, value: Any, path: str) -> None:
        if isinstance(value, dict) and "resourceType" in value:
            context = value
        else:
            context = _fhirpath_node(value, node.info.name if node.info else None)
        try:
            result = constraint.run(context, self.env)
        except Exception:
            self.issue(
                constraint.severity,
                path,
                f"invariant {constraint.key} could not be evaluated",
                "invariant",
                constraint.requirement,
            )
            return
        if result == [True]:
            return
        if any(isinstance(x, dict) and x.get("$status") == "error" for x in result):
            # fhirpathpy returns some run-time errors (single() on many) as a value
            self.issue(
                constraint.severity,
                path,
                f"invariant {constraint.key} could not be evaluated",
                "invariant",
                constraint.requirement,
            )
            return
        self.issue(
            constraint.severity,
            path,
            f"{constraint.human} [{constraint.key}]",
            "invariant",
            constraint.requirement,
        )


def _child_values(
    node: _Element, parent: dict[str, Any], path: str
) -> Iterator[tuple[str, Any, str]]:
    """(JSON name, value, path) of every value of ``node`` in ``parent``."""
    for name in node.names:
        value = parent.get(name)
        if value is None:
            if node.prim and ("_" + name) in parent:
                ext = parent["_" + name]
                # a primitive given only by its extension still counts
                if isinstance(ext, list):
                    for i, item in enumerate(ext):
                        if item is not None:
                            yield name, None, f"{path}.{name}[{i}]"
                else:
                    yield name, None, f"{path}.{name}"
            continue
        if isinstance(value, list):
            for i, item in enumerate(value):
                if item is not None:
                    yield name, item, f"{path}.{name}[{i}]"
        else:
            yield name, value, f"{path}.{name}"


def _extensions(resource: dict[str, Any], path: str) -> Iterator[tuple[dict[str, Any], str]]:
    """Every extension item of a resource (contained resources included, other
    nested resources such as Bundle entries not: they are checked on their own)."""
    stack: list[tuple[Any, str]] = [(resource, path)]
    while stack:
        obj, where = stack.pop()
        if isinstance(obj, dict):
            for key, value in obj.items():
                if isinstance(value, dict):
                    if "resourceType" in value:
                        continue
                    stack.append((value, f"{where}.{key}"))
                elif isinstance(value, list):
                    for i, item in enumerate(value):
                        if not isinstance(item, dict):
                            continue
                        here = f"{where}.{key}[{i}]"
                        if key in ("extension", "modifierExtension"):
                            yield item, here
                        if "resourceType" in item:
                            if key == "contained" and isinstance(item["resourceType"], str):
                                stack.append((item, f"{here}.ofType({item['resourceType']})"))
                            continue
                        stack.append((item, here))


def _link_profiles(profiles: list[_Profile]) -> None:
    """Resolve base profiles that are themselves loaded (profile on a profile)."""
    by_url: dict[str, _Profile] = {}
    for profile in profiles:
        other = by_url.get(profile.url)
        if other is not None:
            raise DataFileError(
                profile.file, "url", f"{profile.url} is also defined in {other.file}"
            )
        by_url[profile.url] = profile
    for profile in profiles:
        chain: list[_Profile] = []
        base = profile.base
        while base is not None:
            parent = by_url.get(base)
            if parent is None:
                raise DataFileError(
                    profile.file,
                    "baseDefinition",
                    f"{base} is neither core R4 nor a loaded profile",
                )
            if parent is profile or parent in chain:
                raise DataFileError(
                    profile.file, "baseDefinition", "profiles derive from each other in a loop"
                )
            if parent.type != profile.type:
                raise DataFileError(
                    profile.file, "baseDefinition", f"{base} is a profile of {parent.type}"
                )
            chain.insert(0, parent)
            base = parent.base
        profile.chain = tuple(chain)


# ---------------------------------------------------------------------------
# OperationOutcome
# ---------------------------------------------------------------------------


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    """A FHIR R4 OperationOutcome for the issues (one "all OK" issue when there is none).

    ``expression`` holds the path; a requirement ID of the standard goes to
    ``details.text``.
    """
    rows: list[dict[str, Any]] = []
    for issue in issues:
        row: dict[str, Any] = {
            "severity": issue.severity
            if issue.severity in ("fatal", "error", "warning")
            else "information",
            "code": ISSUE_TYPES.get(issue.code, "processing"),
        }
        if issue.requirement:
            row["details"] = {"text": issue.requirement}
        row["diagnostics"] = issue.message
        row["expression"] = [issue.path]
        rows.append(row)
    if not rows:
        rows.append(
            {"severity": "information", "code": "informational", "diagnostics": "No issues found"}
        )
    return {"resourceType": "OperationOutcome", "issue": rows}
