"""The referral transaction Bundle, built from a disclosure's filtered Bundle.

Only the filtered, labelled Bundle of the ``hosp-referral`` (or ``crisis``)
disclosure goes in — never the unfiltered case (ARCHITECTURE: the engine
filters, the plugin only transports). To it we add the ServiceRequest and
the Task of the closed loop. Every entry is idempotent, so a resend never
duplicates anything at the hospital:

- Patient: conditional create on the resident ID (``urn:oid:2.16.156.10011.1.3``),
  or on another identifier the policy let out;
- Organizations and Practitioners (ours, the school …): conditional create on
  their identifier, in every Bundle — routine and crisis — so the hospital
  holds one copy of each, never one per case; one without an identifier is
  not sent (the references to it keep its name as ``display``);
- the other filtered resources (the child's own): ``PUT Type/id`` (our stable
  ids; an update of identical content, never a second copy);
- ServiceRequest and Task: conditional create on our referral identifier.

The hospital itself (``Task.owner``, ``ServiceRequest.performer``) is named as
the partner configuration says — by identifier where it is configured so,
never by a literal id we cannot resolve at the hospital.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson

from interop._errors import ReferralBundleError as ReferralBundleError
from interop.fhir import canonical
from interop.fhir.narrative import with_narrative
from interop.privacy.freetext import Guard
from interop.privacy.safety import (
    CONTACTING_SUBJECT_PROHIBITED,
    SDOHCC_CODES,
    subject_contact_prohibited,
)

RESIDENT_ID = "urn:oid:2.16.156.10011.1.3"
BASE = canonical.BASE
#: Our identifier system for referrals (ServiceRequest and Task).
REFERRAL_SYSTEM = f"{BASE}/sid/referral"
TRIGGER_SYSTEM = f"{BASE}/CodeSystem/referral-trigger"
MODE_SYSTEM = f"{BASE}/CodeSystem/referral-mode"
SERVICE_TYPE_SYSTEM = f"{BASE}/CodeSystem/service-type"
TASK_CODE_SYSTEM = "http://hl7.org/fhir/CodeSystem/task-code"
ORG_TYPE_SYSTEM = f"{BASE}/CodeSystem/organization-type"


@dataclass(frozen=True, slots=True)
class ReferralSpec:
    """What our side says about the referral (the rest comes from the filtered Bundle)."""

    referral_id: str
    trigger: str
    trigger_display: str | None
    mode: str
    reason: str
    owner: dict[str, Any]  # Reference to the hospital
    authored_on: str  # FHIR dateTime


def _cond(system: str, value: str) -> str:
    return f"identifier={quote(system, safe=':/.')}|{quote(value, safe='')}"


def _security(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    labels = (bundle.get("meta") or {}).get("security") or []
    return [dict(x) for x in labels if isinstance(x, dict)]


def _is_contractor(org: dict[str, Any]) -> bool:
    for t in org.get("type") or []:
        for c in t.get("coding") or []:
            if c.get("system") == ORG_TYPE_SYSTEM and c.get("code") == "contractor":
                return True
    return False


#: Resource types that are shared between cases: sent by conditional create on an identifier.
SHARED = ("Organization", "Practitioner")


def _unsent(filtered: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """fullUrl → display Reference of the shared resources that have no identifier."""
    out: dict[str, dict[str, Any]] = {}
    for entry in filtered.get("entry") or []:
        resource = entry.get("resource")
        if not isinstance(resource, dict) or resource.get("resourceType") not in SHARED:
            continue
        if _org_identifier(resource) is not None:
            continue
        rid = resource.get("id")
        full_url = entry.get("fullUrl") or (f"urn:uuid:{rid}" if rid else None)
        if not full_url:
            continue
        name = resource.get("name")
        if isinstance(name, list):  # Practitioner.name: HumanName[]
            name = next((n.get("text") for n in name if isinstance(n, dict)), None)
        ref: dict[str, Any] = {"display": str(name)} if isinstance(name, str) and name else {}
        out[full_url] = ref
        if rid:
            out[f"{resource['resourceType']}/{rid}"] = ref
    return out


def _without(value: Any, unsent: dict[str, dict[str, Any]]) -> Any:
    """``value`` with references to unsent resources replaced by their display."""
    if isinstance(value, dict):
        target = value.get("reference")
        if isinstance(target, str) and target in unsent:
            kept = {k: v for k, v in value.items() if k != "reference"}
            return {**unsent[target], **kept} or {"display": "(not sent)"}
        return {k: _without(v, unsent) for k, v in value.items()}
    if isinstance(value, list):
        return [_without(v, unsent) for v in value]
    return value


def build_transaction(
    filtered: dict[str, Any], spec: ReferralSpec, *, base: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """The transaction Bundle (bytes) and the fullUrls of its key entries.

    The map has ``patient``, ``service_request``, ``task`` and, when the
    filtered Bundle names our organisation, ``requester``. ``base``: the canonical
    base the disclosure was emitted under (settings ``canonical_base``, D-77); the
    transaction is built under ours and leaves under it.
    """
    filtered = canonical.internal(filtered, base)
    unsent = _unsent(filtered)
    if unsent:
        filtered = _without(filtered, unsent)
    entries: list[dict[str, Any]] = []
    keys: dict[str, str] = {}
    supporting: list[dict[str, str]] = []
    patient_url: str | None = None
    requester_url: str | None = None
    for entry in filtered.get("entry") or []:
        resource = entry.get("resource")
        if not isinstance(resource, dict):
            continue
        rtype = resource.get("resourceType")
        rid = resource.get("id")
        full_url = entry.get("fullUrl") or (f"urn:uuid:{rid}" if rid else None)
        if not rtype or not full_url:
            continue
        request: dict[str, Any]
        if rtype == "Patient":
            ident = _patient_identifier(resource)
            if ident is None:
                raise ReferralBundleError(
                    "the filtered Bundle's Patient has no identifier, so the hospital could "
                    "not match the child: the hosp-referral policy must let the resident ID "
                    "or another identifier out",
                )
            request = {"method": "POST", "url": "Patient", "ifNoneExist": _cond(*ident)}
            patient_url = full_url
        elif rtype in SHARED:
            ident = _org_identifier(resource)
            if ident is None:
                continue  # not sent: see _unsent
            request = {"method": "POST", "url": rtype, "ifNoneExist": _cond(*ident)}
            if rtype == "Organization" and _is_contractor(resource) and requester_url is None:
                requester_url = full_url
        elif rid:
            request = {"method": "PUT", "url": f"{rtype}/{rid}"}
            supporting.append({"reference": full_url})
        else:
            continue
        entries.append({"fullUrl": full_url, "resource": resource, "request": request})
    if patient_url is None:
        raise ReferralBundleError("the filtered Bundle has no Patient: nothing to refer")
    keys["patient"] = patient_url
    requester: dict[str, Any]
    if requester_url is not None:
        keys["requester"] = requester_url
        requester = {"reference": requester_url}
    else:
        requester = {"display": "承接机构"}
    security = _security(filtered)
    our_id = {"system": REFERRAL_SYSTEM, "value": spec.referral_id}
    sr_url = _stable_url("sr", spec.referral_id)
    task_url = _stable_url("task", spec.referral_id)
    keys["service_request"] = sr_url
    keys["task"] = task_url
    reason_coding: dict[str, Any] = {"system": TRIGGER_SYSTEM, "code": spec.trigger}
    if spec.trigger_display:
        reason_coding["display"] = spec.trigger_display
    service_request: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "identifier": [our_id],
        "status": "active",
        "intent": "order",
        "category": [{"coding": [{"system": MODE_SYSTEM, "code": spec.mode}]}],
        "code": {
            "coding": [{"system": SERVICE_TYPE_SYSTEM, "code": "referral", "display": "转介诊疗"}]
        },
        "subject": {"reference": patient_url},
        "authoredOn": spec.authored_on,
        "requester": requester,
        "performer": [spec.owner],
        "reasonCode": [{"coding": [reason_coding], "text": _guarded(spec.reason)}],
    }
    if supporting:
        service_request["supportingInfo"] = supporting
    if subject_contact_prohibited(filtered):
        # the safety flag travels on the request itself, as HL7 SDOH Clinical Care puts it
        service_request["orderDetail"] = [
            {"coding": [{"system": SDOHCC_CODES, "code": CONTACTING_SUBJECT_PROHIBITED}]}
        ]
    task: dict[str, Any] = {
        "resourceType": "Task",
        "identifier": [our_id],
        "basedOn": [{"reference": sr_url}],
        "status": "requested",
        "intent": "order",
        "code": {
            "coding": [
                {
                    "system": TASK_CODE_SYSTEM,
                    "code": "fulfill",
                    "display": "Fulfill the focal request",
                }
            ]
        },
        "focus": {"reference": sr_url},
        "for": {"reference": patient_url},
        "authoredOn": spec.authored_on,
        "requester": requester,
        "owner": spec.owner,
    }
    if security:
        service_request["meta"] = {"security": security}
        task["meta"] = {"security": security}
    service_request = with_narrative(service_request)
    task = with_narrative(task)
    cond = _cond(REFERRAL_SYSTEM, spec.referral_id)
    entries.append(
        {
            "fullUrl": sr_url,
            "resource": service_request,
            "request": {"method": "POST", "url": "ServiceRequest", "ifNoneExist": cond},
        }
    )
    entries.append(
        {
            "fullUrl": task_url,
            "resource": task,
            "request": {"method": "POST", "url": "Task", "ifNoneExist": cond},
        }
    )
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    if security:
        bundle["meta"] = {"security": security}
    return orjson.dumps(canonical.emitted(bundle, base)), keys


def _guarded(text: str) -> str:
    """The referral reason with IDs, phones and addresses redacted: typed free text that
    no purpose policy filters (the hospital has the child's identifiers in the Patient)."""
    return Guard().check(text, "ServiceRequest.reasonCode.text", "redact")[0]


def _stable_url(kind: str, referral_id: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{REFERRAL_SYSTEM}/{kind}/{referral_id}')}"


def _patient_identifier(patient: dict[str, Any]) -> tuple[str, str] | None:
    idents = [i for i in patient.get("identifier") or [] if i.get("system") and i.get("value")]
    for i in idents:
        if i["system"] == RESIDENT_ID:
            return RESIDENT_ID, str(i["value"])
    if idents:
        return str(idents[0]["system"]), str(idents[0]["value"])
    return None


def _org_identifier(org: dict[str, Any]) -> tuple[str, str] | None:
    for i in org.get("identifier") or []:
        if i.get("system") and i.get("value"):
            return str(i["system"]), str(i["value"])
    return None


def locations(receipt_body: Any, sent: bytes) -> dict[str, str]:
    """``fullUrl → Type/id`` from a transaction-response (entries in request order)."""
    out: dict[str, str] = {}
    if not isinstance(receipt_body, dict):
        return out
    request = orjson.loads(sent)
    for req_entry, resp_entry in zip(
        request.get("entry") or [], receipt_body.get("entry") or [], strict=False
    ):
        loc = ((resp_entry or {}).get("response") or {}).get("location")
        if not loc:
            res = (resp_entry or {}).get("resource") or {}
            if res.get("resourceType") and res.get("id"):
                loc = f"{res['resourceType']}/{res['id']}"
        if loc:
            parts = [p for p in str(loc).split("/") if p]
            if "_history" in parts:
                parts = parts[: parts.index("_history")]
            out[req_entry.get("fullUrl", "")] = "/".join(parts[-2:])
    return out


def fhir_now() -> str:
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")
