"""一人一档 — the case record: everything the archive holds for one child."""

from __future__ import annotations

from dataclasses import dataclass, field

from interop.core.adjustment import AdjustmentRequest, WorkerChange
from interop.core.assessment import Assessment
from interop.core.case import Case
from interop.core.closure import Closure
from interop.core.consent import Consent
from interop.core.contact import Contact
from interop.core.crisis import Crisis
from interop.core.intake import Intake
from interop.core.midterm import Midterm
from interop.core.people import Child, Organisation, RelatedAdult, Staff
from interop.core.plan import Plan
from interop.core.referraloutcome import ReferralOutcome
from interop.core.session import Session

#: Version of the case-record file format (``format_version`` in the JSON).
FORMAT_VERSION = "1.0"


@dataclass(slots=True, kw_only=True)
class CaseRecord:
    """一人一档 — one child's case record (9.2), as held in a case-record file."""

    format_version: str = FORMAT_VERSION
    case: Case
    child: Child
    adults: list[RelatedAdult] = field(default_factory=list)
    staff: list[Staff] = field(default_factory=list)
    organisations: list[Organisation] = field(default_factory=list)
    intake: Intake | None = None
    assessments: list[Assessment] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    consents: list[Consent] = field(default_factory=list)
    crises: list[Crisis] = field(default_factory=list)
    closure: Closure | None = None
    midterms: list[Midterm] = field(default_factory=list)
    adjustments: list[AdjustmentRequest] = field(default_factory=list)
    worker_changes: list[WorkerChange] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    #: What hospitals sent back about referrals (转介反馈), each as its own version.
    referral_outcomes: list[ReferralOutcome] = field(default_factory=list)

    def organisation(self, org_id: str | None) -> Organisation | None:
        return next((o for o in self.organisations if o.id == org_id), None)

    def adult(self, adult_id: str | None) -> RelatedAdult | None:
        return next((a for a in self.adults if a.id == adult_id), None)

    def guardians(self) -> list[RelatedAdult]:
        return [a for a in self.adults if "guardian" in a.roles]

    @property
    def finished_sessions(self) -> list[Session]:
        """Sessions that took place (D-06 counts these)."""
        return [s for s in self.sessions if s.attendance == "attended"]

    @property
    def finished_session_count(self) -> int:
        return len(self.finished_sessions)

    @property
    def service_period_start(self) -> str | None:
        """Date of the first finished session (D-07)."""
        done = self.finished_sessions
        return min(s.start for s in done)[:10] if done else None

    @property
    def service_period_end(self) -> str | None:
        """Date of the last finished session (D-07)."""
        done = self.finished_sessions
        return max(s.end for s in done)[:10] if done else None

    @property
    def age_at_intake(self) -> int | None:
        """Whole years of age on the intake date (R-3.1-01), from 出生年月."""
        start = self.case.intake_date or self.case.list_received_date
        if not start:
            return None
        by, bm = int(self.child.birth_date[:4]), int(self.child.birth_date[5:7])
        bd = int(self.child.birth_date[8:10]) if len(self.child.birth_date) >= 10 else 1
        y, m, d = int(start[:4]), int(start[5:7]), int(start[8:10])
        return y - by - ((m, d) < (bm, bd))
