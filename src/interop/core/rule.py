"""A rule of the standard checked at a case step, and a finding of one broken (apart from
:mod:`interop.core.caserules`, which lists the rules)."""

from __future__ import annotations

from dataclasses import dataclass

from interop.i18n import N_

BLOCK = "block"
WARN = "warn"


# A finding's line as the catalogue knows it (one a force: a field beside "block" is not a
# word to translate), so that a refusal made of lines is said line by line.
LINES = {
    BLOCK: N_("{req} (block) {where}: {message} — {todo}"),
    WARN: N_("{req} (warn) {where}: {message} — {todo}"),
}


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule of the standard as checked at a step."""

    key: str  # unique key of this check (a requirement can have several)
    req: str  # requirement ID (R-x.y-NN, CL-NN, DL-NN, G-NN)
    severity: str  # BLOCK | WARN
    says: str  # the rule, in plain words
    todo: str  # what to do when it is broken
    invariant: str | None = None  # FHIRPath invariant key in profiles/, if any


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule broken by a step: which, where in the record, and the detail."""

    key: str
    req: str
    severity: str
    where: str
    message: str
    todo: str

    def as_dict(self) -> dict[str, str]:
        return {
            "rule": self.req,
            "severity": self.severity,
            "where": self.where,
            "message": self.message,
            "todo": self.todo,
        }

    def line(self) -> str:
        line = LINES.get(self.severity, "{req} ({severity}) {where}: {message} — {todo}")
        return line.format(
            req=self.req,
            severity=self.severity,
            where=self.where,
            message=self.message,
            todo=self.todo,
        )
