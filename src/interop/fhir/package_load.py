"""The package as one transaction a partner's FHIR server loads (装载 FHIR 包).

HAPI installs a package ``.tgz`` itself (it generates the snapshots it needs);
Medplum stores conformance resources like any other and validates a resource
whose ``meta.profile`` names one of them against that StructureDefinition's
*snapshot*, which it does not generate. :func:`load_bundle` makes the
transaction Bundle that loads every conformance resource of the package
(StructureDefinitions, CodeSystems, ValueSets, ConceptMaps, SearchParameters,
the ImplementationGuide) by ``PUT Type/id``, so loading it twice changes
nothing; with ``snapshots`` (a folder written by the vendored HL7 engine,
``tools/hl7-validator/validate --snapshot-out DIR --ig profiles``) each
StructureDefinition is taken with its snapshot (D-75).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from interop._errors import PackageError
from interop.fhir.package import Artefact, artefacts, implementation_guide, manifest, rebase

__all__ = ["load_bundle"]

MSG_NO_SNAPSHOT = "{path}: no snapshot of StructureDefinition/{id} in {folder}"


def _with_snapshot(a: Artefact, snapshots: Path) -> Artefact:
    path = snapshots / a.flat_name
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict) or not (data.get("snapshot") or {}).get("element"):
        raise PackageError(
            MSG_NO_SNAPSHOT.format(path=a.path, id=a.id, folder=snapshots), code="E340"
        )
    return Artefact(a.path, data)


def load_bundle(
    folder: Path, *, snapshots: Path | None = None, base: str | None = None
) -> dict[str, Any]:
    """A transaction Bundle that PUTs every conformance resource of the package.

    ``snapshots``: take each StructureDefinition from this folder (with its snapshot);
    ``base``: another canonical base, as ``package build --canonical-base`` (D-45)."""
    pkg = manifest(folder)
    items = [a for a in artefacts(folder) if a.type != "ImplementationGuide"]
    if snapshots is not None:
        items = [
            _with_snapshot(a, snapshots) if a.type == "StructureDefinition" else a for a in items
        ]
    if base and base.rstrip("/") != pkg["canonical"]:
        new, old = base.rstrip("/"), str(pkg["canonical"])
        items = [Artefact(a.path, rebase(a.resource, old, new)) for a in items]
        pkg = {**pkg, "canonical": new, "url": new}
    ig = implementation_guide(pkg, items)
    everything = [*items, Artefact(f"ImplementationGuide-{pkg['name']}.json", ig)]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"{pkg['canonical']}/{a.type}/{a.id}",
                "resource": a.resource,
                "request": {"method": "PUT", "url": f"{a.type}/{a.id}"},
            }
            for a in sorted(everything, key=lambda x: (_ORDER.get(x.type, 9), x.flat_name))
        ],
    }


#: Terminology before the definitions that bind to it; the guide last.
_ORDER = {
    "CodeSystem": 0,
    "ValueSet": 1,
    "ConceptMap": 2,
    "StructureDefinition": 3,
    "SearchParameter": 4,
    "ImplementationGuide": 5,
}
