"""转介反馈 — what a hospital sent back about a referral, kept in the child's case record.

When the hospital completes the referral's Task with an output (a discharge
summary, a DocumentReference …), the output is fetched and stored with the
referral, and added to the case record as a new version (9.2; nothing
overwritten, 9.4.3). The record keeps where it came from (``source``: the
hospital as configured) and which resource version it was; the resource
itself stays with the referral (``interop referral show``).
"""

from __future__ import annotations

from dataclasses import dataclass

from interop.core.fields import text


@dataclass(slots=True, kw_only=True)
class ReferralOutcome:
    """转介反馈 — one hospital output of a referral (R-6.2.1-02 交接反馈, DL-17)."""

    referral: str = text(req="R-6.2.1-02")  # our referral id
    source: str = text(req="R-6.2.1-02")  # the hospital (partner name) that sent it
    resource_type: str = text(req="R-6.2.1-02")  # DocumentReference, Encounter …
    reference: str = text(req="R-6.2.1-02")  # the resource at the hospital (Type/id)
    resource_version: str | None = text(req="R-6.2.1-02", default=None)
    received_at: str = text(req="R-6.2.1-02")  # when it was fetched (date-time)
    sha256: str = text(req="R-6.2.1-02")  # of the bytes as received
    title: str | None = text(req="R-6.2.1-02", default=None)  # its description or type
    discharged: str | None = text(req="R-6.1.4-02", default=None)  # the Task's completion
