"""The standard's rules and the safety flags wherever data moves.

- ``interop import`` runs the profiles' rules: the case is stored with its issues
  recorded and shown, and refused only with ``--strict``;
- a disclosure of a case with open rule errors waits for a supervisor, and what is
  sent claims the purpose profile of its policy rule, not the full profile (it
  withholds what the full profiles require, D-78);
- the safety flags (requirements §4.4, R-4.5-01) travel to partners that can honour
  them — a Flag, a security label — and block the partners that cannot; per partner
  kind: school, hospital-fhir, civil-affairs, community, fhir-files.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import orjson
import pytest
from privacy_support import NOW, case_doc, make_discloser, school_consent, store

from interop.cli import main
from interop.config import Config, Partner
from interop.core.record import CaseRecord
from interop.engine import Engine
from interop.fhir import canonical
from interop.privacy.consent import check_consent
from interop.privacy.labels import Labeller
from interop.privacy.policy import load_policies
from interop.privacy.safety import SDOHCC_CODES
from interop.privacy.screen import Screened, screen
from interop.referral.bundle import ReferralSpec, build_transaction
from interop.store import Archive
from interop.store.case_issues import latest_case_issues

ENGINE = Engine()
POLICIES = load_policies(terminology=ENGINE.terminology)
LABELLER = Labeller(ENGINE.terminology)
CASE = "01-medium-in-service.json"
FLAG_SYSTEM = canonical.cs("flag-code")


def _plan_5(doc: dict[str, Any]) -> dict[str, Any]:
    doc["plans"][0]["planned_session_count"] = 5
    doc["plans"][0]["schedule"] = doc["plans"][0]["schedule"].replace("共8次", "共5次")
    return doc


def _import(db: str, path: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--db", db, "import", str(path), *extra])
    text = out.getvalue()
    return code, (json.loads(text)[0] if "--json" in extra else {}), text + err.getvalue()


def test_import_records_and_shows_rule_issues_and_refuses_only_with_strict(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    Archive.create(db).close()  # as interop init does
    path = tmp_path / "plan5.json"
    path.write_text(json.dumps(_plan_5(case_doc(CASE)), ensure_ascii=False), "utf-8")
    code, res, _ = _import(db, path, "--json", "--strict")
    assert code == 1 and res["result"] == "rejected (--strict)"
    assert any(i["requirement"] == "R-7.2.1-03" for i in res["issues"])
    code, res, _ = _import(db, path, "--json")
    assert code == 0 and res["result"] == "new" and res["rule_errors"] >= 1
    with Archive.create(db) as archive:
        recorded = latest_case_issues(archive, res["case"])
        assert any(i["requirement"] == "R-7.2.1-03" for i in recorded)
        assert archive.case_versions(res["case"])
    code, _, text = _import(db, path)
    assert code == 0 and "unchanged" in text and "open rule error(s) recorded" in text
    assert "R-7.2.1-03" in text  # shown with the rule it breaks
    good = tmp_path / "good.json"
    good.write_text(json.dumps(case_doc(CASE), ensure_ascii=False), "utf-8")
    code, res, _ = _import(db, good, "--json", "--strict")
    assert code == 0 and res["result"] == "changed" and res["rule_errors"] == 0
    with Archive.create(db) as archive:
        assert latest_case_issues(archive, res["case"]) == []


SD = "https://fhir.jxdcmh.cn/StructureDefinition/"


def _ca_config() -> Config:
    return Config(partners={"ca": Partner("ca", "civil-affairs", {"url": "http://127.0.0.1:9/"})})


def test_a_case_with_open_rule_errors_waits_for_review_and_the_extract_claims_its_purpose(
    sqlite_archive: Archive, engine: Engine
) -> None:
    discloser = make_discloser(sqlite_archive, engine, _ca_config())
    good = store(sqlite_archive, engine, case_doc(CASE))
    d = discloser.request(good, purpose="ca-oversight", partner="ca", requester="staff-01")
    assert d.status == "approved", d.reasons
    profiles = {
        e["resource"]["resourceType"]: e["resource"]["meta"].get("profile")
        for e in (d.bundle or {})["entry"]
    }
    # an extract withholds what the full profiles require: it claims its purpose profiles
    assert profiles["CarePlan"] == [f"{SD}dc-share-ca-oversight-careplan"]
    assert all(p and p[0].startswith(f"{SD}dc-share-ca-oversight-") for p in profiles.values())
    doc = _plan_5(case_doc(CASE))
    doc["case"]["case_number"] = doc["case"]["case_number"][:-1] + "9"
    broken = store(sqlite_archive, engine, doc)
    d = discloser.request(broken, purpose="ca-oversight", partner="ca", requester="staff-01")
    assert d.status == "pending", d.reasons
    text = "\n".join(d.reasons)
    assert "open rule error(s)" in text and "[R-7.2.1-03]" in text and "CarePlan" in text


# -- safety flags per partner kind -----------------------------------------------------

#: partner kind → the purpose shared with it.
PURPOSE = {
    "school": "school-support",
    "hospital-fhir": "hosp-referral",
    "civil-affairs": "ca-oversight",
    "community": "community-linkage",
}
#: How each kind takes each flag: "flag" (a Flag is sent), "label", or "block".
EXPECTED = {
    "school": {
        "guardian-restricted": "block",
        "contacting-subject-prohibited": "block",
        "avoid-reinterview": "label",
    },
    "community": {
        "guardian-restricted": "block",
        "contacting-subject-prohibited": "block",
        "avoid-reinterview": "label",
    },
    "hospital-fhir": dict.fromkeys(
        ["guardian-restricted", "contacting-subject-prohibited", "avoid-reinterview"], "flag"
    ),
    "civil-affairs": dict.fromkeys(
        ["guardian-restricted", "contacting-subject-prohibited", "avoid-reinterview"], "flag"
    ),
}


def _flagged(flags: list[str]) -> tuple[CaseRecord, dict[str, Any], list[Any]]:
    doc = case_doc("05-disability-reenrolment.json")
    doc["case"]["safety_flags"] = flags
    checked = ENGINE.check_case(doc)
    assert checked.record is not None and checked.ok, [i.line() for i in checked.issues]
    mapped = ENGINE.case_bundle(checked.record)
    assert mapped.bundle is not None
    return checked.record, mapped.bundle, mapped.issues


def _screen(flags: list[str], kind: str) -> Screened:
    record, bundle, issues = _flagged(flags)
    policy = POLICIES.find(PURPOSE[kind], kind)
    assert policy is not None
    return screen(
        record,
        bundle,
        policy,
        case_issues=issues,
        kind=kind,
        labeller=LABELLER,
        validator=ENGINE.validator,
        terminology=ENGINE.terminology,
        partner="p",
        bundle_id="b",
        timestamp="2026-11-30T10:00:00+08:00",
    )


@pytest.mark.parametrize(("kind", "flag"), [(k, f) for k, flags in EXPECTED.items() for f in flags])
def test_each_flag_travels_or_blocks_per_partner_kind(kind: str, flag: str) -> None:
    s = _screen([flag], kind)
    how = EXPECTED[kind][flag]
    if how == "block":
        assert s.filtered is None and len(s.refusals) == 1
        assert flag in s.refusals[0] and f"'{kind}' cannot honour" in s.refusals[0]
        return
    assert not s.refusals, s.refusals
    assert s.filtered is not None
    bundle = s.filtered.bundle
    resources = [e["resource"] for e in bundle["entry"]]
    if how == "label":
        for holder in (bundle, *resources):
            assert {"system": FLAG_SYSTEM, "code": flag} in holder["meta"]["security"]
    else:
        flags = [r for r in resources if r["resourceType"] == "Flag"]
        codes = {(c["system"], c["code"]) for f in flags for c in f["code"]["coding"]}
        assert (FLAG_SYSTEM, flag) in codes
        if flag == "contacting-subject-prohibited":  # as HL7 SDOH Clinical Care codes it
            assert (SDOHCC_CODES, flag) in codes
        patient = next(
            e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
        )
        assert all(f["subject"]["reference"] == patient for f in flags)
    assert any(flag in n for n in s.notes)


def test_a_case_without_flags_carries_none() -> None:
    for kind in EXPECTED:
        s = _screen([], kind)
        assert not s.refusals and s.filtered is not None
        data = orjson.dumps(s.filtered.bundle)
        assert b"guardian-restricted" not in data and b"avoid-reinterview" not in data


def test_guardian_restricted_no_guardian_contact_details_leave() -> None:
    record, _, _ = _flagged([])
    guardian = record.guardians()[0]
    assert guardian.phone
    before = _screen([], "hospital-fhir")
    assert before.filtered is not None
    assert guardian.phone.encode() in orjson.dumps(before.filtered.bundle)
    after = _screen(["guardian-restricted"], "hospital-fhir")
    assert after.filtered is not None
    data = orjson.dumps(after.filtered.bundle)
    assert guardian.phone.encode() not in data
    related = [
        e["resource"]
        for e in after.filtered.bundle["entry"]
        if e["resource"]["resourceType"] == "RelatedPerson"
        and any(
            c.get("code") == "GUARD" for r in e["resource"]["relationship"] for c in r["coding"]
        )
    ]
    assert related and all("telecom" not in r and "address" not in r for r in related)
    assert all(any(s["code"] == "REDACTED" for s in r["meta"]["security"]) for r in related)
    assert any("contact details are left out" in n for n in after.notes)


def test_guardian_restricted_consent_comes_from_the_temporary_guardian_or_designated_body() -> None:
    doc = case_doc("05-disability-reenrolment.json")
    doc["consents"].append(school_consent())
    checked = ENGINE.check_case(doc)
    assert checked.record is not None
    record = checked.record
    day = NOW.date()
    assert check_consent(record, "school-contact", day).ok
    record.case.safety_flags = ["guardian-restricted"]
    refused = check_consent(record, "school-contact", day)
    assert not refused.ok and "temporary guardian or the designated body" in refused.reason
    record.adults.append(
        type(record.adults[0])(id="adult-tg", name="临时监护人", roles=["temporary-guardian"])
    )
    record.consents[-1].grantor = "adult-tg"
    assert check_consent(record, "school-contact", day).ok
    assert record.case.commissioner
    record.consents[-1].grantor = record.case.commissioner
    assert check_consent(record, "school-contact", day).ok


def test_a_flagged_case_is_not_delivered_to_a_school_or_to_a_kind_without_policy(
    sqlite_archive: Archive, engine: Engine, tmp_path: Path
) -> None:
    doc = case_doc("05-disability-reenrolment.json")
    doc["consents"].append(school_consent())
    doc["case"]["safety_flags"] = ["contacting-subject-prohibited"]
    number = store(sqlite_archive, engine, doc)
    out = tmp_path / "out"
    config = Config(
        partners={
            "s": Partner("s", "school", {"out_dir": str(out)}),
            "f": Partner("f", "fhir-files", {"out_dir": str(out)}),
        }
    )
    discloser = make_discloser(sqlite_archive, engine, config)
    d = discloser.request(number, purpose="school-support", partner="s", requester="staff-01")
    assert d.status == "refused" and d.payload is None
    assert any("contacting-subject-prohibited" in r for r in d.reasons)
    for purpose in ("school-support", "hosp-referral", "ca-oversight"):
        d = discloser.request(number, purpose=purpose, partner="f", requester="staff-01")
        assert d.status == "refused" and any("no policy" in r for r in d.reasons)
    assert not out.exists() or not any(out.rglob("*"))
    assert dt.date.fromisoformat("2026-11-30") == NOW.date()


def test_contacting_subject_prohibited_reaches_the_hospital_on_the_service_request() -> None:
    spec = ReferralSpec(
        referral_id="RF-1",
        trigger="crisis",
        trigger_display=None,
        mode="outpatient",
        reason="转介评估",
        owner={"display": "医院"},
        authored_on="2026-11-30T10:00:00+08:00",
    )
    for flags, expected in (([], None), (["contacting-subject-prohibited"], SDOHCC_CODES)):
        s = _screen(flags, "hospital-fhir")
        assert s.filtered is not None and not s.refusals
        payload, keys = build_transaction(s.filtered.bundle, spec)
        sent = orjson.loads(payload)
        (sr,) = [e["resource"] for e in sent["entry"] if e["fullUrl"] == keys["service_request"]]
        details = [c["system"] for d in sr.get("orderDetail", ()) for c in d["coding"]]
        assert details == ([expected] if expected else [])


def test_the_referral_reason_typed_by_a_worker_is_guarded_too() -> None:
    s = _screen([], "hospital-fhir")
    assert s.filtered is not None
    spec = ReferralSpec(
        referral_id="RF-2",
        trigger="crisis",
        trigger_display=None,
        mode="outpatient",
        reason="情绪低落，母亲电话13912345678，住南昌市青山湖区云锦路35号",
        owner={"display": "医院"},
        authored_on="2026-11-30T10:00:00+08:00",
    )
    payload, _ = build_transaction(s.filtered.bundle, spec)
    assert b"13912345678" not in payload and "云锦路".encode() not in payload
    assert "情绪低落，母亲电话[已隐去:电话]".encode() in payload
