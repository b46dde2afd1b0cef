"""A disclosure request: build the partner's Bundle under the purpose policy and decide
whether it may leave (信息提供, 9.3; G-12, 4.7 break-glass)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from typing import Any

import orjson

from interop._errors import InputError
from interop.config import Partner
from interop.core.record import CaseRecord
from interop.fhir import canonical
from interop.privacy import audit
from interop.privacy.consent import check_consent
from interop.privacy.disclosure_base import DiscloserBase
from interop.privacy.disclosure_model import Disclosure, DisclosureDraft, iso
from interop.privacy.events import audit_event
from interop.privacy.policy import Policy
from interop.privacy.screen import screen
from interop.privacy.summary import status_summary
from interop.store import disclosures as stored

log = logging.getLogger(__name__)


class DisclosureRequests(DiscloserBase):
    """:meth:`request`: the purpose engine's decision on one disclosure."""

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
        stamp = iso(moment)
        today = moment.date()
        d = DisclosureDraft(
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
        screened = screen(
            record,
            mapped.bundle,
            policy,
            case_issues=mapped.issues,
            kind=target.kind,
            labeller=self.labeller,
            validator=self.engine.validator,
            terminology=terms,
            partner=partner,
            bundle_id=str(uuid.uuid4()),
            timestamp=stamp,
            extra=extra,
            allow_c=allow_c,
        )
        filtered = screened.filtered
        if screened.refusals or filtered is None:
            d.reasons.extend(screened.refusals)
            return self._finish(d, version, record, policy, reason_code, reason_text, dry_run)
        if not filtered.kept:
            d.reasons.append("the policy lets nothing of this case out")
            return self._finish(d, version, record, policy, reason_code, reason_text, dry_run)
        d.reasons.extend(screened.notes)
        # the bytes that leave (and are approved, hashed and audited) carry the configured base
        emitted = self.engine.emitted(filtered.bundle)
        d.bundle = emitted
        d.payload = orjson.dumps(emitted, option=orjson.OPT_INDENT_2) + b"\n"
        d.sha256 = hashlib.sha256(d.payload).hexdigest()
        d.elements = filtered.elements
        entities = filtered.entities
        redactions = screened.redactions
        if policy.break_glass:
            d.reasons.extend(screened.reviews)  # a crisis does not wait; the review sees them
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
                redactions=redactions,
            )
        review_reasons = list(screened.reviews)
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
            d.reasons.append("waits for supervisor review:")
            d.reasons.extend(f"  {r}" for r in review_reasons)
        else:
            d.status = "approved"
            d.reasons.append(f"pre-approved profile {d.policy} (G-12)")
        return self._finish(
            d,
            version,
            record,
            policy,
            reason_code,
            reason_text,
            dry_run,
            entities=entities,
            redactions=redactions,
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
        d: DisclosureDraft,
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
        redactions: dict[str, int] | None = None,
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
            recorded=d.created_at or iso(self.now()),
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
            redactions=redactions,
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
                return d.freeze()
            stored.add(
                conn,
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
                },
            )
            if flag is not None and d.review_due is not None:
                stored.add_review(
                    conn,
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
                    },
                )
        log.info(
            "disclosure %s of case %s for %s to %s: %s",
            d.id,
            d.case_number,
            d.purpose,
            d.partner,
            d.status,
        )
        return d.freeze()
