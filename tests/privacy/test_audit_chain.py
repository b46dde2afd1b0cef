"""The audit log is append-only and hash-chained (requirements §4.8): editing,
deleting or reordering any row is detected, and ``interop audit verify`` names
the first broken link."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from privacy_support import NOW

from interop.cli import main
from interop.config import Config
from interop.engine import Engine
from interop.fhir.validate import Validator
from interop.privacy import audit
from interop.privacy.disclosure import Discloser
from interop.store import Archive
from interop.store import schema as t


def _three_events(discloser: Discloser, case: str) -> None:
    d = discloser.request(
        case, purpose="school-support", partner="school-mingde", requester="staff-01"
    )
    discloser.request(
        case, purpose="school-support", partner="school-mingde", requester="staff-01", dry_run=True
    )
    discloser.approve(d.id, approver="staff-03")


def _verify(archive: Archive) -> tuple[int, audit.Break | None]:
    with archive.engine.connect() as conn:
        return audit.verify(conn)


def test_intact_chain_verifies_and_events_are_valid_r4(
    discloser: Discloser, school_case: str, archive: Archive, engine: object
) -> None:
    _three_events(discloser, school_case)
    assert _verify(archive) == (3, None)
    validator: Validator = discloser.engine.validator
    with archive.engine.connect() as conn:
        rows = audit.rows(conn)
    for r in rows:
        errors = [i for i in validator.validate(r.event) if i.severity == "error"]
        assert not errors, [i.line() for i in errors]
        assert r.event["purposeOfEvent"][0]["coding"][0]["code"] == "school-support"
    approval = rows[-1].event
    assert approval["agent"][0]["who"]["identifier"]["value"] == "staff-03"
    assert approval["agent"][1]["who"]["display"] == "school-mingde"
    elements = [x["valueString"] for x in approval["entity"][0]["detail"] if x["type"] == "element"]
    assert "Patient.name" in elements
    pending = rows[0].event
    resources = [e["what"]["reference"] for e in pending["entity"][1:]]
    assert any(r.startswith("Patient/") for r in resources)


@pytest.mark.parametrize(
    "tamper", ["edit", "edit-rehash", "delete-middle", "delete-last", "reorder"]
)
def test_tampering_is_detected(
    discloser: Discloser, school_case: str, archive: Archive, tamper: str
) -> None:
    _three_events(discloser, school_case)
    a = t.audit_log.c
    with archive.engine.begin() as conn:
        if tamper == "edit":
            conn.execute(t.audit_log.update().where(a.seq == 2).values(partner="elsewhere"))
            expected = (2, "row edited")
        elif tamper == "edit-rehash":
            row = conn.execute(sa.select(t.audit_log).where(a.seq == 2)).mappings().one()
            event = orjson.loads(row["event"])
            event["agent"][0]["who"]["identifier"]["value"] = "staff-02"
            fields = {
                **dict(row),
                "event": orjson.dumps(event, option=orjson.OPT_SORT_KEYS).decode(),
            }
            new_hash = audit._row_hash(row["prev_hash"], audit._hashed_fields(fields))
            conn.execute(
                t.audit_log.update().where(a.seq == 2).values(event=fields["event"], hash=new_hash)
            )
            expected = (3, "deleted or reordered")
        elif tamper == "delete-middle":
            conn.execute(t.audit_log.delete().where(a.seq == 2))
            expected = (2, "missing")
        elif tamper == "delete-last":
            conn.execute(t.audit_log.delete().where(a.seq == 3))
            expected = (3, "missing at the end")
        else:
            rows = {r["seq"]: dict(r) for r in conn.execute(sa.select(t.audit_log)).mappings()}
            conn.execute(t.audit_log.delete())
            swapped = [{**rows[1], "seq": 2}, {**rows[2], "seq": 1}, rows[3]]
            conn.execute(t.audit_log.insert(), swapped)
            expected = (1, "")
    _, broken = _verify(archive)
    assert broken is not None
    assert broken.seq == expected[0]
    assert expected[1] in broken.problem


def test_cli_verify_exits_1_and_names_the_first_broken_link(
    discloser: Discloser,
    school_case: str,
    archive: Archive,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _three_events(discloser, school_case)
    assert main(["--db", db_url, "audit", "verify"]) == 0
    assert "intact: 3 events" in capsys.readouterr().out
    with archive.engine.begin() as conn:
        conn.execute(t.audit_log.update().where(t.audit_log.c.seq == 2).values(actor="x"))
    assert main(["--db", db_url, "audit", "verify"]) == 1
    assert "BROKEN at event 2" in capsys.readouterr().out
    assert main(["--db", db_url, "audit", "verify", "--json"]) == 1
    out = orjson.loads(capsys.readouterr().out)
    assert out["ok"] is False and out["broken_at"] == 2


def test_audit_list_and_report(
    discloser: Discloser, school_case: str, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _three_events(discloser, school_case)
    assert main(["--db", db_url, "audit", "list", "--case", school_case, "--json"]) == 0
    rows = orjson.loads(capsys.readouterr().out)
    assert [r["action"] for r in rows] == ["pending", "preview", "approval"]
    assert all(r["event"]["resourceType"] == "AuditEvent" for r in rows)
    assert main(["--db", db_url, "audit", "list", "--action", "approval"]) == 0
    assert "approval" in capsys.readouterr().out
    assert main(["--db", db_url, "audit", "report", "--month", "2026-11", "--json"]) == 0
    report = orjson.loads(capsys.readouterr().out)
    assert {"purpose": "school-support", "action": "approval", "count": 1} in report["events"]
    assert report["break_glass"] == []


def test_schema_1_archive_is_migrated_to_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table in t.metadata.sorted_tables:
            if table.name not in {
                "privacy_disclosures",
                "privacy_reviews",
                "audit_log",
                "audit_head",
            } and not table.name.startswith("outbox"):
                table.create(conn)
        conn.execute(t.meta.insert(), [{"key": "schema_version", "value": "1"}])
    engine.dispose()
    with Archive.create(url) as archive, archive.engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        version = conn.execute(sa.select(t.meta.c.value)).scalar_one()
    assert {"privacy_disclosures", "privacy_reviews", "audit_log", "audit_head"} <= names
    assert int(version) >= 2


def test_a_row_stamped_before_the_one_before_it_breaks_the_chain(
    school_case: str,
    archive: Archive,
    engine: Engine,
    config: Config,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each row's hash is right, but the clock went back between two rows: a time
    given by hand (or a clock set back) is reported, not taken as intact."""
    moment = [NOW]
    discloser = Discloser(archive, engine, config, now=lambda: moment[0])
    request: dict[str, Any] = dict(
        purpose="school-support", partner="school-mingde", requester="staff-01"
    )
    discloser.request(school_case, **request, dry_run=True)
    moment[0] = NOW - dt.timedelta(days=1)
    discloser.request(school_case, **request, dry_run=True)
    moment[0] = NOW + dt.timedelta(days=1)
    discloser.request(school_case, **request, dry_run=True)
    _, broken = _verify(archive)
    assert broken is not None and broken.seq == 2, broken
    assert "stamped earlier than the row before it" in broken.problem
    assert main(["--db", db_url, "audit", "verify"]) == 1
    assert "BROKEN at event 2" in capsys.readouterr().out


def test_rows_of_the_same_moment_or_later_are_in_order(
    school_case: str, archive: Archive, engine: Engine, config: Config
) -> None:
    moment = [NOW]
    discloser = Discloser(archive, engine, config, now=lambda: moment[0])
    request: dict[str, Any] = dict(
        purpose="school-support", partner="school-mingde", requester="staff-01"
    )
    discloser.request(school_case, **request, dry_run=True)
    discloser.request(school_case, **request, dry_run=True)  # the same second
    moment[0] = (NOW + dt.timedelta(hours=1)).astimezone(dt.UTC)  # later, another offset
    discloser.request(school_case, **request, dry_run=True)
    assert _verify(archive) == (3, None)
