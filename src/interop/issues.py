"""An issue found in data: severity, where, what, and which rule of the standard."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding. ``message`` never carries personal data."""

    severity: str  # "error" | "warning" | "information"
    path: str  # where, FHIRPath-like ("CarePlan.activity[0]") or a record path ("child.sex")
    message: str
    code: str  # stable kind: "structure", "binding", "invariant", "resident-id", ...
    requirement: str | None = None  # e.g. "R-7.2.1-03"

    def line(self) -> str:
        req = f" [{self.requirement}]" if self.requirement else ""
        return f"{self.severity.upper():7} {self.path}: {self.message}{req}"
