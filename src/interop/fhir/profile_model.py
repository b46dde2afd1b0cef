"""A compiled profile (编译后的规范约束): its elements, slices and invariants.

:class:`~interop.fhir.profiles.ProfileFile` makes them from a StructureDefinition's
differential; :class:`~interop.fhir.validate.Validator` applies them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from interop.fhir.fhirpath import Compiled
from interop.fhir.shapes import TypeInfo

__all__ = ["Constraint", "Element", "Profile"]


@dataclass(slots=True, eq=False)
class Constraint:
    key: str
    severity: str
    human: str
    expression: str
    requirement: str | None
    run: Compiled


@dataclass(slots=True, eq=False)
class Element:
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
    constraints: list[Constraint] = field(default_factory=list)
    children: dict[str, Element] = field(default_factory=dict)
    discriminators: list[tuple[str, str]] | None = None  # (type, path)
    closed: bool = False
    slices: dict[str, Element] = field(default_factory=dict)
    slice_name: str | None = None
    type_profile: str | None = None
    match: Callable[[Any], bool] | None = None
    declared: bool = False  # listed in the differential (not only implied)
    owner: TypeInfo | None = None  # type holding a value[x] element
    requirement: str | None = None  # requirement ID from the element's "requirements"


@dataclass(slots=True, eq=False)
class Profile:
    url: str
    name: str
    type: str
    file: str
    root: Element
    base: str | None = None  # url of a loaded base profile
    chain: tuple[Profile, ...] = ()
