"""Compiles the shapes of R4 types from the ``fhir.resources`` R4B models (结构编译).

Reads the metadata of the pydantic model classes (JSON names, lists,
required elements, primitive types, choice groups ``value[x]``) into
:class:`~interop.fhir.shapes.TypeInfo` graphs. Importing the ~600 model
classes is what makes this slow; :mod:`interop.fhir.shapes` keeps the result
so that a run only comes here when no compiled copy fits.
"""

from __future__ import annotations

import threading
import types
import typing
from typing import Any

from interop.fhir import release
from interop.fhir.primitives import PRIMITIVES
from interop.fhir.shape_types import COMPLEX, PRIMITIVE, PRIMITIVE_EXT, RESOURCE, Field, TypeInfo

__all__ = ["ShapeCompiler", "compile_all"]

# Choice types R4B added; R4 has none of them.
_R4B_ONLY_TYPES = frozenset({"CodeableReference", "RatioRange"})
# Elements R4B added to R4 structures (class name → JSON names).
_R4B_ONLY_ELEMENTS: dict[str, frozenset[str]] = {
    "TaskInput": frozenset({"valueMeta", "_valueMeta"}),
    "TaskOutput": frozenset({"valueMeta", "_valueMeta"}),
    "ParametersParameter": frozenset({"valueMeta", "_valueMeta"}),
}


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
            if isinstance(visit, str) and visit in PRIMITIVES:
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


class ShapeCompiler:
    """Builds the TypeInfo graph (without bindings) from the R4B classes."""

    def __init__(self) -> None:
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
                    check=PRIMITIVES[prim],
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


def compile_all() -> ShapeCompiler:
    """A compiler that has compiled every R4 resource type (in name order, so
    that a backbone used in two places is always named by the same one)."""
    compiler = ShapeCompiler()
    for rtype in sorted(release.RESOURCE_TYPES):
        model = release.model_class(rtype)
        if model is not None:
            compiler.get(model)
    return compiler
