"""Fast structural check of FHIR R4 JSON on plain dicts (基础结构校验).

The shape of every resource, datatype and backbone element is compiled once
from the metadata of the ``fhir.resources`` R4B models (JSON names, lists,
required elements, primitive types, choice groups ``value[x]``) into small
tables; :meth:`Structure.check` then walks a dict against them. It agrees
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

import json
import math
import re
import threading
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interop._errors import DataFileError
from interop.fhir import release
from interop.issues import Issue

__all__ = [
    "Field",
    "RequiredBindings",
    "Structure",
    "TypeInfo",
    "load_required_bindings",
    "shown_code",
    "type_info",
]


# ---------------------------------------------------------------------------
# Primitive types
# ---------------------------------------------------------------------------

#: A checker returns ``None`` when the value is fine, else ``(code, message)``.
Checker = Callable[[Any], "tuple[str, str] | None"]

_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_TZ = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_DATE_RE = re.compile(_YEAR + r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?")
_DATETIME_RE = re.compile(
    _YEAR + r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T" + _TIME + _TZ + r")?)?)?"
)
_INSTANT_RE = re.compile(_YEAR + r"-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T" + _TIME + _TZ)
_TIME_RE = re.compile(_TIME)
_CODE_RE = re.compile(r"[^\s]+( [^\s]+)*")
_ID_RE = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_URI_RE = re.compile(r"\S+")
_OID_RE = re.compile(r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+")
_UUID_RE = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_B64_RE = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_WS_RE = re.compile(r"\s+")
_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MAX_STRING = 1024 * 1024
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def _real_day(value: str) -> bool:
    """A full date's day exists in its month (2023-02-29 does not)."""
    if len(value) < 10:
        return True
    year, month, day = int(value[0:4]), int(value[5:7]), int(value[8:10])
    if day <= 28:
        return True
    if month == 2 and day == 29:
        return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return day <= _DAYS[month]


_NOT_STRING = ("structure", "value must be a JSON string")
_EMPTY = ("value", "value must not be an empty string")


def _regex_checker(regex: re.Pattern[str], what: str, dates: bool = False) -> Checker:
    match = regex.fullmatch
    bad = ("value", f"value is not a valid {what}")

    def check(value: Any) -> tuple[str, str] | None:
        if type(value) is not str:
            return _NOT_STRING
        if match(value) is None:
            return bad
        if dates and not _real_day(value):
            return bad
        return None

    return check


def _check_string(value: Any) -> tuple[str, str] | None:
    if type(value) is not str:
        return _NOT_STRING
    if not value:
        return _EMPTY
    if len(value) > _MAX_STRING:
        return ("value", "value is longer than 1,048,576 characters")
    return None


def _check_boolean(value: Any) -> tuple[str, str] | None:
    if value is True or value is False:
        return None
    return ("structure", "value must be a JSON boolean (true or false)")


def _int_checker(low: int, what: str) -> Checker:
    bad_type = ("structure", f"value must be a JSON number without fraction ({what})")
    bad_range = ("value", f"value is out of range for {what}")

    def check(value: Any) -> tuple[str, str] | None:
        if type(value) is not int:
            return bad_type
        if value < low or value > _INT_MAX:
            return bad_range
        return None

    return check


def _check_decimal(value: Any) -> tuple[str, str] | None:
    kind = type(value)
    if kind is int:
        return None
    if kind is float and math.isfinite(value):
        return None
    return ("structure", "value must be a JSON number (decimal)")


def _check_base64(value: Any) -> tuple[str, str] | None:
    if type(value) is not str:
        return _NOT_STRING
    packed = _WS_RE.sub("", value)
    if not packed or len(packed) % 4 or _B64_RE.fullmatch(packed) is None:
        return ("value", "value is not valid base64")
    return None


def _check_xhtml(value: Any) -> tuple[str, str] | None:
    if type(value) is not str:
        return _NOT_STRING
    if not value.lstrip().startswith("<div"):
        return ("value", "narrative must be an XHTML <div> element")
    return None


_PRIMITIVES: dict[str, Checker] = {
    "boolean": _check_boolean,
    "string": _check_string,
    "markdown": _check_string,
    "code": _regex_checker(_CODE_RE, "code"),
    "id": _regex_checker(_ID_RE, "id (1-64 of A-Z a-z 0-9 - .)"),
    "uri": _regex_checker(_URI_RE, "uri"),
    "url": _regex_checker(_URI_RE, "url"),
    "canonical": _regex_checker(_URI_RE, "canonical"),
    "oid": _regex_checker(_OID_RE, "oid"),
    "uuid": _regex_checker(_UUID_RE, "uuid"),
    "date": _regex_checker(_DATE_RE, "date (YYYY, YYYY-MM or YYYY-MM-DD)", dates=True),
    "dateTime": _regex_checker(
        _DATETIME_RE, "dateTime (YYYY[-MM[-DD[Thh:mm:ss[.s]+zz:zz]]])", dates=True
    ),
    "instant": _regex_checker(_INSTANT_RE, "instant (YYYY-MM-DDThh:mm:ss[.s]+zz:zz)", True),
    "time": _regex_checker(_TIME_RE, "time (hh:mm:ss)"),
    "integer": _int_checker(_INT_MIN, "integer"),
    "unsignedInt": _int_checker(0, "unsignedInt"),
    "positiveInt": _int_checker(1, "positiveInt"),
    "decimal": _check_decimal,
    "base64Binary": _check_base64,
    "xhtml": _check_xhtml,
}

# ---------------------------------------------------------------------------
# Compiled shapes
# ---------------------------------------------------------------------------

PRIMITIVE, COMPLEX, RESOURCE, PRIMITIVE_EXT = 0, 1, 2, 3

# Choice types R4B added; R4 has none of them.
_R4B_ONLY_TYPES = frozenset({"CodeableReference", "RatioRange"})
# Elements R4B added to R4 structures (class name → JSON names).
_R4B_ONLY_ELEMENTS: dict[str, frozenset[str]] = {
    "TaskInput": frozenset({"valueMeta", "_valueMeta"}),
    "TaskOutput": frozenset({"valueMeta", "_valueMeta"}),
    "ParametersParameter": frozenset({"valueMeta", "_valueMeta"}),
}


@dataclass(slots=True, eq=False)
class Field:
    """One JSON element of a type."""

    name: str  # JSON name, e.g. "status", "_status", "valueQuantity", "class"
    many: bool  # a JSON array
    kind: int  # PRIMITIVE, COMPLEX, RESOURCE or PRIMITIVE_EXT
    type_name: str  # FHIR type: "code", "CodeableConcept", "Resource", ...
    path: str  # element path, e.g. "CarePlan.activity.detail.status"
    check: Checker | None = None  # primitive checker
    spec: TypeInfo | None = None  # nested type (COMPLEX, PRIMITIVE_EXT)
    choice: str | None = None  # choice group, e.g. "value" for valueQuantity
    codes: frozenset[str] | None = None  # required binding of base R4 (code)
    codings: frozenset[tuple[str, str]] | None = None  # same, CodeableConcept/Coding


@dataclass(slots=True, eq=False)
class TypeInfo:
    """The compiled shape of one resource, datatype or backbone element."""

    name: str  # element path of the type: "Patient", "Quantity", "CarePlan.activity"
    is_resource: bool
    fields: dict[str, Field]
    required: tuple[tuple[str, str | None], ...] = ()  # (name, "_name" or None)
    choices: dict[str, tuple[str, ...]] | None = None  # group → value names
    required_choices: tuple[str, ...] = ()

    def element(self, name: str) -> Field | None:
        return self.fields.get(name)


def _unwrap(annotation: Any) -> tuple[bool, Any]:
    """(is_list, inner annotation) without Optional/Union-with-None."""
    many = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Union or origin is types.UnionType:
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                # Union[AnyUrl, str] of url and the like: treat as its first member
                annotation = args[0]
                continue
            annotation = args[0]
        elif origin is list:
            many = True
            annotation = typing.get_args(annotation)[0]
        else:
            return many, annotation


def _primitive_name(annotation: Any) -> str | None:
    if annotation is bool:
        return "boolean"
    if typing.get_origin(annotation) is typing.Annotated:
        base, *meta = typing.get_args(annotation)
        for item in meta:
            visit = getattr(item, "__visit_name__", None)
            if isinstance(visit, str) and visit in _PRIMITIVES:
                return visit
        if typing.get_origin(base) is not None:
            return _primitive_name(base)
        if getattr(base, "__name__", "") == "UUID":
            return "uuid"
        return "string"
    if getattr(annotation, "__name__", "") == "UUID":
        return "uuid"
    if annotation in (str, int, float):
        return {str: "string", int: "integer", float: "decimal"}[annotation]
    return None


def _is_root_class(cls: type) -> bool:
    """Resources and datatypes are roots; backbone classes (CarePlanActivity) are not."""
    return cls.__name__.lower() == cls.__module__.rsplit(".", 1)[-1]


class _Compiler:
    """Builds TypeInfo graphs from the R4B classes; one cache per binding table."""

    def __init__(self, bindings: RequiredBindings) -> None:
        self.bindings = bindings.codes
        self.codings = bindings.codings
        self.cache: dict[type, TypeInfo] = {}
        self.lock = threading.RLock()

    def get(self, cls: type) -> TypeInfo:
        info = self.cache.get(cls)
        if info is not None:
            return info
        with self.lock:
            info = self.cache.get(cls)
            if info is not None:
                return info
            if not _is_root_class(cls):
                # a backbone: compile its owner so that its path is right
                owner = release.datatype_class(_owner_name(cls))
                if owner is not None and owner is not cls:
                    self.get(owner)
                    info = self.cache.get(cls)
                    if info is not None:
                        return info
            return self._build(cls, cls.__name__)

    def _build(self, cls: type, path: str) -> TypeInfo:
        has_resource_base = getattr(cls, "has_resource_base", None)
        is_resource = bool(has_resource_base()) if callable(has_resource_base) else False
        info = TypeInfo(name=path, is_resource=is_resource, fields={})
        self.cache[cls] = info
        excluded = _R4B_ONLY_ELEMENTS.get(cls.__name__, frozenset())
        model_fields: dict[str, Any] = getattr(cls, "model_fields", {})
        required: list[tuple[str, str | None]] = []
        choices: dict[str, list[str]] = {}
        required_choices: set[str] = set()
        nested: list[tuple[Field, type]] = []
        ext_fields: dict[str, Field] = {}
        for attr, finfo in model_fields.items():
            if attr == "fhir_comments":
                continue
            name = finfo.alias or attr
            if name in excluded:
                continue
            extra = finfo.json_schema_extra if isinstance(finfo.json_schema_extra, dict) else {}
            many, inner = _unwrap(finfo.annotation)
            choice = extra.get("one_of_many")
            model_klass = getattr(inner, "get_model_klass", None)
            if name.startswith("_"):
                field = Field(name, many, PRIMITIVE_EXT, "Element", f"{path}.{name[1:]}")
                ext_fields[name] = field
                if callable(model_klass):
                    nested.append((field, model_klass()))
                continue
            prim = _primitive_name(inner) if not callable(model_klass) else None
            if prim is not None:
                field = Field(
                    name,
                    many,
                    PRIMITIVE,
                    prim,
                    f"{path}.{name}",
                    check=_PRIMITIVES[prim],
                    codes=self.bindings.get(f"{path}.{name}"),
                )
                if extra.get("element_required"):
                    required.append((name, "_" + name))
            elif callable(model_klass):
                target: type = model_klass()
                tname = target.__name__
                if choice and tname in _R4B_ONLY_TYPES:
                    continue
                if tname in ("Resource", "DomainResource"):
                    field = Field(name, many, RESOURCE, "Resource", f"{path}.{name}")
                else:
                    field = Field(name, many, COMPLEX, tname, f"{path}.{name}")
                    nested.append((field, target))
                if finfo.is_required():
                    required.append((name, None))
                if tname in ("CodeableConcept", "Coding"):
                    field.codings = self.codings.get(field.path)
            else:  # pragma: no cover - every R4B annotation is one of the above
                continue
            if isinstance(choice, str):
                field.choice = choice
                choices.setdefault(choice, []).append(name)
                if extra.get("one_of_many_required"):
                    required_choices.add(choice)
            info.fields[name] = field
        for name, field in ext_fields.items():
            base = info.fields.get(name[1:])
            if base is None or base.kind != PRIMITIVE:
                continue  # the primitive was excluded (R4B-only)
            field.many = base.many
            field.choice = base.choice
            info.fields[name] = field
        info.required = tuple(required)
        info.choices = {k: tuple(v) for k, v in choices.items()} or None
        info.required_choices = tuple(sorted(required_choices))
        # nested types in the order of the specification, so that a backbone
        # used twice (ValueSet.compose.include / exclude) is named by its first use
        sequence = getattr(cls, "elements_sequence", None)
        order = {n: i for i, n in enumerate(sequence() if callable(sequence) else ())}
        nested.sort(key=lambda item: order.get(item[0].name.lstrip("_"), len(order)))
        for field, target in nested:
            if field.name not in info.fields:
                continue
            if field.kind == COMPLEX and not _is_root_class(target):
                child = self.cache.get(target) or self._build(target, field.path)
            else:
                child = self.get(target)
            field.spec = child
            if field.kind == PRIMITIVE_EXT:
                field.type_name = "Element"
        return info


def _owner_name(cls: type) -> str:
    """The resource or datatype a backbone class belongs to (by its module)."""
    module = cls.__module__.rsplit(".", 1)[-1]
    for parent in cls.__mro__:
        if parent.__name__.lower() == module:
            return parent.__name__
    # the class name starts with its owner's name: CarePlanActivity → CarePlan
    name = cls.__name__
    for end in range(len(name), 0, -1):
        if name[:end].lower() == module:
            return name[:end]
    return name


@dataclass(frozen=True, slots=True)
class RequiredBindings:
    """Required bindings of base R4: element path → codes / (system, code) pairs."""

    codes: Mapping[str, frozenset[str]]
    codings: Mapping[str, frozenset[tuple[str, str]]]


_SHAPES = _Compiler(RequiredBindings({}, {}))


def type_info(cls_or_name: type | str) -> TypeInfo:
    """The compiled shape (without bindings) of a class or a type name.

    Raises :class:`KeyError` for an unknown type name.
    """
    cls = release.datatype_class(cls_or_name) if isinstance(cls_or_name, str) else cls_or_name
    if cls is None:
        raise KeyError(cls_or_name)
    return _SHAPES.get(cls)


# ---------------------------------------------------------------------------
# Required bindings of base R4 (data file)
# ---------------------------------------------------------------------------


def load_required_bindings(path: Path) -> RequiredBindings:
    """Read ``r4-required-bindings.json``: ``{"bindings": {path: [code]},
    "codings": {path: ["system|code"]}}`` (made by tools/gen_required_bindings.py)."""
    name = path.name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataFileError(name, "(file)", f"cannot be read as JSON: {exc}") from exc
    tables = []
    for table in ("bindings", "codings"):
        rows = data.get(table) if isinstance(data, dict) else None
        if not isinstance(rows, dict):
            raise DataFileError(name, table, "missing or not an object")
        for key, codes in rows.items():
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                raise DataFileError(name, f"{table}.{key}", "must be a list of strings")
        tables.append(rows)
    codings: dict[str, frozenset[tuple[str, str]]] = {}
    for key, pairs in tables[1].items():
        if not all("|" in p for p in pairs):
            raise DataFileError(name, f"codings.{key}", "entries must be system|code")
        codings[key] = frozenset((p.rsplit("|", 1)[0], p.rsplit("|", 1)[1]) for p in pairs)
    return RequiredBindings({k: frozenset(v) for k, v in tables[0].items()}, codings)


# ---------------------------------------------------------------------------
# The checker
# ---------------------------------------------------------------------------

_EMPTY_OBJECT = "element has no content (empty object)"
_EMPTY_ARRAY = "array has no items (an absent element is left out, not [])"
_NULL = "null is not allowed (leave the element out)"


class Structure:
    """Structural validator for base R4; create with :meth:`compile`."""

    __slots__ = ("_compiler", "_resources")

    def __init__(self, compiler: _Compiler) -> None:
        self._compiler = compiler
        self._resources: dict[str, TypeInfo] = {}

    @classmethod
    def compile(
        cls,
        bindings: RequiredBindings | None = None,
        resource_types: Iterable[str] | None = None,
    ) -> Structure:
        """Compile the shapes of ``resource_types`` (default: every R4 type)
        with the given required bindings of base R4."""
        self = cls(_Compiler(bindings) if bindings is not None else _SHAPES)
        for rtype in sorted(release.RESOURCE_TYPES if resource_types is None else resource_types):
            self._resource(rtype)
        return self

    def _resource(self, rtype: str) -> TypeInfo | None:
        info = self._resources.get(rtype)
        if info is None:
            model = release.model_class(rtype)
            if model is None:
                return None
            info = self._compiler.get(model)
            self._resources[rtype] = info
        return info

    def resource_info(self, rtype: str) -> TypeInfo | None:
        """Compiled shape of a resource type (with bindings), None if unknown."""
        return self._resource(rtype) if isinstance(rtype, str) else None

    def unbound_paths(self) -> list[str]:
        """Binding paths of the table that no compiled element carries (a check
        that the data file and the models agree)."""
        used: set[str] = set()
        for info in list(self._compiler.cache.values()):
            for field in info.fields.values():
                if field.codes is not None or field.codings is not None:
                    used.add(field.path)
        bound = set(self._compiler.bindings) | set(self._compiler.codings)
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
