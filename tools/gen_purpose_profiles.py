"""Write the purpose profiles (``profiles/purposes/``) from the purpose policies (D-78).

One StructureDefinition per rule of each policy of ``mappings/purposes/``
(``dc-share-<policy>-<type>[-n]``, :mod:`interop.privacy.purpose_profiles`):

- every top-level element the rule does not let out: ``max 0`` (what the
  filter always writes — ``id``, ``meta``, ``language``, ``text`` — excepted);
  ``extension`` a closed slicing of the extensions it lets out (or ``max 0``);
- from the base profile (the one a ``where`` on ``meta.profile`` names, else the
  only profile of the type): the elements under what the rule lets out, with
  their minimums, bindings, fixed values and types — minus the minimums of
  elements the rule filters item by item; never the invariants.

``python tools/gen_purpose_profiles.py`` after changing a policy or a profile,
then ``interop package index`` and ``interop package doc``; a test keeps the
files equal to this script's output.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from interop.fhir import canonical
from interop.fhir.shapes import type_info
from interop.privacy.policy import Node, Policy, ResourceRule, load_policies
from interop.privacy.purpose_profiles import profile_ids

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "profiles" / "purposes"
#: Elements the filter writes itself on every resource that leaves.
_ALWAYS = frozenset({"id", "meta", "language", "text"})
_CORE = "http://hl7.org/fhir/StructureDefinition/"


def _top_elements(rtype: str) -> list[str]:
    """The resource's top-level element names in R4 order, choices as ``name[x]``."""
    info = type_info(rtype)
    member_of = {m: g for g, ms in (info.choices or {}).items() for m in ms}
    out: list[str] = []
    for name in get_fhir_model_class(rtype).elements_sequence():
        name = f"{member_of[name]}[x]" if name in member_of else name
        if name not in out:
            out.append(name)
    return out


def _allowed(rule: ResourceRule) -> tuple[dict[str, Node], dict[str, Node]]:
    """Top-level element name → node, and extension url → node, the rule lets out."""
    info = type_info(rule.type)
    member_of = {m: g for g, ms in (info.choices or {}).items() for m in ms}
    top: dict[str, Node] = {}
    for name, node in rule.root.children.items():
        top[f"{member_of[name]}[x]" if name in member_of else name] = node
    return top, dict(rule.root.extensions)


def _base_profile(rule: ResourceRule, profiles: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    if rule.where is not None and rule.where.path == ("meta", "profile"):
        named = [profiles[u] for u in sorted(rule.where.values) if u in profiles]
        return named[0] if len(named) == 1 else None
    of_type = [sd for sd in profiles.values() if sd["type"] == rule.type]
    return of_type[0] if len(of_type) == 1 else None


def _ext_url(element: dict[str, Any], slices: dict[str, str]) -> str | None:
    name = element["id"].split(".")[1].partition(":")[2]
    return slices.get(name)


def _elements(rule: ResourceRule, base: dict[str, Any] | None) -> list[dict[str, Any]]:
    rtype = rule.type
    top, exts = _allowed(rule)
    base_elements = (base or {}).get("differential", {}).get("element", [])
    # slice name → extension url of the base profile's extension slices
    slices: dict[str, str] = {}
    for el in base_elements:
        parts = el["id"].split(".")
        if len(parts) == 2 and parts[1].startswith("extension:"):
            url = next((p for t in el.get("type", []) for p in t.get("profile", [])), None)
            if url:
                slices[parts[1].partition(":")[2]] = url
    by_top: dict[str, list[dict[str, Any]]] = {}
    for el in base_elements:
        parts = el["id"].split(".")
        if len(parts) < 2:
            continue
        name = parts[1].partition(":")[0]
        if name == "extension":
            if parts[1] == "extension" or _ext_url(el, slices) in exts:
                by_top.setdefault(name, []).append(el)
            continue
        node = top.get(name)
        if node is None:
            continue
        kept = {k: copy.deepcopy(v) for k, v in el.items() if k != "constraint"}
        if node.where is not None:
            kept.pop("min", None)  # items are filtered: the purpose may leave none
        if len(kept) > 2:  # more than id and path
            by_top.setdefault(name, []).append(kept)
    out: list[dict[str, Any]] = [{"id": rtype, "path": rtype}]
    for name in _top_elements(rtype):
        eid = f"{rtype}.{name}"
        if name in _ALWAYS:
            continue
        if name == "extension":
            out.extend(_extension_elements(rtype, exts, slices, by_top.get(name, [])))
            continue
        if name in top:
            out.extend(by_top.get(name, []))
            continue
        required = {n for n, _ in type_info(rtype).required}
        if name not in required:
            out.append({"id": eid, "path": eid, "max": "0"})
    return out


def _extension_elements(
    rtype: str, exts: dict[str, Node], slices: dict[str, str], base: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    eid = f"{rtype}.extension"
    if not exts:
        return [{"id": eid, "path": eid, "max": "0"}]
    out: list[dict[str, Any]] = [
        {
            "id": eid,
            "path": eid,
            "slicing": {"discriminator": [{"type": "value", "path": "url"}], "rules": "closed"},
        }
    ]
    named = {url: name for name, url in slices.items()}
    for url in sorted(exts, key=lambda u: u.rsplit("/", 1)[-1]):
        name = named.get(url)
        if name is not None:
            out.extend(
                copy.deepcopy(e) for e in base if e["id"].split(".")[1] == f"extension:{name}"
            )
            continue
        name = url.rsplit("/", 1)[-1]
        out.append(
            {
                "id": f"{eid}:{name}",
                "path": eid,
                "sliceName": name,
                "min": 0,
                "max": _extension_max(url),  # no more than its definition allows
                "type": [{"code": "Extension", "profile": [url]}],
            }
        )
    return out


def _extension_max(url: str) -> str:
    """The maximum cardinality the extension's own definition states (``*`` if none)."""
    path = ROOT / "profiles" / "extensions" / f"StructureDefinition-{url.rsplit('/', 1)[-1]}.json"
    if not url.startswith(canonical.BASE + "/") or not path.is_file():
        return "*"
    root = json.loads(path.read_text("utf-8"))["differential"]["element"][0]
    return str(root.get("max", "*"))


def purpose_profile(
    policy: Policy, rule: ResourceRule, pid: str, profiles: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    base = _base_profile(rule, profiles)
    stem = policy.file.removesuffix(".json")
    of = f" (of {base['id']})" if base else ""
    return {
        "resourceType": "StructureDefinition",
        "id": pid,
        "language": "zh-CN",
        "url": canonical.sd(pid),
        "version": "0.1.0",
        "name": "".join(p.capitalize() for p in pid.split("-")),
        "title": f"{policy.title.split(' — ')[0]}：{rule.type} ({stem})",
        "status": "active",
        "date": "2026-12-07",
        "publisher": "interop project (DB36/T 2143-2025 adapter)",
        "description": (
            f"What the purpose policy {policy.file} (purpose {policy.purpose}) lets out of a "
            f"{rule.type}{of}: every other element is forbidden; the minimums, bindings and "
            "fixed values of what it lets out are kept, the invariants are checked on the "
            "case (requirements §4.6, 9.3, D-78)."
        ),
        "fhirVersion": "4.0.1",
        "kind": "resource",
        "abstract": False,
        "type": rule.type,
        "baseDefinition": _CORE + rule.type,
        "derivation": "constraint",
        "differential": {"element": _elements(rule, base)},
    }


def purpose_profiles(root: Path = ROOT) -> dict[str, dict[str, Any]]:
    """File name → StructureDefinition of every purpose profile."""
    profiles = {}
    for path in sorted((root / "profiles").glob("StructureDefinition-dc-*.json")):
        sd = json.loads(path.read_text("utf-8"))
        profiles[sd["url"]] = sd
    out: dict[str, dict[str, Any]] = {}
    for policy in load_policies().policies:
        for rule, pid in profile_ids(policy):
            out[f"StructureDefinition-{pid}.json"] = purpose_profile(policy, rule, pid, profiles)
    return out


def main() -> None:
    OUT.mkdir(exist_ok=True)
    wanted = purpose_profiles()
    for stale in OUT.glob("StructureDefinition-*.json"):
        if stale.name not in wanted:
            stale.unlink()
    for name, sd in wanted.items():
        (OUT / name).write_text(json.dumps(sd, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"wrote {len(wanted)} purpose profiles to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
