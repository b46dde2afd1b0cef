"""The compiled shapes of R4 resources and datatypes (资源结构表).

A :class:`TypeInfo` is the shape of one resource, datatype or backbone
element: its JSON elements (:class:`Field`), which are lists, required,
primitive (with their checker) or nested, and its choice groups ``value[x]``.
The shapes are compiled from the ``fhir.resources`` R4B models by
:mod:`interop.fhir.shape_compiler` — seconds of importing model classes — so
they are kept as plain JSON (:func:`shapes_data`) in the folder of
:mod:`interop.fhir.diskcache`, keyed by the ``fhir.resources`` version and the
compiler's own source, and every later run rebuilds the graph from that
(:func:`graph`) without importing a model class.

Required bindings of base R4 (``profiles/base/r4-required-bindings.json``) are
attached when a graph is built, so one compiled copy serves every table.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interop._errors import DataFileError
from interop.fhir import diskcache, release
from interop.fhir.primitives import PRIMITIVES
from interop.fhir.shape_types import COMPLEX as COMPLEX
from interop.fhir.shape_types import PRIMITIVE as PRIMITIVE
from interop.fhir.shape_types import PRIMITIVE_EXT as PRIMITIVE_EXT
from interop.fhir.shape_types import RESOURCE as RESOURCE
from interop.fhir.shape_types import Field as Field
from interop.fhir.shape_types import TypeInfo as TypeInfo

__all__ = [
    "COMPLEX",
    "PRIMITIVE",
    "PRIMITIVE_EXT",
    "RESOURCE",
    "Field",
    "Graph",
    "RequiredBindings",
    "TypeInfo",
    "element_names",
    "graph",
    "load_required_bindings",
    "shapes_data",
    "type_info",
]

# Bumped when the layout of the kept JSON changes.
_FORMAT = "shapes-1"


@dataclass(frozen=True, slots=True)
class RequiredBindings:
    """Required bindings of base R4: element path → codes / (system, code) pairs."""

    codes: Mapping[str, frozenset[str]]
    codings: Mapping[str, frozenset[tuple[str, str]]]


NO_BINDINGS = RequiredBindings({}, {})


@dataclass(slots=True, eq=False)
class Graph:
    """Every compiled type, by model class name (``CarePlanActivityDetail``)."""

    by_class: dict[str, TypeInfo]
    bindings: RequiredBindings

    def all_types(self) -> list[TypeInfo]:
        seen: dict[int, TypeInfo] = {id(t): t for t in self.by_class.values()}
        return list(seen.values())


# ---------------------------------------------------------------------------
# To and from plain JSON
# ---------------------------------------------------------------------------


def to_data(by_class: Mapping[str, TypeInfo]) -> dict[str, Any]:
    """The graph as plain JSON: types by index, fields naming their nested type's index."""
    index: dict[int, int] = {}
    order: list[TypeInfo] = []
    # in class-name order, so that the same graph always gives the same JSON
    for _, info in sorted(by_class.items()):
        if id(info) not in index:
            index[id(info)] = len(order)
            order.append(info)
    for info in order:  # grows while walked: nested types no class name reached
        for fld in info.fields.values():
            if fld.spec is not None and id(fld.spec) not in index:
                index[id(fld.spec)] = len(order)
                order.append(fld.spec)
    types = [
        [
            info.name,
            info.is_resource,
            [
                [
                    f.name,
                    f.many,
                    f.kind,
                    f.type_name,
                    f.path,
                    None if f.spec is None else index[id(f.spec)],
                    f.choice,
                ]
                for f in info.fields.values()
            ],
            [list(r) for r in info.required],
            None if info.choices is None else {k: list(v) for k, v in info.choices.items()},
            list(info.required_choices),
        ]
        for info in order
    ]
    return {
        "types": types,
        "classes": {name: index[id(info)] for name, info in sorted(by_class.items())},
    }


def from_data(data: Mapping[str, Any], bindings: RequiredBindings = NO_BINDINGS) -> Graph:
    """A fresh graph from :func:`to_data`'s JSON, with ``bindings`` attached."""
    rows: list[Any] = data["types"]
    infos = [TypeInfo(row[0], row[1], {}) for row in rows]
    codes, codings = bindings.codes, bindings.codings
    for info, row in zip(infos, rows, strict=True):
        fields = info.fields
        for name, many, kind, type_name, path, spec, choice in row[2]:
            fld = Field(name, many, kind, type_name, path, choice=choice)
            if kind == PRIMITIVE:
                fld.check = PRIMITIVES[type_name]
                fld.codes = codes.get(path)
            elif spec is not None:
                fld.spec = infos[spec]
                if type_name in ("CodeableConcept", "Coding"):
                    fld.codings = codings.get(path)
            fields[name] = fld
        info.required = tuple((r[0], r[1]) for r in row[3])
        info.choices = None if row[4] is None else {k: tuple(v) for k, v in row[4].items()}
        info.required_choices = tuple(row[5])
    return Graph({name: infos[i] for name, i in data["classes"].items()}, bindings)


# ---------------------------------------------------------------------------
# Compiled once, kept on disk
# ---------------------------------------------------------------------------

_LOCK = threading.Lock()
_DATA: list[dict[str, Any]] = []
_UNBOUND: list[Graph] = []


def cache_key() -> str:
    """What the shapes are made from: the ``fhir.resources`` version, the
    compiler's source (of this module, the compiler and the primitive types)."""
    import fhir.resources

    here = Path(__file__).resolve().parent
    sources = [
        (here / n).read_bytes()
        for n in ("shapes.py", "shape_types.py", "shape_compiler.py", "primitives.py")
    ]
    return diskcache.digest(_FORMAT, str(fhir.resources.__version__), *sources)


def compile_data() -> dict[str, Any]:
    """Compile the shapes from the models now (slow), as plain JSON."""
    from interop.fhir.shape_compiler import compile_all

    compiler = compile_all()
    return to_data({cls.__name__: info for cls, info in compiler.cache.items()})


def shapes_data() -> dict[str, Any]:
    """The shapes as plain JSON: kept in this process, else read from the cache
    folder, else compiled (and kept there)."""
    _load()
    return _DATA[0]


def _load() -> None:
    with _LOCK:
        if _DATA:
            return
        key = cache_key()
        name = f"r4-shapes-{key}.json"
        data = diskcache.read(name)
        built: Graph | None = None
        if isinstance(data, dict) and data.get("key") == key:
            try:
                built = from_data(data)
            except (KeyError, TypeError, ValueError, IndexError):
                built = None  # a damaged copy: compiled again below
        if built is None or not isinstance(data, dict):
            data = compile_data()
            data["key"] = key
            built = from_data(data)
            diskcache.write(name, data)
        _DATA.append(data)
        _UNBOUND.append(built)


def forget() -> None:
    """Drop the shapes this process keeps (the next use reads the cache folder again)."""
    with _LOCK:
        _DATA.clear()
        _UNBOUND.clear()


def graph(bindings: RequiredBindings = NO_BINDINGS) -> Graph:
    """A graph of every R4 type with ``bindings`` attached (fresh unless unbound)."""
    if not bindings.codes and not bindings.codings:
        return _unbound()
    return from_data(shapes_data(), bindings)


def _unbound() -> Graph:
    _load()
    return _UNBOUND[0]


def type_info(cls_or_name: type | str) -> TypeInfo:
    """The compiled shape (without bindings) of a class or a type name
    (``Patient``, ``Quantity``, ``CarePlanActivityDetail``).

    Raises :class:`KeyError` for an unknown type name.
    """
    name = cls_or_name if isinstance(cls_or_name, str) else cls_or_name.__name__
    found = _unbound().by_class.get(name)
    if found is not None:
        return found
    # a datatype no R4 resource uses: compile it from its model
    cls = release.datatype_class(name) if isinstance(cls_or_name, str) else cls_or_name
    if cls is None:
        raise KeyError(cls_or_name)
    from interop.fhir.shape_compiler import ShapeCompiler

    return ShapeCompiler().get(cls)


def element_names(resource_type: str) -> frozenset[str]:
    """JSON element names allowed at the top level of a resource type
    (``_x`` primitive-extension names included, ``resourceType`` excluded).

    Raises :class:`~interop._errors.InputError` for an unknown resource type.
    """
    from interop._errors import InputError

    if resource_type not in release.RESOURCE_TYPES:
        raise InputError(f"unknown resource type {resource_type!r}")
    return frozenset(type_info(resource_type).fields)


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
