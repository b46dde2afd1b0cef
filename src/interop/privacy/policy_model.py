"""The purpose policy as the filter reads it (目的限定策略, 9.3): rules, nodes, conditions.

A :class:`Policy` says, per resource type, which resources leave
(:class:`ResourceRule` and its ``where`` :class:`Cond`) and which of their
elements (the allow-list tree of :class:`Node`); :class:`PolicySet` finds the
policy of a purpose and partner kind. The files they are read from, and how
they are checked, are :mod:`interop.privacy.policy`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from interop.privacy.policy_sections import FreeTextRules

__all__ = [
    "CONFIDENTIALITY_ORDER",
    "NEVER_IMPLIED",
    "OBLIGATIONS",
    "REVIEW_MODES",
    "Cond",
    "Node",
    "Policy",
    "PolicySet",
    "ResourceRule",
    "Review",
    "iter_rules",
]

#: v3 Confidentiality codes, least to most restricted.
CONFIDENTIALITY_ORDER = ("U", "L", "M", "N", "R", "V")
#: Obligations of HL7 v3 ActCode the policies may attach (§4.5).
OBLIGATIONS = frozenset({"NORDSCLCD", "NOPERSISTP", "NORDSCLCDS", "NOREUSE", "NOPRINT"})
REVIEW_MODES = frozenset({"pre-approved", "per-disclosure", "post-hoc"})
#: Elements a path never implies: they leave only when named (deny by default).
NEVER_IMPLIED = frozenset({"extension", "modifierExtension", "contained", "text"})


@dataclass(frozen=True, slots=True)
class Cond:
    """Keep an item when any value at ``path`` (dotted JSON names) is (not) in ``values``."""

    path: tuple[str, ...]
    values: frozenset[Any]
    negate: bool = False

    def holds(self, item: Any) -> bool:
        found = any(v in self.values for v in _values_at(item, self.path))
        return found != self.negate


def _values_at(item: Any, steps: tuple[str, ...]) -> list[Any]:
    current = [item]
    for step in steps:
        nxt: list[Any] = []
        for c in current:
            if isinstance(c, dict):
                v = c.get(step)
                if isinstance(v, list):
                    nxt.extend(v)
                elif v is not None:
                    nxt.append(v)
        current = nxt
    return [c for c in current if isinstance(c, str | int | float | bool)]


@dataclass(slots=True, eq=False)
class Node:
    """Compiled allow-list of one element: what of it may leave.

    ``full`` keeps the element with everything under it except the
    :data:`NEVER_IMPLIED` elements and ``_x``; ``children`` / ``extensions``
    select parts. ``label`` is the policy path, reported when data passed.
    """

    label: str
    full: bool = False
    children: dict[str, Node] = field(default_factory=dict)
    extensions: dict[str, Node] = field(default_factory=dict)
    modifier_extensions: dict[str, Node] = field(default_factory=dict)
    where: Cond | None = None


@dataclass(frozen=True, slots=True)
class ResourceRule:
    """Which resources of a type leave (``where``) and which of their elements (``root``)."""

    type: str
    rows: tuple[int, ...]
    cls: str  # "A" | "C" (consent-class content, G-12)
    where: Cond | None
    root: Node


@dataclass(frozen=True, slots=True)
class Review:
    mode: str
    approved_on: dt.date | None = None
    valid_until: dt.date | None = None
    due_workdays: int = 1

    def pre_approved_on(self, day: dt.date) -> bool:
        """Whether the pre-approval (G-12) still holds on ``day``."""
        if self.mode != "pre-approved":
            return False
        if self.approved_on is not None and day < self.approved_on:
            return False
        return self.valid_until is None or day <= self.valid_until


@dataclass(frozen=True, slots=True)
class Policy:
    """One purpose profile (§4.6 adapter mechanics)."""

    file: str
    purpose: str
    version: str
    title: str
    partner_kinds: tuple[str, ...]
    consent_topic: str | None
    child_assent: bool
    c_consent_topic: str | None  # C-class rules apply only with this consent active
    review: Review
    break_glass: bool
    confidentiality: str
    ceiling: str
    obligations: tuple[str, ...]
    rules: dict[str, tuple[ResourceRule, ...]]
    free_text: FreeTextRules = field(default_factory=FreeTextRules)
    safety_flags: dict[str, str] = field(default_factory=dict)

    def rule_for(self, resource: dict[str, Any]) -> ResourceRule | None:
        for rule in self.rules.get(resource.get("resourceType", ""), ()):
            if rule.where is None or rule.where.holds(resource):
                return rule
        return None

    def describe(self) -> dict[str, Any]:
        """What the policy lets out, for ``docs/purposes.md`` and ``interop share --explain``."""
        return {
            "purpose": self.purpose,
            "version": self.version,
            "partner_kinds": list(self.partner_kinds),
            "consent": self.consent_topic,
            "review": self.review.mode,
            "break_glass": self.break_glass,
            "confidentiality": self.confidentiality,
            "obligations": list(self.obligations),
            "free_text": {
                "default": self.free_text.default,
                "elements": dict(self.free_text.elements),
            },
            "safety_flags": dict(self.safety_flags),
            "resources": {
                t: [{"rows": list(r.rows), "class": r.cls, "elements": _labels(r.root)} for r in rs]
                for t, rs in self.rules.items()
            },
        }


def _labels(node: Node) -> list[str]:
    out: list[str] = []
    if node.full:
        out.append(node.label)
    for child in (
        *node.children.values(),
        *node.extensions.values(),
        *node.modifier_extensions.values(),
    ):
        out.extend(_labels(child))
    return out


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Every loaded policy, by (purpose, partner kind)."""

    policies: tuple[Policy, ...]

    def find(self, purpose: str, kind: str) -> Policy | None:
        for p in self.policies:
            if p.purpose == purpose and kind in p.partner_kinds:
                return p
        return None

    def purposes(self) -> list[str]:
        return sorted({p.purpose for p in self.policies})

    def kinds_for(self, purpose: str) -> list[str]:
        return sorted({k for p in self.policies if p.purpose == purpose for k in p.partner_kinds})


def iter_rules(policy: Policy) -> Iterable[ResourceRule]:
    for rules in policy.rules.values():
        yield from rules
