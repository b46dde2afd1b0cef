"""What every disclosure step needs: the archive, the engine, the partners, the clock
and the audit of a step (信息提供, 9.3)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from interop._errors import InputError
from interop.config import Config, Partner
from interop.core.record import CaseRecord
from interop.core.workdays import CHINA_TZ, WorkCalendar
from interop.privacy import audit
from interop.privacy.disclosure_model import APPROVER_ROLES, Disclosure, DisclosureError, iso
from interop.privacy.events import audit_event
from interop.privacy.labels import Labeller
from interop.privacy.policy import Policy, PolicySet, load_policies
from interop.store.cases import latest_record

if TYPE_CHECKING:
    from interop.engine import Engine
    from interop.store.archive import Archive
    from interop.store.connect import Connection


def audit_row(
    conn: Connection,
    d: Disclosure,
    *,
    stamp: str,
    action: str,
    event: dict[str, Any],
    actor: str | None,
) -> None:
    """Append the AuditEvent of one step of disclosure ``d`` to the hash chain."""
    audit.append(
        conn,
        recorded=stamp,
        action=action,
        event=event,
        case_number=d.case_number,
        disclosure_id=d.id,
        purpose=d.purpose,
        partner=d.partner,
        actor=actor,
    )


class DiscloserBase:
    """The collaborators of the disclosure workflow and the helpers its steps share."""

    def __init__(
        self,
        archive: Archive,
        engine: Engine,
        config: Config,
        *,
        policies: PolicySet | None = None,
        now: Callable[[], dt.datetime] | None = None,
        calendar: WorkCalendar | None = None,
        authority: Callable[[str], frozenset[str]] | None = None,
    ) -> None:
        self.archive = archive
        # The roles a staff id holds in the staff register (G-16: approval authority comes
        # from the register, not from the case record being shared); None: the case record's.
        self._authority = authority
        self.engine = engine
        self.config = config
        self.policies = (
            policies if policies is not None else load_policies(terminology=engine.terminology)
        )
        self._now = now or (lambda: dt.datetime.now(CHINA_TZ))
        self._calendar = calendar
        self.labeller = Labeller(engine.terminology)

    # -- helpers ------------------------------------------------------------

    @property
    def calendar(self) -> WorkCalendar:
        if self._calendar is None:
            self._calendar = WorkCalendar.load()
        return self._calendar

    def now(self) -> dt.datetime:
        moment = self._now()
        return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)

    def latest_record(self, case_number: str) -> tuple[int, CaseRecord]:
        """The latest stored version of a case record, checked (InputError when absent)."""
        with self.archive.engine.connect() as conn:
            row = latest_record(conn, case_number)
        if row is None:
            raise InputError(f"no case {case_number} in the archive", code="E602")
        checked = self.engine.check_case(row[1])
        if checked.record is None or not checked.ok:
            raise DisclosureError(
                f"case {case_number} version {row[0]} does not pass its checks; "
                "nothing leaves until it is corrected",
                code="E603",
            )
        return int(row[0]), checked.record

    @staticmethod
    def _staff_role(record: CaseRecord, staff_id: str) -> str | None:
        return next((s.role for s in record.staff if s.id == staff_id), None)

    def _approver_role(self, record: CaseRecord, staff_id: str) -> str | None:
        """The reviewing role of ``staff_id``: from the staff register when one is given."""
        if self._authority is None:
            return self._staff_role(record, staff_id)
        held = self._authority(staff_id) & APPROVER_ROLES
        return ("supervisor" if "supervisor" in held else "org-lead") if held else None

    def policy_for(self, purpose: str, partner: Partner) -> Policy | None:
        return self.policies.find(purpose, partner.kind)

    def _step_event(
        self,
        d: Disclosure,
        action: str,
        stamp: str,
        *,
        actor: str | None,
        role: str | None,
        text: str | None,
        elements: list[str] | None = None,
    ) -> dict[str, Any]:
        """The AuditEvent of a step after the request (decision, refusal, delivery)."""
        return audit_event(
            action,
            recorded=stamp,
            purpose=d.purpose,
            purpose_of_use=self.labeller.purpose_of_use(d.purpose),
            partner=d.partner,
            actor=actor,
            actor_role=role,
            disclosure_id=d.id,
            sha256=d.sha256,
            elements=elements,
            outcome_text=text,
        )

    def _audit_only(
        self, d: Disclosure, action: str, actor: str, role: str | None, text: str | None
    ) -> None:
        stamp = iso(self.now())
        event = self._step_event(d, action, stamp, actor=actor, role=role, text=text)
        with self.archive.transaction() as conn:
            audit_row(conn, d, stamp=stamp, action=action, event=event, actor=actor)
