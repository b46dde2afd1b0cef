"""The shape of one FHIR type as plain data (类型结构): its elements and their kinds.

:mod:`interop.fhir.shape_compiler` builds these from the ``fhir.resources`` models;
:mod:`interop.fhir.shapes` keeps them between runs and hands them out. Apart from
both, so that neither imports the other to name them.
"""

from __future__ import annotations

from dataclasses import dataclass

from interop.fhir.primitives import Checker

__all__ = ["COMPLEX", "PRIMITIVE", "PRIMITIVE_EXT", "RESOURCE", "Field", "TypeInfo"]

#: What an element holds: a primitive value, a nested datatype, a resource, or a
#: primitive's extension part (``_name``).
PRIMITIVE, COMPLEX, RESOURCE, PRIMITIVE_EXT = 0, 1, 2, 3


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
