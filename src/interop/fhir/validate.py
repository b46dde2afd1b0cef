"""The FHIR validator: base R4 structure, base required bindings, the programme's profiles.

:meth:`Validator.load` reads and compiles everything once:

- the structure of base R4 (:mod:`interop.fhir.structure`) with the required
  bindings of ``profiles/base/r4-required-bindings.json``;
- the StructureDefinitions ``profiles/StructureDefinition-*.json``
  (:mod:`interop.fhir.profiles`, whose docstring says what a profile may use),
  their invariants in FHIRPath (:mod:`interop.fhir.fhirpath`).

:meth:`Validator.validate` then checks a resource or a Bundle without file
I/O and without compiling anything. Findings are :class:`Issue` rows;
:func:`operation_outcome` turns them into a FHIR OperationOutcome.

A profile applies to a resource when the resource names it in ``meta.profile``;
otherwise when it is the only loaded profile of that resource type. Profiles of
type ``Extension`` apply to every extension with their url. A profile on
``Bundle`` may hold cross-resource invariants over ``entry.resource``; FHIRPath
``%resource`` and ``%rootResource`` are the resource being checked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from interop import resources
from interop._errors import DataFileError
from interop.fhir import fhirpath
from interop.fhir import values as jsonvalues
from interop.fhir.fhirpath import fhirpath_node
from interop.fhir.outcome import ISSUE_TYPES, operation_outcome
from interop.fhir.profile_loading import load_profiles
from interop.fhir.profile_model import Constraint, Element, Profile
from interop.fhir.structure import Structure, load_required_bindings, shown_code
from interop.fhir.terminology import Terminology
from interop.issues import Issue

__all__ = ["ISSUE_TYPES", "Issue", "Validator", "operation_outcome"]

BINDINGS_FILE = Path("base") / "r4-required-bindings.json"


_STRUCTURES: dict[tuple[str, int], Structure] = {}
_STRUCTURES_LOCK = threading.Lock()


def _structure(path: Path) -> Structure:
    """Compiled base structure with the bindings of ``path`` (cached per file version)."""
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    with _STRUCTURES_LOCK:
        found = _STRUCTURES.get(key)
        if found is None:
            found = Structure.compile(load_required_bindings(path))
            _STRUCTURES[key] = found
        return found


#: Sub-folder of the profiles with the purpose profiles (claimed only, D-78).
PURPOSES_DIR = "purposes"


class Validator:
    """Base R4 + required bindings + the programme's profiles; see :meth:`load`."""

    __slots__ = ("_by_type", "_by_url", "_extensions", "_structure", "terminology")

    def __init__(
        self,
        structure: Structure,
        profiles: list[Profile],
        terminology: Terminology | None,
        claimed_only: list[Profile] | None = None,
    ) -> None:
        self._structure = structure
        self.terminology = terminology
        # claimed_only: profiles that apply only when a resource claims them (the purpose
        # profiles of shared extracts, D-78), never implied by the resource type
        self._by_url: dict[str, Profile] = {p.url: p for p in [*profiles, *(claimed_only or ())]}
        self._by_type: dict[str, list[Profile]] = {}
        self._extensions: dict[str, Profile] = {}
        for profile in profiles:
            if profile.type == "Extension":
                self._extensions[profile.url] = profile
            else:
                self._by_type.setdefault(profile.type, []).append(profile)

    @classmethod
    def load(
        cls, profiles_dir: Path | None = None, terminology: Terminology | None = None
    ) -> Validator:
        """Read and compile the base bindings and every ``StructureDefinition-*.json``.

        ``terminology`` defaults to :meth:`Terminology.load` of
        ``<profiles_dir>/terminology`` (loaded only when a profile has a binding).
        Raises :class:`~interop._errors.DataFileError` naming the file and the
        entry when a profile is malformed: an unknown element path, an unknown
        ValueSet, FHIRPath that does not compile, an unsupported feature.
        """
        directory = profiles_dir if profiles_dir is not None else resources.profiles_dir()
        bindings = directory / BINDINGS_FILE
        if not bindings.is_file():
            bindings = resources.profiles_dir() / BINDINGS_FILE
        if not bindings.is_file():
            raise DataFileError(
                str(BINDINGS_FILE), "(file)", "the base R4 bindings file is missing"
            )
        structure = _structure(bindings)

        loaded: list[Terminology] = [terminology] if terminology is not None else []

        def get_terminology() -> Terminology:
            if not loaded:
                folder = directory / "terminology"
                loaded.append(Terminology.load(folder if folder.is_dir() else None))
            return loaded[0]

        profiles = load_profiles(directory, get_terminology)
        purposes = directory / PURPOSES_DIR
        claimed = load_profiles(purposes, get_terminology) if purposes.is_dir() else []
        fhirpath.flush()
        return cls(structure, profiles, loaded[0] if loaded else None, claimed)

    @property
    def profile_urls(self) -> list[str]:
        return sorted(self._by_url)

    # -- validation ----------------------------------------------------------

    def validate(self, resource: dict[str, Any], *, implied: bool = True) -> list[Issue]:
        """Every issue of a resource or a Bundle (entries checked each, paths prefixed).

        ``implied=False`` checks only the profiles a resource claims in
        ``meta.profile`` (not the sole profile of its type): purpose-filtered
        outbound resources are not archive resources (:mod:`interop.privacy`).
        """
        out: list[Issue] = []
        rtype = self._structure.check_resource(resource, None, out)
        if rtype is not None:
            self._profiles_of(resource, rtype, rtype, out, implied)
        return out

    def _profiles_of(
        self,
        resource: dict[str, Any],
        rtype: str,
        path: str,
        out: list[Issue],
        implied: bool = True,
    ) -> None:
        for profile in self._select(resource, rtype, path, out, implied):
            for step in (*profile.chain, profile):
                self._apply(step, resource, path, out)
        if self._extensions:
            for ext, ext_path in _extensions(resource, path):
                url = ext.get("url")
                ext_profile = self._extensions.get(url) if isinstance(url, str) else None
                if ext_profile is not None:
                    for step in (*ext_profile.chain, ext_profile):
                        _Run(self, step, resource, out).element(step.root, ext, ext_path)
        if rtype == "Bundle":
            entries = resource.get("entry")
            for i, entry in enumerate(entries if isinstance(entries, list) else []):
                inner = entry.get("resource") if isinstance(entry, dict) else None
                if isinstance(inner, dict):
                    itype = inner.get("resourceType")
                    if isinstance(itype, str) and self._structure.resource_info(itype) is not None:
                        self._profiles_of(
                            inner,
                            itype,
                            f"{path}.entry[{i}].resource.ofType({itype})",
                            out,
                            implied,
                        )

    def _select(
        self,
        resource: dict[str, Any],
        rtype: str,
        path: str,
        out: list[Issue],
        implied: bool = True,
    ) -> list[Profile]:
        meta = resource.get("meta")
        claimed = meta.get("profile") if isinstance(meta, dict) else None
        chosen: list[Profile] = []
        if isinstance(claimed, list):
            for i, url in enumerate(claimed):
                if not isinstance(url, str):
                    continue
                profile = self._by_url.get(url.split("|", 1)[0])
                if profile is None:
                    out.append(
                        Issue(
                            "warning",
                            f"{path}.meta.profile[{i}]",
                            f"profile {url} is not known; the resource is not checked against it",
                            "profile",
                        )
                    )
                elif profile.type != rtype:
                    out.append(
                        Issue(
                            "error",
                            f"{path}.meta.profile[{i}]",
                            f"profile {url} is for {profile.type}, not {rtype}",
                            "profile",
                        )
                    )
                elif profile not in chosen:
                    chosen.append(profile)
        if not chosen and implied:
            candidates = self._by_type.get(rtype, [])
            if len(candidates) == 1:
                chosen.append(candidates[0])
        return chosen

    def _apply(
        self, profile: Profile, resource: dict[str, Any], path: str, out: list[Issue]
    ) -> None:
        _Run(self, profile, resource, out).element(profile.root, resource, path)


class _Run:
    """Applies one profile to one resource."""

    __slots__ = ("env", "out", "profile", "terminology")

    def __init__(
        self, validator: Validator, profile: Profile, resource: dict[str, Any], out: list[Issue]
    ) -> None:
        self.profile = profile
        self.out = out
        self.terminology = validator.terminology
        self.env = {
            "resource": resource,
            "rootResource": resource,
            "sct": "http://snomed.info/sct",
            "loinc": "http://loinc.org",
        }

    def issue(
        self, severity: str, path: str, message: str, code: str, requirement: str | None = None
    ) -> None:
        self.out.append(
            Issue(severity, path, f"{message} (profile {self.profile.name})", code, requirement)
        )

    def element(self, node: Element, value: Any, path: str) -> None:
        """Rules of ``node`` on one value at ``path``, then its children."""
        if node.fixed is not None:
            kind, expected = node.fixed
            ok = (
                jsonvalues.equal(value, expected)
                if kind == "fixed"
                else jsonvalues.matches(value, expected)
            )
            if not ok:
                self.issue(
                    "error",
                    path,
                    f"{node.id} does not match the {kind} value{jsonvalues.shown_fixed(expected)}",
                    kind,
                    node.requirement,
                )
        if node.binding is not None:
            self.binding(node, value, path)
        for constraint in node.constraints:
            self.invariant(node, constraint, value, path)
        if not node.children:
            return
        if node.prim:
            return  # children of a primitive are checked through its "_name" element
        if not isinstance(value, dict):
            return
        for child in node.children.values():
            self.child(child, value, path)

    def child(self, node: Element, parent: dict[str, Any], path: str) -> None:
        values = list(_child_values(node, parent, path))
        if node.allowed is not None:
            for key, _, where in values:
                if key not in node.allowed:
                    self.issue(
                        "error",
                        where,
                        f"{key} is not allowed here; {node.id} allows "
                        + ", ".join(sorted(node.allowed)),
                        "structure",
                        node.requirement,
                    )
        self.cardinality(node, len(values), path)
        if node.slices:
            assigned: dict[str, list[tuple[Any, str]]] = {name: [] for name in node.slices}
            for _, item, where in values:
                for name, sliced in node.slices.items():
                    if sliced.match is not None and sliced.match(item):
                        assigned[name].append((item, where))
                        break
                else:
                    if node.closed:
                        self.issue(
                            "error",
                            where,
                            f"{node.id} is closed; this item matches none of its slices",
                            "cardinality",
                            node.requirement,
                        )
            for name, sliced in node.slices.items():
                self.cardinality(sliced, len(assigned[name]), path, f"{node.id}:{name}")
                for item, where in assigned[name]:
                    self.element(sliced, item, where)
        for _, item, where in values:
            self.element(node, item, where)
        if node.prim and node.children:
            # children of a primitive (extension, id) live in its "_name" sibling
            for name in node.names:
                ext = parent.get("_" + name)
                items = ext if isinstance(ext, list) else [ext]
                for i, item in enumerate(items):
                    if isinstance(item, dict):
                        where = f"{path}._{name}" + (f"[{i}]" if isinstance(ext, list) else "")
                        for child in node.children.values():
                            self.child(child, item, where)

    def cardinality(self, node: Element, count: int, path: str, label: str | None = None) -> None:
        label = label or node.id
        where = f"{path}.{node.choice_group + '[x]' if node.choice_group else node.names[0]}"
        if node.min is not None and count < node.min:
            self.issue(
                "error",
                where,
                f"{label}: at least {node.min} required, found {count}",
                "required" if count == 0 else "cardinality",
                node.requirement,
            )
        if node.max is not None and count > node.max:
            self.issue(
                "error",
                where,
                f"{label}: at most {node.max} allowed, found {count}"
                if node.max
                else f"{label} is not allowed (max 0)",
                "cardinality",
                node.requirement,
            )

    def binding(self, node: Element, value: Any, path: str) -> None:
        assert node.binding is not None and self.terminology is not None
        strength, url = node.binding
        found = jsonvalues.codings(value)
        if not found:
            if strength == "required" and isinstance(value, dict):
                self.issue(
                    "error", path, f"needs a code from ValueSet {url}", "binding", node.requirement
                )
            return
        if any(self.terminology.in_valueset(url, system, code) for system, code in found):
            return
        shown = ", ".join(shown_code(code) for _, code in found[:3])
        self.issue(
            "error" if strength == "required" else "warning",
            path,
            f"code {shown} is not in ValueSet {url} ({strength} binding)",
            "binding",
            node.requirement,
        )

    def invariant(self, node: Element, constraint: Constraint, value: Any, path: str) -> None:
        if isinstance(value, dict) and "resourceType" in value:
            context = value
        else:
            context = fhirpath_node(value, node.info.name if node.info else None)
        try:
            result = constraint.run(context, self.env)
        except Exception:
            self.issue(
                constraint.severity,
                path,
                f"invariant {constraint.key} could not be evaluated",
                "invariant",
                constraint.requirement,
            )
            return
        if result == [True]:
            return
        if any(isinstance(x, dict) and x.get("$status") == "error" for x in result):
            # fhirpathpy returns some run-time errors (single() on many) as a value
            self.issue(
                constraint.severity,
                path,
                f"invariant {constraint.key} could not be evaluated",
                "invariant",
                constraint.requirement,
            )
            return
        self.issue(
            constraint.severity,
            path,
            f"{constraint.human} [{constraint.key}]",
            "invariant",
            constraint.requirement,
        )


def _child_values(
    node: Element, parent: dict[str, Any], path: str
) -> Iterator[tuple[str, Any, str]]:
    """(JSON name, value, path) of every value of ``node`` in ``parent``."""
    for name in node.names:
        value = parent.get(name)
        if value is None:
            if node.prim and ("_" + name) in parent:
                ext = parent["_" + name]
                # a primitive given only by its extension still counts
                if isinstance(ext, list):
                    for i, item in enumerate(ext):
                        if item is not None:
                            yield name, None, f"{path}.{name}[{i}]"
                else:
                    yield name, None, f"{path}.{name}"
            continue
        if isinstance(value, list):
            for i, item in enumerate(value):
                if item is not None:
                    yield name, item, f"{path}.{name}[{i}]"
        else:
            yield name, value, f"{path}.{name}"


def _extensions(resource: dict[str, Any], path: str) -> Iterator[tuple[dict[str, Any], str]]:
    """Every extension item of a resource (contained resources included, other
    nested resources such as Bundle entries not: they are checked on their own)."""
    stack: list[tuple[Any, str]] = [(resource, path)]
    while stack:
        obj, where = stack.pop()
        if isinstance(obj, dict):
            for key, value in obj.items():
                if isinstance(value, dict):
                    if "resourceType" in value:
                        continue
                    stack.append((value, f"{where}.{key}"))
                elif isinstance(value, list):
                    for i, item in enumerate(value):
                        if not isinstance(item, dict):
                            continue
                        here = f"{where}.{key}[{i}]"
                        if key in ("extension", "modifierExtension"):
                            yield item, here
                        if "resourceType" in item:
                            if key == "contained" and isinstance(item["resourceType"], str):
                                stack.append((item, f"{here}.ofType({item['resourceType']})"))
                            continue
                        stack.append((item, here))
