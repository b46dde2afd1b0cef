"""Every partner kind that takes disclosures delivers through the outbox, on a real HTTP
server on 127.0.0.1 or into a folder: written before any network call, retried,
dead-lettered, paused, listed — and what arrives is exactly the approved payload."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from privacy_support import NOW, Received, SignedIn

from interop.cli import main as cli_main
from interop.clock import FixedClock


def main(argv: list[str]) -> int:
    """The command line with the test's fixed clock (no option sets the time)."""
    return cli_main(argv, clock=FixedClock(NOW))


#: (purpose, partner over HTTP, the path it receives on, partner with a folder, folder)
KINDS = [
    ("ca-oversight", "ca-qingshanhu", "/ca-inbox", "ca-by-hand", "outbox/ca"),
    ("community-linkage", "village-shangwan", "/village", "village-by-hand", "outbox/village"),
]


@dataclass(frozen=True)
class Road:
    """A case with school-contact consent, the partners' file and the loopback server."""

    base: list[str]
    case: str
    received: Received
    people: SignedIn


@pytest.fixture
def road(
    school_case: str,
    db_url: str,
    config_file: Path,
    school_server: tuple[str, Received],
    people: SignedIn,
) -> Road:
    """Commands act for the case's worker (staff-01) unless a test signs in another."""
    return Road(
        ["--db", db_url, "--config", str(config_file)], school_case, school_server[1], people
    )


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main(list(argv))
    out = capsys.readouterr().out
    try:
        return code, json.loads(out)
    except ValueError:
        return code, out


def _outbox(capsys: pytest.CaptureFixture[str], base: list[str]) -> dict[str, Any]:
    code, listed = _cli(capsys, *base, "outbox", "list", "--json")
    assert code == 0
    return dict(listed)


def _audit(capsys: pytest.CaptureFixture[str], base: list[str], case: str) -> list[str]:
    code, rows = _cli(capsys, *base, "audit", "list", "--case", case, "--json")
    assert code == 0
    return [r["action"] for r in rows]


@pytest.mark.parametrize(("purpose", "partner", "path", "_by_hand", "_folder"), KINDS)
def test_share_goes_through_the_outbox_over_http(
    road: Road,
    capsys: pytest.CaptureFixture[str],
    purpose: str,
    partner: str,
    path: str,
    _by_hand: str,
    _folder: str,
) -> None:
    base, school_case, received = road.base, road.case, road.received
    code, d = _cli(
        capsys,
        *base,
        "share",
        school_case,
        "--purpose",
        purpose,
        "--to",
        partner,
        "--json",
    )
    assert code == 0 and d["status"] == "approved"  # a pre-approved profile (G-12)
    assert d["delivery"] == "delivered" and d["receipt"]["status"] == 201
    assert len(received.requests) == 1
    got = received.requests[0]
    assert got["path"] == path and got["headers"]["X-Disclosure-Id"] == d["id"]
    assert hashlib.sha256(got["body"]).hexdigest() == d["sha256"]
    items = _outbox(capsys, base)["items"]
    assert [(i["kind"], i["ref"], i["status"], i["partner"]) for i in items] == [
        ("disclosure", d["id"], "delivered", partner)
    ]
    assert _audit(capsys, base, school_case) == ["request", "delivery"]
    # a second outbox run sends nothing again
    code, ran = _cli(capsys, *base, "outbox", "run", "--json")
    assert code == 0 and ran["delivered"] == 0 and len(received.requests) == 1


@pytest.mark.parametrize(("purpose", "_partner", "_path", "by_hand", "folder"), KINDS)
def test_file_drop_gets_the_exact_bytes(
    road: Road,
    config_file: Path,
    capsys: pytest.CaptureFixture[str],
    purpose: str,
    _partner: str,
    _path: str,
    by_hand: str,
    folder: str,
) -> None:
    base, school_case = road.base, road.case
    code, d = _cli(
        capsys,
        *base,
        "share",
        school_case,
        "--purpose",
        purpose,
        "--to",
        by_hand,
        "--json",
    )
    assert code == 0 and d["delivery"] == "delivered"
    written = Path(d["receipt"]["location"])
    assert written.parent == config_file.parent / folder
    assert hashlib.sha256(written.read_bytes()).hexdigest() == d["sha256"]
    assert not list(written.parent.glob("*.part"))


def test_queued_before_any_network_call_then_run(
    road: Road, capsys: pytest.CaptureFixture[str]
) -> None:
    base, school_case, received = road.base, road.case, road.received
    share = [*base, "share", school_case, "--purpose", "ca-oversight", "--to", "ca-qingshanhu"]
    code, d = _cli(capsys, *share, "--no-send", "--json")
    assert code == 0 and d["delivery"] == "queued" and not received.requests
    (item,) = _outbox(capsys, base)["items"]
    assert (item["status"], item["sha256"]) == ("pending", d["sha256"])
    code, ran = _cli(capsys, *base, "outbox", "run", "--json")
    assert code == 0 and ran["delivered"] == 1 and len(received.requests) == 1
    assert _audit(capsys, base, school_case) == ["request", "delivery"]


def test_paused_partner_gets_nothing_until_resumed(
    road: Road, capsys: pytest.CaptureFixture[str]
) -> None:
    base, school_case, received = road.base, road.case, road.received
    assert main([*base, "outbox", "pause", "village-shangwan", "--reason", "drill"]) == 0
    capsys.readouterr()
    share = [*base, "share", school_case, "--purpose", "community-linkage"]
    code, d = _cli(capsys, *share, "--to", "village-shangwan", "--json")
    assert code == 0 and d["delivery"] == "queued" and not received.requests
    listed = _outbox(capsys, base)
    assert listed["paused"] == {"village-shangwan": "drill"}
    assert [i["status"] for i in listed["items"]] == ["pending"]
    assert main([*base, "outbox", "resume", "village-shangwan"]) == 0
    capsys.readouterr()
    code, ran = _cli(capsys, *base, "outbox", "run", "--json")
    assert ran["delivered"] == 1 and len(received.requests) == 1
    assert _audit(capsys, base, school_case) == ["request", "delivery"]


def test_refused_by_the_partner_is_dead_lettered_then_retried(
    road: Road, capsys: pytest.CaptureFixture[str]
) -> None:
    base, school_case, received = road.base, road.case, road.received
    received.status.extend([503, 503])  # both attempts of max_attempts = 2
    share = [*base, "share", school_case, "--purpose", "ca-oversight", "--to", "ca-flaky"]
    assert main(share) == 1
    err = capsys.readouterr().err
    assert "E622" in err and "503" in err and len(received.requests) == 2
    (item,) = _outbox(capsys, base)["items"]
    assert (item["status"], item["attempts"]) == ("dead", 2)
    assert [a["outcome"] for a in item["attempt_history"]] == ["retry", "dead"]
    assert _audit(capsys, base, school_case) == ["request", "delivery-failed"]
    # the operator fixed the partner; the dead letter goes again, the exact bytes
    code, _ = _cli(capsys, *base, "outbox", "retry", item["id"], "--json")
    assert code == 0
    code, ran = _cli(capsys, *base, "outbox", "run", "--json")
    assert ran["delivered"] == 1 and received.bodies()[2] == received.bodies()[0]
    story = ["request", "delivery-failed", "preview", "delivery"]  # re-checked, then sent
    assert _audit(capsys, base, school_case) == story
    # a later run records nothing twice
    assert _cli(capsys, *base, "outbox", "run", "--json")[1]["delivered"] == 0
    assert _audit(capsys, base, school_case) == story


def test_a_dead_disclosure_is_not_sent_again_once_the_policy_refuses_it(
    road: Road, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTEROP_TEST_SCHOOL_TOKEN", "t")
    base, school_case, received = road.base, road.case, road.received
    received.status.extend([503, 503])  # retries = 1: two attempts
    share = [*base, "share", school_case, "--purpose", "school-support", "--to", "school-mingde"]
    code, d = _cli(capsys, *share, "--json")
    assert code == 0 and d["status"] == "pending"
    road.people.as_("staff-03")  # the supervisor
    assert main([*base, "approve", d["id"]]) == 1  # dead-lettered after two attempts
    road.people.as_("staff-01")
    capsys.readouterr()
    (item,) = _outbox(capsys, base)["items"]
    assert item["status"] == "dead"
    # the guardian withdraws the school-contact consent meanwhile
    withdraw = [*base, "consent", "withdraw", school_case, "consent-school"]
    assert main([*withdraw, "--date", "2026-11-29"]) == 0
    capsys.readouterr()
    code, done = _cli(capsys, *base, "outbox", "retry", item["id"], "--json")
    assert code == 1 and done[0]["status"] == "refused"
    assert "current purpose policy refuses it" in done[0]["last_error"]
    code, ran = _cli(capsys, *base, "outbox", "run", "--json")
    assert ran["delivered"] == 0 and len(received.requests) == 2
