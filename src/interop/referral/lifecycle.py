"""Referral (转介) as a closed loop with a hospital over FHIR REST (6.2.1, 7.1.2, 7.4.1, 7.6.1).

::

    create ─▶ review ─▶ approved ─▶ outbox ─▶ hospital: Patient, ServiceRequest, Task
                                                          │ the hospital moves the Task
    poll every open Task by id (crisis: its own cadence) ◀┘
      │ checked (for, basedOn, owner), then the state machine (states.py);
      │ a mismatch, a deleted Task or an illegal move is an anomaly, not applied
      ├─ completed: fetch Task.output, store it for the child's file, follow-up (DL-17)
      └─ our side may cancel (PATCH Task: status cancelled) while the Task is open

:class:`Referrals` is the whole loop, one concept per module:
:mod:`~interop.referral.records` (the stored referral, history, store
queries), :mod:`~interop.referral.requests` (create, approval, cancel,
retry), :mod:`~interop.referral.delivery` (the outbox's answers) and
:mod:`~interop.referral.polling` (reading Tasks back, checks) and
:mod:`~interop.referral.outcomes` (what the hospital sends back, follow-up).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from interop.referral.outcomes import ACCEPTED_OUTCOMES
from interop.referral.records import (
    MODES,
    TRIGGERS,
    Referral,
    ReferralError,
    ReferralNotFound,
    referral_due_items,
)
from interop.referral.requests import ApprovalListener, Requests
from interop.store.archive import Archive

if TYPE_CHECKING:
    from interop.config import Config

__all__ = [
    "ACCEPTED_OUTCOMES",
    "MODES",
    "TRIGGERS",
    "ApprovalListener",
    "Referral",
    "ReferralError",
    "ReferralNotFound",
    "Referrals",
    "opened",
    "referral_due_items",
]


class Referrals(Requests):
    """Referrals of one archive, with the partners configuration and the purpose engine."""

    def __enter__(self) -> Referrals:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def poll(
        self,
        *,
        referral_id: str | None = None,
        partner: str | None = None,
        force: bool = False,
        by: str = "auto",
        now: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """Queue decided reviews, deliver what is due, then read the due Tasks back."""
        self.sweep_reviews()
        self.deliver()
        return self.poll_tasks(
            referral_id=referral_id, partner=partner, force=force, by=by, now=now
        )


@contextmanager
def opened(archive_url: str | None, config: Config) -> Iterator[Referrals]:
    with Archive.open(archive_url) as archive, Referrals(archive, config) as referrals:
        yield referrals
