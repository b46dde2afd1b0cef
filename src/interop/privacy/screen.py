"""Screening of one outbound disclosure (出境前审查): what leaves, and what must wait.

One call, :func:`screen`, between the FHIR mapping of a case and the
consent/review gate of :mod:`interop.privacy.disclosure`:

1. the case's safety flags against the partner (:mod:`interop.privacy.safety`):
   a flag the partner cannot honour refuses the disclosure;
2. the case's rule errors (:func:`interop.privacy.rules.case_rule_errors`):
   open errors make the disclosure wait for a supervisor;
3. the purpose filter with the PII guard of free text
   (:func:`interop.privacy.filter.apply_policy`): ``block`` findings refuse,
   ``review`` findings wait, ``redact`` findings are counted;
4. the flags carried (a Flag, a label) and the guardian's contact details
   removed when the guardian is restricted;
5. the purpose profiles claimed (:mod:`interop.privacy.purpose_profiles`) and the
   extract checked against them (:func:`interop.privacy.rules.extract_errors`).

Every reason is plain English without personal data: findings show masked
spans and character positions, rule errors paths and requirement IDs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from interop.core.record import CaseRecord
from interop.fhir.narrative import with_narrative
from interop.fhir.terminology import Terminology
from interop.fhir.validate import Validator
from interop.i18n import N_
from interop.issues import Issue
from interop.privacy.filter import Filtered, apply_policy
from interop.privacy.labels import Labeller
from interop.privacy.policy import Policy
from interop.privacy.purpose_profiles import claim_profiles
from interop.privacy.rules import case_rule_errors, extract_errors, rule_lines
from interop.privacy.safety import apply_safety, plan_safety

__all__ = ["Screened", "known_people", "screen"]

# Operator-facing messages of this module (one place, for the message catalogue).
MSG_FLAG_BLOCKED = N_(
    "the case carries the safety flag {flags}, which partner kind '{kind}' cannot honour "
    "(policy {policy}): nothing leaves (requirements §4.4)"
)
MSG_FLAG_CARRIED = N_("safety flag {flag} travels as {how} (requirements §4.4)")
MSG_GUARDIAN = N_("guardian-restricted: the guardian's contact details are left out (§4.4)")
MSG_RULES = N_("the case has {n} open rule error(s) of the standard (9.3):")
MSG_INVALID = N_("the filtered Bundle is not valid FHIR R4; nothing leaves")
MSG_BLOCK = N_("free text holds personal data the policy does not let out; nothing leaves:")
MSG_REVIEW = N_("free text holds personal data for the supervisor to check:")
MSG_REDACTED = N_("free text: {n} span(s) of personal data redacted ({kinds})")


@dataclass(slots=True)
class Screened:
    """The outcome of :func:`screen`: the extract (unless refused) and the reasons."""

    filtered: Filtered | None
    refusals: list[str] = field(default_factory=list)  # nothing leaves
    reviews: list[str] = field(default_factory=list)  # waits for a supervisor
    notes: list[str] = field(default_factory=list)  # told, changes nothing
    redactions: dict[str, int] = field(default_factory=dict)


def known_people(record: CaseRecord) -> tuple[list[str], list[str]]:
    """Names and addresses the case record knows (the guard finds them in free text)."""
    names = [record.child.name, *(a.name for a in record.adults), *(s.name for s in record.staff)]
    names += [o.contact_name for o in record.organisations if o.contact_name]
    addresses = [record.child.home_address.text, record.child.household_registration.text]
    addresses += [o.address for o in record.organisations if o.address]
    return names, addresses


def screen(
    record: CaseRecord,
    case_bundle: dict[str, Any],
    policy: Policy,
    *,
    case_issues: list[Issue],
    kind: str,
    labeller: Labeller,
    validator: Validator,
    terminology: Terminology,
    partner: str,
    bundle_id: str,
    timestamp: str,
    extra: list[dict[str, Any]] | None = None,
    allow_c: bool = True,
) -> Screened:
    """Screen one disclosure of ``record`` under ``policy`` (see the module doc)."""
    plan = plan_safety(record.case.safety_flags, policy.safety_flags)
    if plan.blocked:
        return Screened(
            None,
            refusals=[
                MSG_FLAG_BLOCKED.format(
                    flags=", ".join(plan.blocked), kind=kind, policy=policy.file
                )
            ],
        )
    out = Screened(None)
    errors = case_rule_errors(case_issues)
    if errors:
        out.reviews.append(MSG_RULES.format(n=len(errors)))
        out.reviews.extend(rule_lines(errors))
    names, addresses = known_people(record)
    filtered = apply_policy(
        case_bundle,
        policy,
        labeller,
        partner=partner,
        bundle_id=bundle_id,
        timestamp=timestamp,
        extra=extra,
        allow_c=allow_c,
        known_names=names,
        known_addresses=addresses,
    )
    out.filtered = filtered
    apply_safety(
        filtered.bundle,
        plan,
        terminology,
        timestamp,
        labeller.labels(policy, policy.confidentiality, redacted=False),
        guardian_names={a.name for a in record.guardians()},
        guardian_phones={a.phone for a in record.guardians() if a.phone},
    )
    if plan.flags:
        # The narrative is made from what leaves: again, once the safety flags have taken
        # out what they forbid (a guardian's phone must not stay in the text) and added
        # their Flags; a case without flags keeps the filter's narrative as it is.
        for entry in filtered.bundle.get("entry") or []:
            entry["resource"] = with_narrative(entry["resource"])
    for flag in plan.as_flag:
        out.notes.append(MSG_FLAG_CARRIED.format(flag=flag, how="a Flag"))
    for flag in plan.as_label:
        out.notes.append(MSG_FLAG_CARRIED.format(flag=flag, how="a security label"))
    if plan.guardian_restricted:
        out.notes.append(MSG_GUARDIAN)
    claim_profiles(filtered.bundle, policy)  # the safety Flags added after the filter
    invalid = extract_errors(validator, filtered.bundle)
    if invalid:
        out.refusals.append(MSG_INVALID)
        out.refusals.extend(rule_lines(invalid))
    blocked = filtered.held("block")
    if blocked:
        out.refusals.append(MSG_BLOCK)
        out.refusals.extend(f.line() for f in blocked)
    review = filtered.held("review")
    if review:
        out.reviews.append(MSG_REVIEW)
        out.reviews.extend(f.line() for f in review)
    out.redactions = filtered.redactions()
    if out.redactions:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(out.redactions.items()))
        out.notes.append(MSG_REDACTED.format(n=sum(out.redactions.values()), kinds=kinds))
    return out
