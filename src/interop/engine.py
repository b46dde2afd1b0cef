"""The engine: terminology, mappings and validator loaded once, used together.

``interop map`` and every later outbound path go through
:meth:`Engine.case_bundle`: case record → FHIR mapping → validation.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interop.caserecord import CheckedCase, check_case_record, read_case_file
from interop.core.record import CaseRecord
from interop.fhir import canonical
from interop.fhir.mapping import MappingSet
from interop.fhir.terminology import Terminology
from interop.fhir.validate import Validator
from interop.issues import Issue


@dataclass(slots=True)
class MappedCase:
    """The outcome of mapping one case: its Bundle (if any) and every issue found."""

    bundle: dict[str, Any] | None
    issues: list[Issue]

    @property
    def ok(self) -> bool:
        return self.bundle is not None and not any(i.severity == "error" for i in self.issues)


class Engine:
    """Loaded, checked declarative data (``profiles/``, ``mappings/``)."""

    def __init__(
        self,
        *,
        profiles: Path | None = None,
        mappings: Path | None = None,
        case_number_system: str | None = None,
        canonical_base: str | None = None,
    ) -> None:
        self._profiles = profiles
        self._mappings = mappings
        self._case_number_system = case_number_system
        #: The base of what is emitted (settings ``canonical_base``); None: ours (D-77).
        self.canonical_base = canonical_base

    @functools.cached_property
    def terminology(self) -> Terminology:
        return Terminology.load(self._profiles / "terminology" if self._profiles else None)

    @functools.cached_property
    def validator(self) -> Validator:
        return Validator.load(self._profiles, self.terminology)

    @functools.cached_property
    def mappings(self) -> MappingSet:
        return MappingSet.load(
            self.terminology, self._mappings, case_number_system=self._case_number_system
        )

    def emitted(self, value: Any) -> Any:
        """``value`` as it leaves interop: every URL under our base moved under the
        configured ``canonical_base`` (the last step, after every check; D-77)."""
        return canonical.emitted(value, self.canonical_base)

    def internal(self, value: Any) -> Any:
        """What was emitted, read back under our base (e.g. a stored payload)."""
        return canonical.internal(value, self.canonical_base)

    def check_case(self, data: dict[str, Any]) -> CheckedCase:
        return check_case_record(data, self.terminology)

    def read_case(self, path: Path | str) -> CheckedCase:
        """Read and check a case-record file (InputError when unreadable)."""
        return self.check_case(read_case_file(path))

    def case_bundle(self, record: CaseRecord) -> MappedCase:
        """Map a checked case to a collection Bundle and validate it."""
        bundle = self.mappings.bundle(record)
        return MappedCase(bundle, self.validator.validate(bundle))

    def map_file(self, path: Path | str) -> MappedCase:
        checked = self.read_case(path)
        if checked.record is None or not checked.ok:
            return MappedCase(None, checked.issues)
        mapped = self.case_bundle(checked.record)
        mapped.issues[:0] = checked.issues
        return mapped
