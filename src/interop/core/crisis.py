"""危机干预 — a crisis (7.6), shown as a Flag on the child's record."""

from __future__ import annotations

from dataclasses import dataclass

from interop.core.fields import coded, text


@dataclass(slots=True, kw_only=True)
class Crisis:
    """危机 — a major risk detected (7.6.1); status active, stabilised or resolved."""

    id: str
    type: str = coded("crisis-type", req="R-7.6.1-01")
    detected_at: str = text(req="DL-09")
    detected_by: str  # Staff id
    status: str = "active"  # active | stabilised | resolved
    summary: str | None = text(req="7.6.1", default=None)
    reliable_carer: str | None = None  # RelatedAdult id
    reported_to_commissioner_at: str | None = text(req="DL-09", default=None)
    safety_assessment: str | None = text(req="R-7.6.1-03", default=None)
    stabilised_at: str | None = text(req="R-7.6.1-04", default=None)
    resolved_at: str | None = None
