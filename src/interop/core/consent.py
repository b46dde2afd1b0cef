"""知情同意 — informed consent (7.2.3) and data-sharing consent per topic (G-25)."""

from __future__ import annotations

from dataclasses import dataclass

from interop.core.fields import coded, text


@dataclass(slots=True, kw_only=True)
class Consent:
    """知情同意书 — a consent of one topic, granted by the guardian."""

    id: str
    topic: str = coded("consent-topic", req="R-7.2.3-01")
    status: str = "active"  # draft | active | rejected | inactive (withdrawn)
    grantor: str = text(req="R-7.2.3-01")  # RelatedAdult id (guardian) or "child"
    date: str = text(req="R-7.2.3-01")
    period_start: str | None = None
    period_end: str | None = None
    child_assent: bool | None = text(req="G-25", default=None)
    withdrawn_date: str | None = None
