"""Canonical URLs of the programme's FHIR artefacts (规范基址, one place).

Everything inside interop — mappings, profiles, policies, checks — speaks the
default base :data:`BASE`. A province that hosts its own base (D-45, D-77) sets
``canonical_base`` in the settings: what is *emitted* (a mapped Bundle, a share,
a referral transaction) is moved under it as the last step by :func:`rebase`, the
same move ``interop package build --canonical-base`` makes on the package.
"""

from __future__ import annotations

from typing import Any

#: Canonical base of the programme's profiles, extensions and code systems.
BASE = "https://fhir.jxdcmh.cn"


def rebase(value: Any, old: str, new: str) -> Any:
    """``value`` with every string under ``old`` (a canonical base) moved under ``new``."""
    if isinstance(value, str):
        # URLs, and URLs inside FHIRPath, conditional-create queries and descriptions
        return new if value == old else value.replace(old + "/", new + "/")
    if isinstance(value, list):
        return [rebase(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: rebase(v, old, new) for k, v in value.items()}
    return value


def emitted(value: Any, base: str | None) -> Any:
    """``value`` as it leaves: under ``base`` when one is configured, else unchanged."""
    if not base or base.rstrip("/") == BASE:
        return value
    return rebase(value, BASE, base.rstrip("/"))


def internal(value: Any, base: str | None) -> Any:
    """The inverse of :func:`emitted`: what was emitted under ``base``, back under ours."""
    if not base or base.rstrip("/") == BASE:
        return value
    return rebase(value, base.rstrip("/"), BASE)


def cs(name: str) -> str:
    """URL of a local CodeSystem (``cs:`` in the requirements)."""
    return f"{BASE}/CodeSystem/{name}"


def vs(name: str) -> str:
    return f"{BASE}/ValueSet/{name}"


def sd(name: str) -> str:
    """URL of a profile or extension (``ext:`` in the requirements)."""
    return f"{BASE}/StructureDefinition/{name}"


#: Default namespace of case numbers (个案编号, A-25); configurable per organisation.
DEFAULT_CASE_NUMBER_SYSTEM = f"{BASE}/NamingSystem/case-number"


def case_number_system(org_code: str | None = None) -> str:
    """Identifier system of case numbers, under an organisation namespace
    (``org_code`` from ``--org-code`` or the settings)."""
    code = org_code
    if code:
        return f"{BASE}/NamingSystem/case-number/{code}"
    return DEFAULT_CASE_NUMBER_SYSTEM
