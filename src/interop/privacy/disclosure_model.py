"""The disclosure (信息提供, 9.3) as stored: what leaves, to whom, why, and its state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from interop._errors import InteropError

__all__ = ["APPROVER_ROLES", "DeliveryError", "Disclosure", "DisclosureError", "iso"]


#: Who may approve a disclosure (9.3 督导人员审核; ORG-LEAD may sign in their place).
APPROVER_ROLES = frozenset({"supervisor", "org-lead"})


class DisclosureError(InteropError):
    """A disclosure step is not allowed (exit 1): wrong approver, wrong state …"""

    code = "E600"
    exit_code = 1


class DeliveryError(InteropError):
    """The partner did not take an approved disclosure (exit 1); it stays approved."""

    code = "E620"
    exit_code = 1


@dataclass
class Disclosure:
    """One disclosure: what leaves (``bundle``/``payload``), to whom, why and its state."""

    id: str
    case_number: str
    purpose: str
    partner: str
    requester: str
    status: str  # approved | pending | refused | rejected
    bundle: dict[str, Any] | None
    payload: bytes | None
    sha256: str | None
    reasons: list[str] = field(default_factory=list)
    elements: list[str] = field(default_factory=list)
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
    def may_leave(self) -> bool:
        return self.status == "approved" and self.payload is not None

    def summary(self) -> dict[str, Any]:
        """Script-readable state without the payload (``--json``)."""
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
            "resources": len(self.bundle.get("entry", ())) if self.bundle else 0,
            "created_at": self.created_at,
            "decided_at": self.decided_at,
            "delivered_at": self.delivered_at,
            "review_due": self.review_due,
            "review_outcome": self.review_outcome,
            "policy": self.policy,
        }


def iso(moment: dt.datetime) -> str:
    """A disclosure time stamp: ISO 8601 to the second, with its offset."""
    return moment.isoformat(timespec="seconds")
