"""The purpose filter (最小必要, 9.3): a full case Bundle in, the partner's Bundle out.

Deny by default: each resource is kept only when a rule of the policy names its
type (and its ``where`` holds), and of a kept resource only the elements the
rule's paths name. Narrative ``text``, ``contained``, extensions and
primitive extensions (``_x``) are elements like any other: they leave only
when named. References to resources that did not leave are removed, so the
output says nothing about what was held back except through the ``REDACTED``
label (§4.5). Resource ids are re-keyed per partner (uuid5 of partner and
archive id): the same partner sees stable ids, two partners cannot join their
extracts on ids.

Every free-text element that leaves then passes the PII guard
(:mod:`interop.privacy.freetext`) before it is labelled: with the policy's
``redact`` the spans are replaced by markers here (and the resource is
labelled ``REDACTED``); ``review`` and ``block`` findings are returned for the
disclosure to act on. A resource that leaves claims the purpose profile of its
rule in ``meta.profile`` (:mod:`interop.privacy.purpose_profiles`, D-78).

The filter works on plain dicts and never builds models: it is the hot path of
every outbound disclosure.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from interop.fhir import canonical
from interop.fhir.narrative import LANGUAGE, with_narrative
from interop.privacy.freetext import Finding, Guard, addresses_in, is_free_text, names_in
from interop.privacy.labels import Labeller, confidentiality_of
from interop.privacy.policy import CONFIDENTIALITY_ORDER, FreeTextRules, Node, Policy
from interop.privacy.purpose_profiles import profile_id

__all__ = ["Filtered", "apply_policy"]

_NS = uuid.UUID("0b6f3c4e-2f47-4d57-9a54-4f1f3c7a9d21")
_RANK = {c: i for i, c in enumerate(CONFIDENTIALITY_ORDER)}
_UUID_PREFIX = "urn:uuid:"


@dataclass(slots=True)
class Filtered:
    """The purpose-filtered Bundle and what went into it."""

    bundle: dict[str, Any]
    elements: list[str]  # policy paths that carried data, sorted
    classes: set[str]  # matrix cell classes present ("A", "C")
    kept: int  # resources that left
    dropped: int  # resources held back whole
    redacted: int  # resources that left with elements removed
    entities: list[tuple[str, str]] = field(default_factory=list)  # (type, new id)
    findings: list[Finding] = field(default_factory=list)  # personal data in free text

    def redactions(self) -> dict[str, int]:
        """Spans redacted from free text, per kind (for the AuditEvent)."""
        out: dict[str, int] = {}
        for f in self.findings:
            if f.action == "redact":
                out[f.kind] = out.get(f.kind, 0) + 1
        return out

    def held(self, action: str) -> list[Finding]:
        """Findings whose element the policy reviews (``review``) or blocks (``block``)."""
        return [f for f in self.findings if f.action == action]


class _Acc:
    __slots__ = ("labels", "profile", "redacted")

    def __init__(self, profile: str = "") -> None:
        self.labels: set[str] = set()
        self.redacted = False
        self.profile = profile  # the purpose profile the resource claims (D-78)


def _full(value: Any, acc: _Acc) -> Any:
    """Copy of an element named whole: everything but extensions and ``_x``."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k in ("extension", "modifierExtension") or k[0] == "_":
                acc.redacted = True
                continue
            c = _full(v, acc)
            if c is not None:
                out[k] = c
        return out or None
    if isinstance(value, list):
        items = [c for c in (_full(v, acc) for v in value) if c is not None]
        return items or None
    return value


def _apply(value: Any, node: Node, acc: _Acc) -> Any:
    if isinstance(value, list):
        items = []
        for v in value:
            if node.where is not None and not node.where.holds(v):
                acc.redacted = True
                continue
            c = _apply_one(v, node, acc)
            if c is not None:
                items.append(c)
        return items or None
    if node.where is not None and not node.where.holds(value):
        acc.redacted = True
        return None
    return _apply_one(value, node, acc)


def _apply_one(value: Any, node: Node, acc: _Acc) -> Any:
    if not isinstance(value, dict):
        if node.full:
            acc.labels.add(node.label)
            return value
        acc.redacted = True
        return None
    out: dict[str, Any] = {}
    for k, v in value.items():
        if k == "extension" or k == "modifierExtension":
            table = node.extensions if k == "extension" else node.modifier_extensions
            whole = node.children.get(k)
            kept = []
            for ext in v if isinstance(v, list) else ():
                url = ext.get("url") if isinstance(ext, dict) else None
                sub = table.get(url) if isinstance(url, str) else None
                if sub is None:
                    if whole is not None:
                        c = _apply_one(ext, whole, acc)
                        if c is not None:
                            kept.append(c)
                    else:
                        acc.redacted = True
                    continue
                if sub.where is not None and not sub.where.holds(ext):
                    acc.redacted = True
                    continue
                body = {kk: vv for kk, vv in ext.items() if kk != "url"}
                c = _apply_one(body, sub, acc)
                if c:
                    kept.append({"url": url, **c})
            if kept:
                out[k] = kept
            continue
        child = node.children.get(k)
        if child is not None:
            c = _apply(v, child, acc)
        elif node.full and k[0] != "_":
            c = _full(v, acc)
        else:
            acc.redacted = True
            continue
        if c is not None:
            out[k] = c
    if out and node.full:
        acc.labels.add(node.label)
    return out or None


_SD = canonical.sd("")


def _guard(
    value: Any,
    path: str,
    key: str | None,
    rules: FreeTextRules,
    guard: Guard,
    acc: _Acc,
    out: list[Finding],
) -> Any:
    """The free-text strings of one outbound element checked (and redacted) in place."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k in ("extension", "modifierExtension") and isinstance(v, list):
                for ext in v:
                    url = ext.get("url") if isinstance(ext, dict) else None
                    if isinstance(url, str):
                        name = url[len(_SD) :] if url.startswith(_SD) else url
                        _guard(ext, f"{path}.{k}({name})", k, rules, guard, acc, out)
            elif isinstance(v, str):
                if is_free_text(k, key):
                    where = f"{path}.{k}"
                    text, found = guard.check(v, where, rules.action_for(where))
                    if found:
                        out.extend(found)
                        if text is not v:
                            value[k] = text
                            acc.redacted = True
            elif k != "meta":
                _guard(v, f"{path}.{k}", k, rules, guard, acc, out)
    elif isinstance(value, list):
        for v in value:
            _guard(v, path, key, rules, guard, acc, out)
    return value


def guard_for(
    resources: list[dict[str, Any]],
    kept: list[dict[str, Any]],
    *,
    names: list[str] | None = None,
    addresses: list[str] | None = None,
) -> Guard:
    """The guard of one case: the people and addresses its resources (and record) know,
    less the names the purpose lets out in structured fields of ``kept``."""
    known_names = list(names or ())
    known_addresses = list(addresses or ())
    for res in resources:
        known_names += names_in(res)
        known_addresses += addresses_in(res)
    allowed = [n for out in kept for n in names_in(out)]
    return Guard(names=known_names, addresses=known_addresses, allowed_names=allowed)


def _rewrite_refs(value: Any, ids: dict[str, str]) -> Any:
    """References re-keyed; a reference to a resource that did not leave is removed."""
    if isinstance(value, dict):
        ref = value.get("reference")
        if isinstance(ref, str) and ref.startswith(_UUID_PREFIX):
            new = ids.get(ref[len(_UUID_PREFIX) :])
            if new is None:
                return None
            value = {**value, "reference": _UUID_PREFIX + new}
        out: dict[str, Any] = {}
        for k, v in value.items():
            c = _rewrite_refs(v, ids) if isinstance(v, dict | list) else v
            if c is not None:
                out[k] = c
        return out or None
    if isinstance(value, list):
        items = [c for c in (_rewrite_refs(v, ids) for v in value) if c is not None]
        return items or None
    return value


def apply_policy(
    full: dict[str, Any],
    policy: Policy,
    labeller: Labeller,
    *,
    partner: str,
    bundle_id: str,
    timestamp: str,
    extra: list[dict[str, Any]] | None = None,
    allow_c: bool = True,
    known_names: list[str] | None = None,
    known_addresses: list[str] | None = None,
) -> Filtered:
    """Filter the archive Bundle ``full`` (plus derived ``extra`` resources) for ``partner``.

    ``allow_c=False`` holds back the rules of matrix class C (no consent for them).
    ``known_names``/``known_addresses``: what the case record knows besides its
    FHIR resources (the guard finds them in free text).
    """
    kept: list[tuple[dict[str, Any], dict[str, Any], str, _Acc]] = []  # (src, out, conf, acc)
    labels: set[str] = set()
    classes: set[str] = set()
    dropped = 0
    ceiling = _RANK[policy.ceiling]
    resources = [e["resource"] for e in full.get("entry", ())]
    if extra:
        resources.extend(extra)
    for res in resources:
        rule = policy.rule_for(res)
        if rule is None or (rule.cls == "C" and not allow_c):
            dropped += 1
            continue
        conf = confidentiality_of(res, policy.confidentiality)
        if _RANK[conf] > ceiling:
            dropped += 1
            continue
        acc = _Acc(canonical.sd(profile_id(policy, rule)))
        out = _apply_one(
            {k: v for k, v in res.items() if k not in ("resourceType", "id")}, rule.root, acc
        )
        if not out:
            dropped += 1
            continue
        labels |= acc.labels
        classes.add(rule.cls)
        kept.append((res, out, conf, acc))
    guard = guard_for(
        resources, [out for _, out, _, _ in kept], names=known_names, addresses=known_addresses
    )
    findings: list[Finding] = []
    for src, out, _, acc in kept:
        _guard(out, src["resourceType"], None, policy.free_text, guard, acc, findings)
    ids = {src["id"]: str(uuid.uuid5(_NS, f"{partner}|{src['id']}")) for src, *_ in kept}
    entries = []
    entities: list[tuple[str, str]] = []
    redacted = 0
    for src, out, conf, acc in kept:
        body = _rewrite_refs(out, ids) or {}
        if _count_refs(out) != _count_refs(body):
            acc.redacted = True
        rtype = src["resourceType"]
        meta = body.pop("meta", None) or {}
        # The purpose profile of its rule, not the full profile: an extract holds back what
        # the programme's profiles require (a school gets no plan activities); privacy checks
        # it against what it claims (interop.privacy.rules.extract_errors, D-78).
        meta = {"profile": [acc.profile], **{k: v for k, v in meta.items() if k != "profile"}}
        meta["security"] = labeller.labels(policy, conf, redacted=acc.redacted)
        meta["tag"] = labeller.tags(policy)
        rid = ids[src["id"]]
        # The narrative is made from what leaves, never carried over from the full resource.
        resource = with_narrative({"resourceType": rtype, "id": rid, "meta": meta, **body})
        entries.append({"fullUrl": _UUID_PREFIX + rid, "resource": resource})
        entities.append((rtype, rid))
        redacted += acc.redacted
    top = max(
        (conf for _, _, conf, _ in kept), key=_RANK.__getitem__, default=policy.confidentiality
    )
    bundle = {
        "resourceType": "Bundle",
        "id": bundle_id,
        "language": LANGUAGE,  # the tag's display is Chinese
        "meta": {
            "security": labeller.labels(policy, top, redacted=bool(dropped or redacted)),
            "tag": labeller.tags(policy),
        },
        "type": "collection",
        "timestamp": timestamp,
        "entry": entries,
    }
    return Filtered(
        bundle=bundle,
        elements=sorted(labels),
        classes=classes,
        kept=len(entries),
        dropped=dropped,
        redacted=redacted,
        entities=entities,
        findings=findings,
    )


def _count_refs(value: Any) -> int:
    if isinstance(value, dict):
        return ("reference" in value) + sum(_count_refs(v) for v in value.values())
    if isinstance(value, list):
        return sum(_count_refs(v) for v in value)
    return 0
