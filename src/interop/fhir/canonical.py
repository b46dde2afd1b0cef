"""Canonical URLs of the programme's FHIR artefacts (one place)."""

from __future__ import annotations

#: Canonical base of the programme's profiles, extensions and code systems.
BASE = "https://fhir.jxdcmh.cn"


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
