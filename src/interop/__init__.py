"""interop — DB36/T 2143-2025 case data as FHIR R4, shared by purpose.

The public API is listed in ``__all__``; names are imported lazily so that
``import interop`` stays cheap and has no side effects.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "CaseRecord": "interop.core.record",
    "CheckedCase": "interop.caserecord",
    "DataFileError": "interop._errors",
    "Engine": "interop.engine",
    "InputError": "interop._errors",
    "InteropError": "interop._errors",
    "Issue": "interop.issues",
    "MappedCase": "interop.engine",
    "MappingSet": "interop.fhir.mapping",
    "Plugins": "interop.exchange.plugins",
    "RuleViolation": "interop._errors",
    "Terminology": "interop.fhir.terminology",
    "Validator": "interop.fhir.validate",
    "hookimpl": "interop.exchange.hookspecs",
    "mask_id": "interop.core.masking",
    "mask_name": "interop.core.masking",
    "plugin_manager": "interop.exchange.plugins",
}

__all__ = [
    "CaseRecord",
    "CheckedCase",
    "DataFileError",
    "Engine",
    "InputError",
    "InteropError",
    "Issue",
    "MappedCase",
    "MappingSet",
    "Plugins",
    "RuleViolation",
    "Terminology",
    "Validator",
    "hookimpl",
    "mask_id",
    "mask_name",
    "plugin_manager",
]

if TYPE_CHECKING:  # pragma: no cover
    from interop._errors import DataFileError, InputError, InteropError, RuleViolation
    from interop.caserecord import CheckedCase
    from interop.core.masking import mask_id, mask_name
    from interop.core.record import CaseRecord
    from interop.engine import Engine, MappedCase
    from interop.exchange.hookspecs import hookimpl
    from interop.exchange.plugins import Plugins, plugin_manager
    from interop.fhir.mapping import MappingSet
    from interop.fhir.terminology import Terminology
    from interop.fhir.validate import Validator
    from interop.issues import Issue


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'interop' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
