"""The programme's profiles as a FHIR NPM package (FHIR 包, ``profiles/``).

``profiles/`` is the package's source folder: ``package.json`` (name, version,
``fhirVersions``, the dependency on ``hl7.fhir.r4.core``), ``.index.json``, the
profiles, ``extensions/``, ``terminology/`` (CodeSystems, ValueSets,
ConceptMaps), ``search/`` (SearchParameters) and the ImplementationGuide
resource. ``base/`` holds data of our own validator, not FHIR resources, and is
not part of the package.

:func:`build` writes the ``.tgz`` a partner loads (HAPI, Medplum, the HL7
validator): every resource flat under ``package/``, as FHIR packages are laid
out; with another canonical base (a province that hosts its own, D-45) every
URL under ours is rewritten. :func:`check` validates the package itself.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interop._errors import DataFileError, RuleViolation
from interop._errors import PackageError as PackageError
from interop.fhir import canonical
from interop.fhir.canonical import rebase

__all__ = [
    "Artefact",
    "PackageError",
    "artefacts",
    "build",
    "check",
    "implementation_guide",
    "index",
    "manifest",
    "rebase",
    "write_index",
]

FHIR_VERSION = "4.0.1"
CORE = "hl7.fhir.r4.core"
INDEX = ".index.json"
MANIFEST = "package.json"
#: Sub-folders of profiles/ that hold no FHIR resources of the package.
_NOT_PACKAGED = frozenset({"base"})
#: Resource types that carry a canonical ``url``.
_CANONICAL_TYPES = frozenset(
    {
        "StructureDefinition",
        "CodeSystem",
        "ValueSet",
        "ConceptMap",
        "SearchParameter",
        "ImplementationGuide",
        "NamingSystem",
    }
)

# Operator-facing messages (one place, for the message catalogue).
MSG_MANIFEST = "package.json is missing or not a JSON object"
MSG_NOT_JSON = "is not a JSON FHIR resource"
MSG_STALE = "is not current: run `interop package index`"


@dataclass(frozen=True, slots=True)
class Artefact:
    """One resource of the package: where it is (relative to profiles/) and what it is."""

    path: str
    resource: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.resource.get("resourceType", ""))

    @property
    def id(self) -> str:
        return str(self.resource.get("id", ""))

    @property
    def flat_name(self) -> str:
        """File name inside the ``.tgz`` (``package/<Type>-<id>.json``)."""
        return f"{self.type}-{self.id}.json"


def manifest(folder: Path) -> dict[str, Any]:
    """The package's ``package.json``."""
    try:
        data = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        raise PackageError(f"{folder.name}/{MANIFEST}: {MSG_MANIFEST}", code="E331") from None
    if not isinstance(data, dict):
        raise PackageError(f"{folder.name}/{MANIFEST}: {MSG_MANIFEST}", code="E331")
    return data


def artefacts(folder: Path) -> list[Artefact]:
    """Every FHIR resource of the package, sorted by path (``.index.json`` and
    ``package.json`` excluded, ``base/`` excluded)."""
    out: list[Artefact] = []
    for path in sorted(folder.rglob("*.json")):
        rel = path.relative_to(folder)
        if rel.parts[0] in _NOT_PACKAGED or path.name in (INDEX, MANIFEST):
            continue
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            raise DataFileError(rel.as_posix(), "(file)", MSG_NOT_JSON, code="E332") from None
        if not isinstance(data, dict) or "resourceType" not in data:
            raise DataFileError(rel.as_posix(), "(file)", MSG_NOT_JSON, code="E332")
        out.append(Artefact(rel.as_posix(), data))
    return out


def index(items: Iterable[Artefact]) -> dict[str, Any]:
    """The ``.index.json`` of the package (index-version 1, flat file names)."""
    files = []
    for a in sorted(items, key=lambda x: x.flat_name):
        r = a.resource
        entry: dict[str, Any] = {"filename": a.flat_name, "resourceType": a.type, "id": a.id}
        for key in ("url", "version", "kind", "type"):
            if isinstance(r.get(key), str):
                entry[key] = r[key]
        if a.type == "SearchParameter":
            entry.pop("type", None)
        files.append(entry)
    return {"index-version": 1, "files": files}


def implementation_guide(pkg: dict[str, Any], items: Iterable[Artefact]) -> dict[str, Any]:
    """The ImplementationGuide resource that lists every artefact of the package."""
    name = str(pkg["name"])
    resources = []
    for a in sorted(items, key=lambda x: x.flat_name):
        if a.type == "ImplementationGuide":
            continue
        res: dict[str, Any] = {"reference": {"reference": f"{a.type}/{a.id}"}}
        title = a.resource.get("title") or a.resource.get("name")
        if isinstance(title, str):
            res["name"] = title
        res["exampleBoolean"] = False
        resources.append(res)
    return {
        "resourceType": "ImplementationGuide",
        "id": name,
        "language": "zh-CN",
        "url": f"{pkg['canonical']}/ImplementationGuide/{name}",
        "version": pkg["version"],
        "name": "DB36T2143",
        "title": pkg["title"],
        "status": "active",
        "experimental": False,
        "publisher": pkg["author"],
        "description": pkg["description"],
        "jurisdiction": [{"coding": [{"system": "urn:iso:std:iso:3166", "code": "CN"}]}],
        "packageId": name,
        "license": pkg["license"],
        "fhirVersion": [FHIR_VERSION],
        "dependsOn": [
            {
                "id": "hl7_fhir_r4_core",
                "uri": "http://hl7.org/fhir/ImplementationGuide/hl7.fhir.r4.core",
                "packageId": CORE,
                "version": FHIR_VERSION,
            }
        ],
        "definition": {"resource": resources},
    }


def _ig_path(folder: Path, pkg: dict[str, Any]) -> Path:
    return folder / f"ImplementationGuide-{pkg['name']}.json"


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def write_index(folder: Path) -> list[Path]:
    """Rewrite the ImplementationGuide and ``.index.json`` of ``folder`` from its artefacts."""
    pkg = manifest(folder)
    ig_path = _ig_path(folder, pkg)
    items = [a for a in artefacts(folder) if a.type != "ImplementationGuide"]
    ig = implementation_guide(pkg, items)
    ig_path.write_text(_dump(ig), "utf-8")
    (folder / INDEX).write_text(_dump(index([*items, Artefact(ig_path.name, ig)])), "utf-8")
    return [ig_path, folder / INDEX]


def _add(tar: tarfile.TarFile, name: str, data: Any) -> None:
    raw = _dump(data).encode("utf-8")
    info = tarfile.TarInfo(f"package/{name}")
    info.size = len(raw)
    info.mtime = 0  # reproducible: the same package gives the same bytes
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(raw))


def build(folder: Path, out: Path, *, base: str | None = None) -> dict[str, Any]:
    """Write the package ``.tgz`` to ``out``; its ``package.json`` (as written).

    ``base``: another canonical base for every URL under ours (D-45).
    """
    pkg = manifest(folder)
    items = [a for a in artefacts(folder) if a.type != "ImplementationGuide"]
    if base and base.rstrip("/") != pkg["canonical"]:
        new = base.rstrip("/")
        old = str(pkg["canonical"])
        items = [Artefact(a.path, rebase(a.resource, old, new)) for a in items]
        pkg = {**pkg, "canonical": new, "url": new}
    ig = implementation_guide(pkg, items)
    everything = [*items, Artefact(f"ImplementationGuide-{pkg['name']}.json", ig)]
    out.parent.mkdir(parents=True, exist_ok=True)
    with (
        out.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar,
    ):
        _add(tar, MANIFEST, pkg)
        _add(tar, INDEX, index(everything))
        for a in sorted(everything, key=lambda x: x.flat_name):
            _add(tar, a.flat_name, a.resource)
    return pkg


def _walk_strings(value: Any, key: str = "") -> Iterable[tuple[str, str]]:
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, list):
        for v in value:
            yield from _walk_strings(v, key)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _walk_strings(v, k)


def check(folder: Path, extension_names: Iterable[str] = ()) -> list[str]:
    """Problems of the package in ``folder`` (empty when it is sound).

    Checked: the manifest (name, version, ``fhirVersions``, the core dependency,
    the canonical base); each artefact's id, URL (under the base, ``Type/id``),
    file name, uniqueness; every canonical under our base that an artefact
    names resolves to an artefact; ``extension_names`` (the extensions the
    mappings use) each have a StructureDefinition; the ImplementationGuide and
    ``.index.json`` are current.
    """
    problems: list[str] = []
    pkg = manifest(folder)
    base = canonical.BASE
    for key in ("name", "version", "canonical", "title", "description", "author", "license"):
        if not isinstance(pkg.get(key), str) or not pkg[key]:
            problems.append(f"{MANIFEST}: '{key}' is missing")
    if pkg.get("fhirVersions") != [FHIR_VERSION]:
        problems.append(f'{MANIFEST}: fhirVersions must be ["{FHIR_VERSION}"]')
    if (pkg.get("dependencies") or {}).get(CORE) != FHIR_VERSION:
        problems.append(f"{MANIFEST}: must depend on {CORE} {FHIR_VERSION}")
    if pkg.get("canonical") != base:
        problems.append(f"{MANIFEST}: canonical is not the programme's base {base}")
    if problems:
        return problems
    items = artefacts(folder)
    urls: dict[str, str] = {}
    keys: set[tuple[str, str]] = set()
    for a in items:
        where = a.path
        if not a.id:
            problems.append(f"{where}: no id")
            continue
        if (a.type, a.id) in keys:
            problems.append(f"{where}: {a.type}/{a.id} is defined twice")
        keys.add((a.type, a.id))
        if Path(a.path).name != a.flat_name:
            problems.append(f"{where}: the file should be named {a.flat_name}")
        if a.type in _CANONICAL_TYPES:
            url = str(a.resource.get("url"))
            expected = f"{base}/{a.type}/{a.id}"
            national = a.type == "CodeSystem" and url.startswith("urn:oid:")
            if url != expected and not national:  # GB code systems keep their OID
                problems.append(f"{where}: url {url!r} should be {expected}")
            elif url in urls:
                problems.append(f"{where}: url {url} is also used by {urls[url]}")
            else:
                urls[url] = where
        if a.resource.get("language") != "zh-CN":
            problems.append(f"{where}: language should be zh-CN")
    for a in items:
        for key, value in _walk_strings(a.resource):
            if key in ("url", "fixedUri", "system", "source", "target", "reference"):
                continue  # own urls; fixed urls are checked through the profile type
            if value.startswith(base + "/") and value.split("|")[0] not in urls:
                kind = value[len(base) + 1 :].split("/")[0]
                if kind in _CANONICAL_TYPES:
                    problems.append(f"{a.path}: {key} names {value}, which the package lacks")
    for name in extension_names:
        if canonical.sd(name) not in urls:
            problems.append(f"the mappings use extension '{name}', which has no definition")
    ig_path = _ig_path(folder, pkg)
    rest = [a for a in items if a.type != "ImplementationGuide"]
    ig = implementation_guide(pkg, rest)
    try:
        current_ig = json.loads(ig_path.read_text("utf-8"))
    except (OSError, ValueError):
        current_ig = None
    if current_ig != ig:
        problems.append(f"{ig_path.name} {MSG_STALE}")
    try:
        current_index = json.loads((folder / INDEX).read_text("utf-8"))
    except (OSError, ValueError):
        current_index = None
    if current_index != index([*rest, Artefact(ig_path.name, ig)]):
        problems.append(f"{INDEX} {MSG_STALE}")
    return problems


def require_sound(folder: Path, extension_names: Iterable[str] = ()) -> None:
    """:class:`RuleViolation` (E333) naming the first problems, when :func:`check` finds any."""
    problems = check(folder, extension_names)
    if problems:
        shown = "; ".join(problems[:5]) + (
            f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        )
        raise RuleViolation(f"the FHIR package is not sound: {shown}", code="E333")


def used_extensions(mapping_folder: Path) -> list[str]:
    """Names of the extensions (``sd:…`` other than profiles) the FHIR mappings use."""
    names: set[str] = set()
    for path in sorted(mapping_folder.glob("*.json")):
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            raise DataFileError(path.name, "(file)", "is not JSON", code="E332") from None
        for _, value in _walk_strings(data):
            if value.startswith("sd:") and not value.startswith("sd:dc-"):
                names.add(value[3:])
    return sorted(names)
