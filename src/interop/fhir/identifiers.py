"""Identifiers on FHIR resources: the resident ID number and case numbers.

On output the resident ID uses ``urn:oid:2.16.156.10011.1.3``; on input the
HL7 China connectathon system ``urn:oid:2.16.840.1.113883.2.23.1.19.1`` is
accepted as the same identifier (D-2 in docs/decisions.md).
"""

from __future__ import annotations

from typing import Any

from interop.core.resident_id import SYSTEM, SYSTEMS


def resident_id_of(resource: dict[str, Any]) -> str | None:
    """The resident ID number of a Patient (or RelatedPerson), from either system."""
    for ident in resource.get("identifier") or ():
        if ident.get("system") in SYSTEMS and ident.get("value"):
            value: str = ident["value"]
            return value.strip().upper()
    return None


def normalise_resident_id(resource: dict[str, Any]) -> dict[str, Any]:
    """A copy whose resident-ID identifiers all use the output system."""
    idents = resource.get("identifier")
    if not idents:
        return resource
    fixed = [{**i, "system": SYSTEM} if i.get("system") in SYSTEMS else i for i in idents]
    return {**resource, "identifier": fixed}
