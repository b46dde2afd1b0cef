"""Purpose policies (目的限定, 9.3): what may leave, per purpose and partner kind, as data.

One JSON file per policy in ``mappings/purposes/``::

    {
      "purpose": "school-support",            # a code of cs:purpose (Appendix A)
      "version": "2025.1",
      "partner_kinds": ["school"],
      "consent": {"topic": "school-contact", "child_assent": true},   # or null
      "consent_for_c": {"topic": "…"},        # optional: C-class rules need this one too
      "review": {"mode": "pre-approved", "approved_on": "2025-10-01",
                 "valid_until": "2026-12-31"},   # | per-disclosure | post-hoc (G-12)
      "break_glass": false,                   # true: needs a reason, skips consent (4.7)
      "confidentiality": "R", "ceiling": "R", # label given / highest label let out (§4.5)
      "obligations": ["NORDSCLCD"],           # HL7 v3 ActCode obligations for the receiver
      "free_text": {"default": "redact",      # the PII guard (freetext.py): redact | review | block
                    "elements": {"CarePlan.extension(reenrolment-support)": "redact"}},
      "safety_flags": {"guardian-restricted": "flag"},   # flag | label | block (safety.py)
      "resources": [
        {"type": "Patient", "rows": [1, 11], "class": "A",
         "where": {"path": "…", "in": […]},   # optional: which resources of the type
         "elements": ["Patient.name", "Patient.extension(school-enrolment).extension(stage)",
                      {"path": "Patient.extension(difficulty-category)",
                       "where": {"path": "valueCoding.code", "in": ["disability-rehab"]}}]}
      ]
    }

Deny by default: a resource type no rule names, and an element no path names,
never leaves. A path names an element and everything under it *except*
extensions, ``modifierExtension``, ``contained``, narrative ``text`` and
primitive extensions (``_x``), which leave only when named themselves.
``extension(name)`` selects extensions by URL (a bare name means the
programme's ``StructureDefinition/<name>``; inside an extension, the
sub-extension's own url). ``class: "C"`` marks content that the matrix allows
only with consent (cells C): its presence makes a pre-approved policy fall back
to per-disclosure review (G-12).

``free_text`` (the PII guard's action per free-text element) and
``safety_flags`` (how the partner honours each safety flag) are read by
:mod:`interop.privacy.policy_sections`.

Files are checked when loaded: an unknown purpose, resource type, element or
consent topic is a :class:`~interop._errors.DataFileError` naming the file,
the line and the entry. The policy itself (rules, nodes) is
:mod:`interop.privacy.policy_model`; its element paths are
:mod:`interop.privacy.policy_paths`.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from interop._errors import DataFileError
from interop.datafile import read_data_file
from interop.fhir import canonical, release
from interop.fhir.structure import type_info
from interop.fhir.terminology import Terminology
from interop.privacy.policy_model import CONFIDENTIALITY_ORDER as CONFIDENTIALITY_ORDER
from interop.privacy.policy_model import OBLIGATIONS, REVIEW_MODES
from interop.privacy.policy_model import Cond as Cond
from interop.privacy.policy_model import Node as Node
from interop.privacy.policy_model import Policy as Policy
from interop.privacy.policy_model import PolicySet as PolicySet
from interop.privacy.policy_model import ResourceRule as ResourceRule
from interop.privacy.policy_model import Review as Review
from interop.privacy.policy_paths import add_path, check_path, inherit_full
from interop.privacy.policy_sections import FreeTextRules as FreeTextRules
from interop.privacy.policy_sections import free_text_rules, safety_flag_rules
from interop.resources import mappings_dir

__all__ = [
    "CONFIDENTIALITY_ORDER",
    "Cond",
    "FreeTextRules",
    "Node",
    "Policy",
    "PolicySet",
    "ResourceRule",
    "load_policies",
]

_KEYS = frozenset(
    {
        "purpose",
        "version",
        "title",
        "note",
        "matrix",
        "partner_kinds",
        "consent",
        "consent_for_c",
        "review",
        "break_glass",
        "confidentiality",
        "ceiling",
        "obligations",
        "resources",
        "free_text",
        "safety_flags",
    }
)
_RULE_KEYS = frozenset({"type", "rows", "class", "where", "elements", "note"})
_KIND = re.compile(r"[a-z][a-z0-9-]{0,39}")


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


class _File:
    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.lines = text.splitlines()

    def line_of(self, needle: str, after: int = 0) -> int:
        """1-based line of the first line from ``after`` containing ``needle`` (0 if none)."""
        for i in range(after, len(self.lines)):
            if needle in self.lines[i]:
                return i + 1
        return 0

    def fail(
        self, entry: str, problem: str, needle: str | None = None, after: int = 0
    ) -> DataFileError:
        line = self.line_of(needle, after) if needle else 0
        where = f"line {line}: {entry}" if line else entry
        return DataFileError(self.name, where, problem, code="E220")


def load_policies(
    directory: Path | None = None, terminology: Terminology | None = None
) -> PolicySet:
    """Read and check every ``*.json`` policy of ``directory`` (``mappings/purposes``)."""
    folder = directory if directory is not None else mappings_dir() / "purposes"
    terms = terminology if terminology is not None else Terminology.load()
    policies: list[Policy] = []
    seen: dict[tuple[str, str], str] = {}
    for path in sorted(folder.glob("*.json")):
        policy = _load_file(path, terms)
        for kind in policy.partner_kinds:
            other = seen.get((policy.purpose, kind))
            if other is not None:
                raise DataFileError(
                    path.name,
                    "partner_kinds",
                    f"purpose '{policy.purpose}' for kind '{kind}' is also defined in {other}",
                    code="E220",
                )
            seen[(policy.purpose, kind)] = path.name
        policies.append(policy)
    return PolicySet(tuple(policies))


def _load_file(path: Path, terms: Terminology) -> Policy:
    text, data = read_data_file(path, path.name, code="E220")
    f = _File(path.name, text)
    for key in data:
        if key not in _KEYS:
            raise f.fail(key, "unknown key", f'"{key}"')
    purpose = data.get("purpose")
    if not isinstance(purpose, str) or terms.lookup(canonical.cs("purpose"), purpose) is None:
        raise f.fail(
            "purpose", f"unknown purpose {purpose!r} (not in CodeSystem purpose)", '"purpose"'
        )
    kinds = data.get("partner_kinds")
    if (
        not isinstance(kinds, list)
        or not kinds
        or not all(isinstance(k, str) and _KIND.fullmatch(k) for k in kinds)
    ):
        raise f.fail("partner_kinds", "must be a non-empty list of kind names", '"partner_kinds"')
    topic, assent = _consent(f, data.get("consent"), terms)
    c_topic, _ = _consent(f, data.get("consent_for_c"), terms)
    review = _review(f, data.get("review"))
    conf = str(data.get("confidentiality", "R"))
    ceiling = str(data.get("ceiling", conf))
    for key, value in (("confidentiality", conf), ("ceiling", ceiling)):
        if value not in CONFIDENTIALITY_ORDER:
            raise f.fail(key, f"must be one of {', '.join(CONFIDENTIALITY_ORDER)}", f'"{key}"')
    obligations = data.get("obligations", [])
    if not isinstance(obligations, list) or not all(o in OBLIGATIONS for o in obligations):
        raise f.fail(
            "obligations", f"must be a list of {', '.join(sorted(OBLIGATIONS))}", '"obligations"'
        )
    rules_raw = data.get("resources")
    if not isinstance(rules_raw, list) or not rules_raw:
        raise f.fail("resources", "must be a non-empty list of resource rules", '"resources"')
    rules: dict[str, list[ResourceRule]] = {}
    for i, raw in enumerate(rules_raw):
        rule = _rule(f, i, raw)
        rules.setdefault(rule.type, []).append(rule)
    break_glass = data.get("break_glass", False)
    if not isinstance(break_glass, bool):
        raise f.fail("break_glass", "must be true or false", '"break_glass"')
    free_text = free_text_rules(
        data.get("free_text"),
        break_glass,
        fail=f.fail,
        check_path=lambda entry, path: check_path(f.fail, entry, path),
    )
    safety_flags = safety_flag_rules(data.get("safety_flags"), terms, fail=f.fail)
    return Policy(
        file=path.name,
        purpose=purpose,
        version=str(data.get("version", "1")),
        title=str(data.get("title", purpose)),
        partner_kinds=tuple(kinds),
        consent_topic=topic,
        child_assent=assent,
        c_consent_topic=c_topic,
        review=review,
        break_glass=break_glass,
        confidentiality=conf,
        ceiling=ceiling,
        obligations=tuple(obligations),
        rules={k: tuple(v) for k, v in rules.items()},
        free_text=free_text,
        safety_flags=safety_flags,
    )


def _consent(f: _File, raw: Any, terms: Terminology) -> tuple[str | None, bool]:
    if raw is None:
        return None, False
    if not isinstance(raw, dict) or set(raw) - {"topic", "child_assent"}:
        raise f.fail("consent", "must be null or {topic, child_assent}", '"consent"')
    topic = raw.get("topic")
    if not isinstance(topic, str) or terms.lookup(canonical.cs("consent-topic"), topic) is None:
        raise f.fail(
            "consent.topic",
            f"unknown consent topic {topic!r} (not in CodeSystem consent-topic)",
            '"topic"',
        )
    assent = raw.get("child_assent", True)
    if not isinstance(assent, bool):
        raise f.fail("consent.child_assent", "must be true or false", '"child_assent"')
    return topic, assent


def _date(f: _File, key: str, value: Any) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise f.fail(f"review.{key}", "must be a date YYYY-MM-DD", f'"{key}"') from None


def _review(f: _File, raw: Any) -> Review:
    if not isinstance(raw, dict) or raw.get("mode") not in REVIEW_MODES:
        raise f.fail(
            "review",
            f"must be an object with mode one of {', '.join(sorted(REVIEW_MODES))}",
            '"review"',
        )
    unknown = set(raw) - {"mode", "approved_on", "valid_until", "due_workdays", "note"}
    if unknown:
        raise f.fail(f"review.{sorted(unknown)[0]}", "unknown key", f'"{sorted(unknown)[0]}"')
    due = raw.get("due_workdays", 1)
    if not isinstance(due, int) or due < 1:
        raise f.fail("review.due_workdays", "must be a whole number ≥ 1", '"due_workdays"')
    return Review(
        mode=raw["mode"],
        approved_on=_date(f, "approved_on", raw.get("approved_on")),
        valid_until=_date(f, "valid_until", raw.get("valid_until")),
        due_workdays=due,
    )


def _cond(f: _File, entry: str, raw: Any, needle: str) -> Cond:
    if not isinstance(raw, dict) or not isinstance(raw.get("path"), str):
        raise f.fail(entry, "a condition is {path, in | not_in}", needle)
    keys = set(raw) - {"path"}
    if keys not in ({"in"}, {"not_in"}) or not isinstance(raw[keys.pop()], list):
        raise f.fail(entry, "a condition needs exactly one of 'in' or 'not_in' (a list)", needle)
    negate = "not_in" in raw
    values = raw["not_in" if negate else "in"]
    return Cond(tuple(raw["path"].split(".")), frozenset(values), negate)


def _rule(f: _File, index: int, raw: Any) -> ResourceRule:
    entry = f"resources[{index}]"
    if not isinstance(raw, dict):
        raise f.fail(entry, "must be an object", '"resources"')
    rtype = raw.get("type")
    needle = f'"{rtype}"'
    start = f.line_of(f'"type": "{rtype}"')
    for key in raw:
        if key not in _RULE_KEYS:
            raise f.fail(f"{entry}.{key}", "unknown key", f'"{key}"', max(start - 1, 0))
    if not isinstance(rtype, str) or not release.is_resource_type(rtype):
        raise f.fail(f"{entry}.type", f"unknown resource type {rtype!r}", needle)
    cls = raw.get("class", "A")
    if cls not in ("A", "C"):
        raise f.fail(f"{entry}.class", "must be 'A' or 'C' (matrix cell)", '"class"', start - 1)
    rows = raw.get("rows", [])
    if not isinstance(rows, list) or not all(isinstance(r, int) and 1 <= r <= 34 for r in rows):
        raise f.fail(f"{entry}.rows", "must list matrix rows 1–34 (§4.6)", '"rows"', start - 1)
    where = _cond(f, f"{entry}.where", raw["where"], '"where"') if "where" in raw else None
    elements = raw.get("elements")
    if not isinstance(elements, list) or not elements:
        raise f.fail(f"{entry}.elements", "must be a non-empty list of element paths", needle)
    root = Node(label=rtype)
    info = type_info(rtype)
    for j, el in enumerate(elements):
        where_el = None
        if isinstance(el, dict):
            path = el.get("path")
            if not isinstance(path, str) or set(el) - {"path", "where", "note"}:
                raise f.fail(f"{entry}.elements[{j}]", "must be a path or {path, where}", needle)
            if "where" in el:
                where_el = _cond(f, f"{entry}.elements[{j}].where", el["where"], f'"{path}"')
        elif isinstance(el, str):
            path = el
        else:
            raise f.fail(f"{entry}.elements[{j}]", "must be a path or {path, where}", needle)
        entry_j = f"{entry}.elements[{j}] {path!r}"
        add_path(f.fail, entry_j, root, info, rtype, path, where_el, start)
    inherit_full(root, False)
    return ResourceRule(rtype, tuple(rows), cls, where, root)
