"""Disclosures (信息提供, 9.3): the one outbound path of case data.

::

    archive case record → FHIR mapping → purpose filter + labels → validation
        → consent / supervisor-review gate → audit → delivery (partner plugin)

:class:`Discloser` is the programmatic API (the CLI ``interop share``,
``approve`` and ``reject`` and the hospital referral use it):

- :meth:`Discloser.request` builds the partner's Bundle under the purpose
  policy of (purpose, partner kind) and decides: ``approved`` (may leave now:
  pre-approved profile, G-12, or break-glass), ``pending`` (waits for a
  supervisor, 9.3), or ``refused`` (no policy, no consent, invalid output,
  missing break-glass reason …). The payload bytes are stored with their
  SHA-256; what a supervisor approves is exactly what leaves.
- :meth:`Discloser.approve` / :meth:`Discloser.reject`: a supervisor or
  org-lead of the case, never the requester (four-eyes, G-16). For a
  break-glass disclosure they record the post-hoc review (justified /
  not-justified, requirements §4.7).
- :meth:`Discloser.deliver` hands the approved Disclosure — filtered, labelled,
  nothing else — to the partner kind's plugin.

Every step writes an AuditEvent to the hash-chained log
(:mod:`interop.privacy.audit`) in the same transaction as its state.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from interop._errors import InputError, InteropError
from interop.config import Config, Partner
from interop.core.record import CaseRecord
from interop.core.workdays import CHINA_TZ, WorkCalendar
from interop.fhir import canonical
from interop.privacy import audit
from interop.privacy.consent import check_consent
from interop.privacy.events import audit_event
from interop.privacy.filter import apply_policy
from interop.privacy.labels import Labeller
from interop.privacy.policy import Policy, PolicySet, load_policies
from interop.privacy.summary import status_summary
from interop.store import schema as t
from interop.store.archive import Archive

if TYPE_CHECKING:
    from interop.engine import Engine
    from interop.exchange.plugins import Plugins

__all__ = [
    "APPROVER_ROLES",
    "DeliveryError",
    "Discloser",
    "Disclosure",
    "DisclosureError",
]

log = logging.getLogger(__name__)

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


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _audit_row(
    conn: Any, d: Disclosure, *, stamp: str, action: str, event: dict[str, Any], actor: str | None
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


class Discloser:
    """The disclosure workflow over an archive, an engine and the partners configuration."""

    def __init__(
        self,
        archive: Archive,
        engine: Engine,
        config: Config,
        plugins: Plugins | None = None,
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
        self._plugins = plugins
        self.policies = (
            policies if policies is not None else load_policies(terminology=engine.terminology)
        )
        self._now = now or (lambda: dt.datetime.now(CHINA_TZ))
        self._calendar = calendar
        self.labeller = Labeller(engine.terminology)

    # -- helpers ------------------------------------------------------------

    @property
    def plugins(self) -> Plugins:
        if self._plugins is None:
            from interop.exchange.plugins import Plugins

            self._plugins = Plugins()
        return self._plugins

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
        cr = t.case_records.c
        with self.archive.engine.connect() as conn:
            row = conn.execute(
                sa.select(cr.version, cr.body)
                .where(cr.case_number == case_number)
                .order_by(cr.version.desc())
                .limit(1)
            ).first()
        if row is None:
            raise InputError(f"no case {case_number} in the archive", code="E602")
        checked = self.engine.check_case(orjson.loads(row[1]))
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

    # -- request ------------------------------------------------------------

    def request(
        self,
        case_number: str,
        *,
        purpose: str,
        partner: str,
        requester: str,
        reason_code: str | None = None,
        reason_text: str | None = None,
        dry_run: bool = False,
    ) -> Disclosure:
        """Build the partner's Bundle and decide whether it may leave (see module doc)."""
        terms = self.engine.terminology
        if terms.lookup(canonical.cs("purpose"), purpose) is None:
            raise InputError(
                f"unknown purpose '{purpose}' (codes of CodeSystem purpose: "
                f"{', '.join(self.policies.purposes())} have policies)",
                code="E601",
            )
        target = self.config.partner(partner)
        version, record = self.latest_record(case_number)
        moment = self.now()
        stamp = _iso(moment)
        today = moment.date()
        d = Disclosure(
            id="preview" if dry_run else "D-" + uuid.uuid4().hex[:16],
            case_number=case_number,
            purpose=purpose,
            partner=partner,
            requester=requester,
            status="refused",
            bundle=None,
            payload=None,
            sha256=None,
            partner_kind=target.kind,
            created_at=stamp,
        )
        role = self._staff_role(record, requester)
        policy = self.policy_for(purpose, target)
        if policy is not None:
            d.policy = f"{policy.file}@{policy.version}"
            d.break_glass = policy.break_glass
        refusal = self._gate(
            record, purpose, policy, target, role, requester, reason_code, reason_text, today
        )
        if refusal is not None:
            d.reasons.append(refusal)
            return self._finish(d, version, record, policy, reason_code, reason_text, dry_run)
        assert policy is not None
        allow_c = True
        if policy.c_consent_topic and not policy.break_glass:
            c_check = check_consent(record, policy.c_consent_topic, today)
            allow_c = c_check.ok
            if not allow_c:
                d.reasons.append(f"consent-class content held back: {c_check.reason}")
        mapped = self.engine.case_bundle(record)
        if mapped.bundle is None:
            d.reasons.append("the case could not be mapped to FHIR")
            return self._finish(d, version, record, policy, reason_code, reason_text, dry_run)
        extra = []
        summary = status_summary(record, mapped.bundle, terms, as_of=today.isoformat())
        if summary is not None:
            extra.append(summary)
        flag = None
        if policy.break_glass:
            flag = self._crisis_flag(record, mapped.bundle, requester, stamp)
            extra.append(flag)
        filtered = apply_policy(
            mapped.bundle,
            policy,
            self.labeller,
            partner=partner,
            bundle_id=str(uuid.uuid4()),
            timestamp=stamp,
            extra=extra,
            allow_c=allow_c,
        )
        errors = [
            i
            for i in self.engine.validator.validate(filtered.bundle, implied=False)
            if i.severity == "error"
        ]
        if errors:
            d.reasons.extend(
                ["the filtered Bundle is not valid FHIR R4; nothing leaves"]
                + [i.line() for i in errors[:10]]
            )
            return self._finish(d, version, record, policy, reason_code, reason_text, dry_run)
        if not filtered.kept:
            d.reasons.append("the policy lets nothing of this case out")
            return self._finish(d, version, record, policy, reason_code, reason_text, dry_run)
        d.bundle = filtered.bundle
        d.payload = orjson.dumps(filtered.bundle, option=orjson.OPT_INDENT_2) + b"\n"
        d.sha256 = hashlib.sha256(d.payload).hexdigest()
        d.elements = filtered.elements
        entities = filtered.entities
        if policy.break_glass:
            d.status = "approved"
            due, provisional = self.calendar.add_workdays(today, policy.review.due_workdays)
            d.review_due = due.isoformat()
            d.reasons.append(
                f"break-glass (4.3 exception, 7.6): leaves now; supervisor review due "
                f"{d.review_due}{' (provisional calendar)' if provisional else ''}"
            )
            return self._finish(
                d,
                version,
                record,
                policy,
                reason_code,
                reason_text,
                dry_run,
                entities=entities,
                flag=flag,
                provisional=provisional,
            )
        review_reasons = []
        if policy.review.mode == "per-disclosure":
            review_reasons.append("the policy needs a supervisor review of each disclosure (9.3)")
        elif policy.review.mode == "pre-approved" and not policy.review.pre_approved_on(today):
            until = policy.review.valid_until
            review_reasons.append(
                "the pre-approval of the policy has lapsed"
                + (f" on {until.isoformat()}" if until else "")
                + " (G-12: re-approve it each quarter)"
            )
        if "C" in filtered.classes and policy.review.mode != "post-hoc":
            review_reasons.append("it carries consent-class (C) content (G-12)")
        if review_reasons:
            d.status = "pending"
            d.reasons.append("waits for supervisor review: " + "; ".join(review_reasons))
        else:
            d.status = "approved"
            d.reasons.append(f"pre-approved profile {d.policy} (G-12)")
        return self._finish(
            d, version, record, policy, reason_code, reason_text, dry_run, entities=entities
        )

    def _gate(
        self,
        record: CaseRecord,
        purpose: str,
        policy: Policy | None,
        partner: Partner,
        role: str | None,
        requester: str,
        reason_code: str | None,
        reason_text: str | None,
        today: dt.date,
    ) -> str | None:
        """The reason the request is refused before any data is assembled, or None."""
        if role is None:
            return f"requester {requester} is not staff of this case"
        if policy is None:
            kinds = ", ".join(self.policies.kinds_for(purpose)) or "none"
            return (
                f"no policy lets this purpose out to partner kind '{partner.kind}' "
                f"(deny by default; kinds with a policy: {kinds})"
            )
        if policy.break_glass:
            codes = sorted(
                c for s, c in self.engine.terminology.valueset_codes(canonical.vs("crisis-type"))
            )
            if not reason_code or reason_code not in codes:
                return (
                    "break-glass needs a reason code (one of "
                    f"{', '.join(codes)}) and a reason text (4.7)"
                )
            if not reason_text or not reason_text.strip():
                return "break-glass needs a reason text besides the code (4.7)"
            return None
        if policy.consent_topic:
            check = check_consent(
                record, policy.consent_topic, today, child_assent=policy.child_assent
            )
            if not check.ok:
                return check.reason
        return None

    def _crisis_flag(
        self, record: CaseRecord, full: dict[str, Any], requester: str, stamp: str
    ) -> dict[str, Any]:
        """The crisis Flag a break-glass disclosure raises (7.6; shown to the receiver too)."""
        patient = next(
            e["fullUrl"] for e in full["entry"] if e["resource"]["resourceType"] == "Patient"
        )
        flag: dict[str, Any] = {
            "resourceType": "Flag",
            "id": str(uuid.uuid4()),
            "status": "active",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/flag-category",
                            "code": "safety",
                            "display": "Safety",
                        }
                    ]
                }
            ],
            "code": {
                "coding": [
                    {
                        "system": canonical.cs("flag-code"),
                        "code": "crisis",
                        "display": self.engine.terminology.display(
                            canonical.cs("flag-code"), "crisis"
                        )
                        or "crisis",
                    }
                ]
            },
            "subject": {"reference": patient},
            "period": {"start": stamp},
        }
        for e in full["entry"]:
            r = e["resource"]
            if r["resourceType"] == "Practitioner" and any(
                i.get("value") == requester for i in r.get("identifier", ())
            ):
                flag["author"] = {"reference": e["fullUrl"]}
        return flag

    def _finish(
        self,
        d: Disclosure,
        version: int,
        record: CaseRecord,
        policy: Policy | None,
        reason_code: str | None,
        reason_text: str | None,
        dry_run: bool,
        *,
        entities: list[tuple[str, str]] | None = None,
        flag: dict[str, Any] | None = None,
        provisional: bool = False,
    ) -> Disclosure:
        if d.status == "refused":
            d.bundle = d.payload = d.sha256 = None
            d.elements = []
        action = {
            "refused": "refusal",
            "pending": "pending",
            "approved": "break-glass" if d.break_glass else "request",
        }[d.status]
        if dry_run:
            action = "preview"
        event = audit_event(
            action,
            recorded=d.created_at or _iso(self.now()),
            purpose=d.purpose,
            purpose_of_use=self.labeller.purpose_of_use(d.purpose),
            partner=d.partner,
            actor=d.requester,
            actor_role=self._staff_role(record, d.requester),
            disclosure_id=None if dry_run else d.id,
            sha256=d.sha256,
            elements=d.elements,
            entities=entities,
            outcome_text="; ".join(d.reasons) if d.status == "refused" else None,
            reason_code=reason_code if d.break_glass else None,
        )
        with self.archive.transaction() as conn:
            audit.append(
                conn,
                recorded=event["recorded"],
                action=action,
                event=event,
                case_number=d.case_number,
                disclosure_id=None if dry_run else d.id,
                purpose=d.purpose,
                partner=d.partner,
                actor=d.requester,
            )
            if dry_run:
                return d
            conn.execute(
                t.disclosures.insert(),
                [
                    {
                        "id": d.id,
                        "case_number": d.case_number,
                        "case_version": version,
                        "purpose": d.purpose,
                        "partner": d.partner,
                        "partner_kind": d.partner_kind,
                        "policy": d.policy,
                        "requester": d.requester,
                        "status": d.status,
                        "break_glass": d.break_glass,
                        "reason_code": reason_code if d.break_glass else None,
                        "reason_text": reason_text if d.break_glass else None,
                        "payload": d.payload,
                        "sha256": d.sha256,
                        "elements": orjson.dumps(d.elements).decode(),
                        "reasons": orjson.dumps(d.reasons).decode(),
                        "entities": orjson.dumps(entities or []).decode(),
                        "created_at": d.created_at,
                    }
                ],
            )
            if flag is not None and d.review_due is not None:
                conn.execute(
                    t.reviews.insert(),
                    [
                        {
                            "id": "R-" + uuid.uuid4().hex[:16],
                            "disclosure_id": d.id,
                            "case_number": d.case_number,
                            "kind": "break-glass",
                            "due": d.review_due,
                            "provisional": provisional,
                            "status": "requested",
                            "flag": orjson.dumps(flag).decode(),
                            "created_at": d.created_at,
                        }
                    ],
                )
        log.info(
            "disclosure %s of case %s for %s to %s: %s",
            d.id,
            d.case_number,
            d.purpose,
            d.partner,
            d.status,
        )
        return d

    # -- reading ------------------------------------------------------------

    def get(self, disclosure_id: str) -> Disclosure:
        """A stored disclosure (InputError when unknown)."""
        with self.archive.engine.connect() as conn:
            row = (
                conn.execute(sa.select(t.disclosures).where(t.disclosures.c.id == disclosure_id))
                .mappings()
                .first()
            )
            review = conn.execute(
                sa.select(t.reviews.c.due, t.reviews.c.outcome).where(
                    t.reviews.c.disclosure_id == disclosure_id
                )
            ).first()
        if row is None:
            raise InputError(f"no disclosure {disclosure_id}", code="E604")
        payload = row["payload"]
        return Disclosure(
            id=row["id"],
            case_number=row["case_number"],
            purpose=row["purpose"],
            partner=row["partner"],
            requester=row["requester"],
            status=row["status"],
            bundle=orjson.loads(payload) if payload else None,
            payload=bytes(payload) if payload else None,
            sha256=row["sha256"],
            reasons=orjson.loads(row["reasons"]),
            elements=orjson.loads(row["elements"]),
            partner_kind=row["partner_kind"],
            break_glass=bool(row["break_glass"]),
            approver=row["approver"],
            created_at=row["created_at"],
            decided_at=row["decided_at"],
            delivered_at=row["delivered_at"],
            review_due=review[0] if review else None,
            review_outcome=review[1] if review else None,
            policy=row["policy"],
        )

    def disclosures(
        self, *, case_number: str | None = None, status: str | None = None
    ) -> list[Disclosure]:
        c = t.disclosures.c
        q = sa.select(c.id).order_by(c.created_at, c.id)
        if case_number is not None:
            q = q.where(c.case_number == case_number)
        if status is not None:
            q = q.where(c.status == status)
        with self.archive.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(q)]
        return [self.get(i) for i in ids]

    def break_glass_report(
        self, *, since: str | None = None, until: str | None = None
    ) -> list[dict[str, Any]]:
        """Every break-glass disclosure with its review (requirements §4.7: monthly report)."""
        d, r = t.disclosures.c, t.reviews.c
        q = (
            sa.select(
                d.id,
                d.case_number,
                d.partner,
                d.requester,
                d.reason_code,
                d.created_at,
                r.due,
                r.status,
                r.outcome,
                r.reviewer,
            )
            .join(t.reviews, r.disclosure_id == d.id, isouter=True)
            .where(d.break_glass.is_(True), d.status == "approved")
            .order_by(d.created_at)
        )
        if since:
            q = q.where(d.created_at >= since)
        if until:
            q = q.where(d.created_at < until)
        keys = (
            "disclosure",
            "case",
            "partner",
            "requester",
            "reason_code",
            "created_at",
            "review_due",
            "review_status",
            "review_outcome",
            "reviewer",
        )
        with self.archive.engine.connect() as conn:
            return [dict(zip(keys, row, strict=True)) for row in conn.execute(q)]

    # -- decisions ----------------------------------------------------------

    def _decider(self, d: Disclosure, approver: str, action: str) -> CaseRecord:
        _, record = self.latest_record(d.case_number)
        role = self._approver_role(record, approver)
        problem = None
        if role not in APPROVER_ROLES:
            problem = (
                f"{approver} may not {action} disclosures of this case: only a supervisor "
                "or org-lead of the case reviews outbound content (9.3)"
            )
        elif approver == d.requester:
            problem = f"{approver} requested this disclosure and may not {action} it (G-16)"
        if problem is not None:
            self._audit_only(d, "approval-refused", approver, role, problem)
            raise DisclosureError(problem, code="E605")
        return record

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
        stamp = _iso(self.now())
        event = self._step_event(d, action, stamp, actor=actor, role=role, text=text)
        with self.archive.transaction() as conn:
            _audit_row(conn, d, stamp=stamp, action=action, event=event, actor=actor)

    def _decide(
        self,
        d: Disclosure,
        *,
        status: str,
        action: str,
        approver: str,
        role: str | None,
        reason: str | None,
        review_outcome: str | None = None,
    ) -> None:
        stamp = _iso(self.now())
        event = self._step_event(
            d,
            action,
            stamp,
            actor=approver,
            role=role,
            text=reason,
            elements=d.elements if action == "approval" else None,
        )
        with self.archive.transaction() as conn:
            if review_outcome is not None:
                done = conn.execute(
                    t.reviews.update()
                    .where(t.reviews.c.disclosure_id == d.id, t.reviews.c.status == "requested")
                    .values(
                        status="completed",
                        outcome=review_outcome,
                        reviewer=approver,
                        completed_at=stamp,
                    )
                )
            else:
                done = conn.execute(
                    t.disclosures.update()
                    .where(t.disclosures.c.id == d.id, t.disclosures.c.status == "pending")
                    .values(
                        status=status,
                        approver=approver,
                        decided_at=stamp,
                        decision_reason=reason,
                        reasons=orjson.dumps(d.reasons).decode(),
                    )
                )
            if done.rowcount != 1:
                raise DisclosureError(
                    f"disclosure {d.id} was decided by someone else meanwhile", code="E606"
                )
            _audit_row(conn, d, stamp=stamp, action=action, event=event, actor=approver)

    def _review_break_glass(
        self, d: Disclosure, approver: str, outcome: str, reason: str
    ) -> Disclosure:
        """The supervisor's after-the-fact review of a break-glass disclosure (4.7)."""
        if d.review_outcome is not None:
            raise DisclosureError(
                f"break-glass disclosure {d.id} was already reviewed ({d.review_outcome})",
                code="E607",
            )
        record = self._decider(d, approver, "review")
        self._decide(
            d,
            status=d.status,
            action="break-glass-review",
            approver=approver,
            role=self._approver_role(record, approver),
            reason=reason,
            review_outcome=outcome,
        )
        return self.get(d.id)

    def approve(self, disclosure_id: str, *, approver: str) -> Disclosure:
        """Approve a pending disclosure (or review a break-glass one as justified)."""
        d = self.get(disclosure_id)
        if d.break_glass:
            return self._review_break_glass(d, approver, "justified", "justified")
        if d.status != "pending":
            raise DisclosureError(
                f"disclosure {d.id} is {d.status}, not pending: nothing to approve", code="E607"
            )
        record = self._decider(d, approver, "approve")
        role = self._approver_role(record, approver)
        policy = self.policies.find(d.purpose, d.partner_kind)
        topic = policy.consent_topic if policy is not None else None
        if policy is None or topic is not None:
            check = (
                check_consent(record, topic, self.now().date(), child_assent=policy.child_assent)
                if policy is not None and topic is not None
                else None
            )
            if check is None or not check.ok:
                why = check.reason if check is not None else "its purpose policy is gone"
                d.reasons.append(f"refused at approval: {why}")
                self._decide(
                    d, status="refused", action="refusal", approver=approver, role=role, reason=why
                )
                return self.get(disclosure_id)
        d.reasons.append(f"approved by {approver} (9.3)")
        self._decide(
            d, status="approved", action="approval", approver=approver, role=role, reason=None
        )
        approved = self.get(disclosure_id)
        self.plugins.after_approval(approved)
        return approved

    def reject(self, disclosure_id: str, *, approver: str, reason: str) -> Disclosure:
        """Reject a pending disclosure (or review a break-glass one as not justified)."""
        if not reason or not reason.strip():
            raise InputError("a rejection needs a reason", code="E608")
        d = self.get(disclosure_id)
        if d.break_glass:
            return self._review_break_glass(
                d, approver, "not-justified", "not-justified: incident record needed"
            )
        if d.status != "pending":
            raise DisclosureError(
                f"disclosure {d.id} is {d.status}, not pending: nothing to reject", code="E607"
            )
        record = self._decider(d, approver, "reject")
        d.reasons.append(f"rejected by {approver}")
        self._decide(
            d,
            status="rejected",
            action="rejection",
            approver=approver,
            role=self._approver_role(record, approver),
            reason=reason,
        )
        return self.get(disclosure_id)

    # -- delivery -----------------------------------------------------------

    def deliverer(self, partner: Partner) -> Any:
        """The plugin object that delivers to ``partner`` (its kind's factory)."""
        factory = self.plugins.partner_kinds().get(partner.kind)
        if factory is None:
            raise DeliveryError(
                f"partner {partner.name}: no plugin handles kind '{partner.kind}'", code="E621"
            )
        return factory(partner.name, dict(partner.settings))

    def takes_delivery(self, partner_name: str) -> bool:
        """Whether the partner's plugin delivers disclosures itself (``deliver``);
        otherwise it takes them through :func:`interop_after_approval` or its own queue."""
        target = self.deliverer(self.config.partner(partner_name))
        try:
            return callable(getattr(target, "deliver", None))
        finally:
            closer = getattr(target, "close", None)
            if callable(closer):
                closer()

    def deliver(self, d: Disclosure) -> dict[str, Any]:
        """Hand an approved disclosure to its partner's plugin; record the receipt."""
        if not d.may_leave:
            raise DisclosureError(f"disclosure {d.id} is {d.status}: it may not leave", code="E609")
        if d.delivered_at:
            raise DisclosureError(
                f"disclosure {d.id} was delivered at {d.delivered_at}", code="E610"
            )
        partner = self.config.partner(d.partner)
        target = self.deliverer(partner)
        deliver = getattr(target, "deliver", None)
        if not callable(deliver):
            raise DeliveryError(
                f"partner {partner.name}: the '{partner.kind}' plugin does not deliver disclosures",
                code="E621",
            )
        view = Disclosure(**{**d.__dict__, "bundle": orjson.loads(d.payload or b"{}")})
        try:
            receipt = deliver(view)
        except InteropError as exc:
            self._delivered(d, None, str(exc))
            raise DeliveryError(
                f"disclosure {d.id} to {d.partner} failed: {exc.message}", code="E622"
            ) from None
        finally:
            closer = getattr(target, "close", None)
            if callable(closer):
                closer()
        receipt = dict(receipt or {})
        self._delivered(d, receipt, None)
        return receipt

    def _delivered(
        self, d: Disclosure, receipt: dict[str, Any] | None, problem: str | None
    ) -> None:
        stamp = _iso(self.now())
        action = "delivery" if problem is None else "delivery-failed"
        event = self._step_event(d, action, stamp, actor=None, role=None, text=problem)
        with self.archive.transaction() as conn:
            values: dict[str, Any] = {
                "delivery": orjson.dumps(
                    receipt if problem is None else {"error": problem}
                ).decode()
            }
            if problem is None:
                values["delivered_at"] = stamp
            conn.execute(t.disclosures.update().where(t.disclosures.c.id == d.id).values(**values))
            _audit_row(conn, d, stamp=stamp, action=action, event=event, actor=None)
        if problem is None:
            d.delivered_at = stamp
