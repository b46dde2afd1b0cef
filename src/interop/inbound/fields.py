"""The fields of an inbound mapping (名单字段): which columns feed an entry field, and
what a row's problem with one looks like (a finding names the column, never the value)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["CodeLookup", "FieldSpec", "Finding", "cell_of"]


class CodeLookup(Protocol):
    """What the mapping needs of :class:`interop.fhir.terminology.Terminology`."""

    def code_for_text(self, system: str, text: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem of a row: which column, what kind, why; never the value."""

    field: str
    code: str
    message: str
    severity: str = "error"
    requirement: str | None = None


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    columns: tuple[str, ...]
    kind: str
    required: bool
    system: str | None
    label: str
    values: dict[str, str]
    separators: str
    past: bool
    synonyms: tuple[str, ...] = ()  # other header names of the column (stage 1)
    fill_down: bool = False  # an empty cell under a merged one takes the value above
    controls: str = "remove"  # control/bidi characters: "remove" them or "quarantine" the row

    @property
    def column(self) -> str:
        return self.columns[0]


def cell_of(values: dict[str, str], spec: FieldSpec) -> str:
    """A field's cell, stripped: the first of its columns the row has."""
    if len(spec.columns) == 1:
        return (values.get(spec.columns[0]) or "").strip()
    for col in spec.columns:
        v = values.get(col)
        if v is not None:
            return v.strip()
    return ""
