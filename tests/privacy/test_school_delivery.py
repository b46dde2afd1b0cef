"""School sharing end to end through the command line, against a real HTTP server
on 127.0.0.1: what arrives is exactly the approved payload, and what must not
reach a school does not (6.1.4.2, 7.3, requirements §4.6 column SCHOOL, P-9)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import orjson
import pytest
from privacy_support import NOW, Received, SignedIn, case_doc

from interop.cli import main as cli_main
from interop.clock import FixedClock
from interop.privacy.disclosure import Discloser


def main(argv: list[str]) -> int:
    """The command line with the test's fixed clock (no option sets the time)."""
    return cli_main(argv, clock=FixedClock(NOW))


@pytest.fixture(autouse=True)
def _signed_in(people: SignedIn) -> SignedIn:
    """Commands act for the case's worker unless a test says otherwise."""
    return people


def _forbidden_for_school() -> list[bytes]:
    doc = case_doc("05-disability-reenrolment.json")
    child = doc["child"]
    plan = doc["plans"][0]
    values = [
        child["resident_id"],
        child["home_address"]["text"],
        child["household_registration"]["text"],
        child["health_status"],
        child["disability"]["category"],
        plan["case_background"],
        plan["manifestation"],
        plan["problem_summary"],
        plan["intervention_pathway"],
        plan["precautions"],
        doc["intake"]["family_situation"],
        doc["intake"]["interview_findings"]["emotion"],
        *[a["phone"] for a in doc["adults"] if a.get("phone")],
        *[s["process"] for s in doc["sessions"]],
        *[s["reflection"] for s in doc["sessions"]],
        *[s["goal"] for s in doc["sessions"]],
        *[a["scale_name"] for a in doc["assessments"]],
        # systems whose mere presence would label the child (P-9)
        "CodeSystem/risk-level",
        "CodeSystem/problem-type",
        "CodeSystem/difficulty-category",
        "CodeSystem/crisis-type",
        "StructureDefinition/current-risk",
        "NamingSystem/case-number",
        "urn:oid:2.16.156.10011.1.3",
    ]
    return [v.encode() for v in values if v]


def test_share_approve_and_deliver_over_http(
    school_case: str,
    db_url: str,
    config_file: Path,
    school_server: tuple[str, Received],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    people: SignedIn,
) -> None:
    monkeypatch.setenv("INTEROP_TEST_SCHOOL_TOKEN", "test-token-not-secret")
    _, received = school_server
    base = ["--db", db_url, "--config", str(config_file)]
    share = [*base, "share", school_case, "--purpose", "school-support", "--to", "school-mingde"]
    # Preview: the exact Bundle on stdout, nothing sent, nothing disclosed.
    assert main([*share, "--dry-run"]) == 0
    preview = capsys.readouterr()
    assert "waits for supervisor review" in preview.err
    previewed = json.loads(preview.out)
    assert previewed["resourceType"] == "Bundle" and not received.requests
    # Request: waits for the supervisor.
    assert main([*share, "--json"]) == 0
    pending = json.loads(capsys.readouterr().out)
    assert pending["status"] == "pending" and not received.requests
    # The requester (a worker of the register) may not approve; the supervisor may.
    assert main([*base, "approve", pending["id"]]) == 1
    assert "E821" in capsys.readouterr().err
    people.as_("staff-03")
    assert main([*base, "approve", pending["id"], "--json"]) == 0
    approved = json.loads(capsys.readouterr().out)
    assert approved["status"] == "approved" and approved["receipt"]["status"] == 201
    assert approved["sha256"] == pending["sha256"]
    assert len(received.requests) == 1
    got = received.requests[0]
    assert got["path"] == "/inbox"
    assert got["headers"]["Authorization"] == "Bearer test-token-not-secret"
    assert got["headers"]["Content-Type"] == "application/fhir+json"
    assert hashlib.sha256(got["body"]).hexdigest() == pending["sha256"]
    assert got["headers"]["X-Payload-SHA256"] == pending["sha256"]
    body = orjson.loads(got["body"])
    previewed.pop("id"), body.pop("id")
    assert body == previewed
    for value in _forbidden_for_school():
        assert value not in got["body"], value.decode()
    # What a school does get: the status summary, the school part of the plan, contacts.
    text = got["body"].decode()
    assert "status-summary" in text and "re" in text
    plan = case_doc("05-disability-reenrolment.json")["plans"][0]
    assert plan["reenrolment_support"] in text
    assert "初一(7)班" in text
    labels = {(s["system"].rsplit("/", 1)[-1], s["code"]) for s in body["meta"]["security"]}
    assert {
        ("v3-Confidentiality", "R"),
        ("v3-ActCode", "NORDSCLCD"),
        ("v3-ObservationValue", "REDACTED"),
    } <= labels
    for entry in body["entry"]:
        meta = entry["resource"]["meta"]
        assert {"R", "NORDSCLCD"} <= {s["code"] for s in meta["security"]}
        assert [t["code"] for t in meta["tag"]] == ["school-support"]
    # Sending twice is refused; the audit log tells the whole story.
    assert main([*base, "audit", "list", "--case", school_case, "--json"]) == 0
    actions = [r["action"] for r in json.loads(capsys.readouterr().out)]
    assert actions == ["preview", "pending", "approval", "delivery"]


def test_out_dir_partner_gets_a_file_with_the_exact_bytes(
    school_case: str,
    db_url: str,
    config_file: Path,
    discloser: Discloser,
    capsys: pytest.CaptureFixture[str],
    people: SignedIn,
) -> None:
    base = ["--db", db_url, "--config", str(config_file)]
    assert (
        main(
            [
                *base,
                "share",
                school_case,
                "--purpose",
                "school-support",
                "--to",
                "school-by-hand",
                "--json",
            ]
        )
        == 0
    )
    d = json.loads(capsys.readouterr().out)
    people.as_("staff-03")
    assert main([*base, "approve", d["id"], "--json"]) == 0
    receipt = json.loads(capsys.readouterr().out)["receipt"]
    written = Path(receipt["location"]).read_bytes()
    assert written == discloser.get(d["id"]).payload
    assert Path(receipt["location"]).parent == config_file.parent / "outbox" / "school"


def test_school_that_fails_is_retried_then_reported(
    archive: object,
    school_case: str,
    db_url: str,
    config_file: Path,
    school_server: tuple[str, Received],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    people: SignedIn,
) -> None:
    monkeypatch.setenv("INTEROP_TEST_SCHOOL_TOKEN", "t")
    _, received = school_server
    received.status.extend([503, 503])
    base = ["--db", db_url, "--config", str(config_file)]
    assert (
        main(
            [
                *base,
                "share",
                school_case,
                "--purpose",
                "school-support",
                "--to",
                "school-mingde",
                "--json",
            ]
        )
        == 0
    )
    d = json.loads(capsys.readouterr().out)
    people.as_("staff-03")
    assert main([*base, "approve", d["id"]]) == 1
    err = capsys.readouterr().err
    assert "E622" in err and "503" in err
    assert len(received.requests) == 2  # one retry (retries = 1)
    assert main([*base, "audit", "list", "--action", "delivery-failed", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1


def test_refused_share_exits_1_and_sends_nothing(
    archive: object,
    engine: object,
    db_url: str,
    config_file: Path,
    school_server: tuple[str, Received],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from privacy_support import store

    case = store(archive, engine, case_doc("05-disability-reenrolment.json"))  # type: ignore[arg-type]
    _, received = school_server
    code = main(
        [
            "--db",
            db_url,
            "--config",
            str(config_file),
            "share",
            case,
            "--purpose",
            "school-support",
            "--to",
            "school-mingde",
        ]
    )
    assert code == 1
    out = capsys.readouterr().out
    assert "refused" in out and "no consent of topic 'school-contact'" in out
    assert not received.requests


def test_unknown_purpose_exits_2(
    school_case: str, db_url: str, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "--db",
            db_url,
            "--config",
            str(config_file),
            "share",
            school_case,
            "--purpose",
            "advertising",
            "--to",
            "school-mingde",
        ]
    )
    assert code == 2
    assert "E601" in capsys.readouterr().err


def test_consent_commands_add_and_withdraw(
    archive: object,
    engine: object,
    db_url: str,
    config_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from privacy_support import store

    case = store(archive, engine, case_doc("05-disability-reenrolment.json"))  # type: ignore[arg-type]
    base = ["--db", db_url, "--config", str(config_file)]
    assert (
        main(
            [
                *base,
                "consent",
                "add",
                case,
                "--topic",
                "school-contact",
                "--grantor",
                "adult-01",
                "--date",
                "2026-11-20",
                "--until",
                "2027-07-15",
                "--child-assent",
                "yes",
            ]
        )
        == 0
    )
    assert "consent-02 (school-contact) recorded" in capsys.readouterr().out
    share = [
        *base,
        "share",
        case,
        "--purpose",
        "school-support",
        "--to",
        "school-by-hand",
        "--dry-run",
    ]
    assert main(share) == 0
    capsys.readouterr()
    assert main([*base, "consent", "withdraw", case, "consent-02", "--date", "2026-11-28"]) == 0
    assert "withdrawn on 2026-11-28" in capsys.readouterr().out
    assert main(share) == 1
    assert "withdrawn on 2026-11-28" in capsys.readouterr().err
    assert (
        main([*base, "consent", "add", case, "--topic", "school-contact", "--grantor", "staff-01"])
        == 2
    )
    assert main([*base, "consent", "list", case, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert [c["status"] for c in listed] == ["active", "inactive"]


def test_break_glass_from_the_command_line_leaves_at_once(
    archive: object,
    engine: object,
    db_url: str,
    config_file: Path,
    school_server: tuple[str, Received],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from privacy_support import store

    case = store(archive, engine, case_doc("02-high-risk-crisis.json"))  # type: ignore[arg-type]
    _, received = school_server
    base = ["--db", db_url, "--config", str(config_file)]
    crisis = [*base, "share", case, "--purpose", "crisis", "--to", "school-by-hand"]
    assert main(crisis) == 1
    assert "break-glass needs a reason code" in capsys.readouterr().out
    assert (
        main([*crisis, "--reason-code", "life-self", "--reason-text", "said so tonight", "--json"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "approved" and out["break_glass"] and out["review_due"]
    assert Path(out["receipt"]["location"]).read_bytes().count(b'"resourceType": "Flag"') >= 1
    assert (
        main(
            [
                *base,
                "share",
                case,
                "--purpose",
                "crisis",
                "--to",
                "hospital-psy",
                "--reason-code",
                "life-self",
                "--reason-text",
                "x",
            ]
        )
        == 0
    )
    assert "left to the plugin of partner kind 'hospital-fhir'" in capsys.readouterr().out
    assert not received.requests
    assert main([*base, "audit", "report"]) == 0
    report = capsys.readouterr().out
    assert "break-glass disclosures: 2" in report and "(life-self)" in report
