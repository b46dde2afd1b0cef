"""The disclosure (信息提供, 9.3) as stored: what leaves, to whom, why, and its state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from interop._errors import DeliveryError as DeliveryError
from interop._errors import DisclosureError as DisclosureError

__all__ = [
    "APPROVER_ROLES",
    "DeliveryError",
    "Disclosure",
    "DisclosureDraft",
    "DisclosureError",
    "iso",
]


#: Who may approve a disclosure (9.3 督导人员审核; ORG-LEAD may sign in their place).
APPROVER_ROLES = frozenset({"supervisor", "org-lead"})


@dataclass(frozen=True, slots=True)
class Disclosure:
    """One disclosure: what leaves (``payload``), to whom, why and its state — immutable.

    ``bundle`` is a fresh copy of the filtered Bundle parsed from ``payload``
    on every access: whoever holds a Disclosure cannot change what leaves.
    """

    id: str
    case_number: str
    purpose: str
    partner: str
    requester: str
    status: str  # approved | pending | refused | rejected
    payload: bytes | None
    sha256: str | None
    reasons: tuple[str, ...] = ()
    elements: tuple[str, ...] = ()
    partner_kind: str = ""
    break_glass: bool = False
    approver: str | None = None
    created_at: str | None = None
    decided_at: str | None = None
    delivered_at: str | None = None
    review_due: str | None = None
    review_outcome: str | None = None
    policy: str | None = None

    @property
    def bundle(self) -> dict[str, Any] | None:
        """The filtered Bundle (a new dict each time), or None when nothing may leave."""
        if self.payload is None:
            return None
        parsed: dict[str, Any] = orjson.loads(self.payload)
        return parsed

    @property
    def may_leave(self) -> bool:
        return self.status == "approved" and self.payload is not None

    def with_reason(self, reason: str) -> Disclosure:
        """The same disclosure with one more reason."""
        return replace(self, reasons=(*self.reasons, reason))

    def summary(self) -> dict[str, Any]:
        """Script-readable state without the payload (``--json``)."""
        bundle = self.bundle
        return {
            "id": self.id,
            "case": self.case_number,
            "purpose": self.purpose,
            "partner": self.partner,
            "partner_kind": self.partner_kind,
            "requester": self.requester,
            "status": self.status,
            "break_glass": self.break_glass,
            "approver": self.approver,
            "sha256": self.sha256,
            "reasons": list(self.reasons),
            "elements": list(self.elements),
            "resources": len(bundle.get("entry", ())) if bundle else 0,
            "created_at": self.created_at,
            "decided_at": self.decided_at,
            "delivered_at": self.delivered_at,
            "review_due": self.review_due,
            "review_outcome": self.review_outcome,
            "policy": self.policy,
        }


@dataclass
class DisclosureDraft:
    """A disclosure while the purpose engine decides on it (mutable; see :meth:`freeze`)."""

    id: str
    case_number: str
    purpose: str
    partner: str
    requester: str
    status: str
    bundle: dict[str, Any] | None
    payload: bytes | None
    sha256: str | None
    reasons: list[str] = field(default_factory=list)
    elements: list[str] = field(default_factory=list)
    partner_kind: str = ""
    break_glass: bool = False
    created_at: str | None = None
    review_due: str | None = None
    policy: str | None = None

    def freeze(self) -> Disclosure:
        """The decided disclosure, immutable."""
        return Disclosure(
            id=self.id,
            case_number=self.case_number,
            purpose=self.purpose,
            partner=self.partner,
            requester=self.requester,
            status=self.status,
            payload=self.payload,
            sha256=self.sha256,
            reasons=tuple(self.reasons),
            elements=tuple(self.elements),
            partner_kind=self.partner_kind,
            break_glass=self.break_glass,
            created_at=self.created_at,
            review_due=self.review_due,
            policy=self.policy,
        )


def iso(moment: dt.datetime) -> str:
    """A disclosure time stamp: ISO 8601 to the second, with its offset."""
    return moment.isoformat(timespec="seconds")
