"""The hospital's outcome joins the case record (9.2): a new version, once, named by its source.

On the real FHIR test server the test acts as the hospital: it completes the referral's
Task with a discharge summary (a DocumentReference) as output. ``interop referral poll``
fetches it, keeps it with the referral and adds it to the case record as a new version
(nothing overwritten, 9.4.3) with an AuditEvent naming the hospital; a second poll adds
no version. ``case show``, ``referral show`` and ``cases due`` (DL-17) show it.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from referral_support import (
    CASE_FILE,
    HOSPITAL,
    case_doc,
    config_at,
    hospital_sets,
    referrals,
    store,
    task_of,
    write_config,
)

from interop.engine import Engine
from interop.i18n import catalogue
from interop.privacy import audit
from interop.store import Archive
from interop.store.casework import CaseWork
from staff_support import register_people, tokens

SRC = Path(__file__).resolve().parents[2] / "src" / "interop"


def cli(db: str, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a supervisor of the register (``case show`` acts for a signed-in person)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTEROP_")}
    with Archive.open(db) as a:
        with a.engine.connect() as conn:
            nobody = not conn.execute(sa.text("SELECT count(*) FROM staff")).scalar()
        if nobody:
            register_people(a)
        env["INTEROP_TOKEN"] = tokens(a, "staff-03")["staff-03"]
    return subprocess.run(
        [sys.executable, "-m", "interop.cli", "--db", db, "--config", str(config), *args],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def cli_json(db: str, config: Path, *args: str) -> Any:
    done = cli(db, config, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def handed_over(tmp_path: Path, fhir: Any, engine: Engine) -> tuple[str, Path, str, str]:
    """A routine referral handed over to the hospital: (db, config, referral, case)."""
    db = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    config = write_config(tmp_path / "partners.toml", fhir.base_url)
    with Archive.create(db) as a:
        case = store(a, engine, case_doc(CASE_FILE))
        refs = referrals(a, engine, config_at(config))
        try:
            ref = refs.create(case, partner=HOSPITAL, trigger="RT-02", reason="需精神科评估",
                              requester="staff-01")  # fmt: skip
            refs.discloser.approve(ref.disclosure_id or "", approver="staff-03")
            refs.sweep_reviews()
            refs.deliver(ref.id)
            assert refs.get(ref.id).state == "handed-over"
        finally:
            refs.close()
    return db, config, ref.id, case


def _complete_with_summary(fhir: Any, referral_id: str) -> str:
    task = task_of(fhir, referral_id)
    doc = fhir.post(
        {
            "resourceType": "DocumentReference",
            "status": "current",
            "type": {"text": "出院小结"},
            "subject": {"reference": task["for"]["reference"]},
            "content": [{"attachment": {"contentType": "text/plain", "data": "5Ye66Zmi"}}],
        }
    )
    hospital_sets(fhir, referral_id, "accepted")
    hospital_sets(
        fhir, referral_id, "completed",
        output=[{"type": {"text": "discharge summary"},
                 "valueReference": {"reference": f"DocumentReference/{doc['id']}"}}],
    )  # fmt: skip
    return f"DocumentReference/{doc['id']}"


def test_completed_task_output_becomes_one_new_case_version(
    handed_over: tuple[str, Path, str, str], fhir: Any
) -> None:
    db, config, rid, case = handed_over
    with Archive.open(db) as a:
        before = CaseWork(a).latest(case)
    assert before is not None
    reference = _complete_with_summary(fhir, rid)

    polled = cli_json(db, config, "referral", "poll", "--force")
    assert polled["outcomes"] == 1
    (filed,) = polled["case_versions"]
    assert filed == {"case": case, "referral": rid, "reference": reference,
                     "version": before[0] + 1, "reason": None}  # fmt: skip

    with Archive.open(db) as a:
        work = CaseWork(a)
        version, body = work.latest(case) or (0, {})
        (outcome,) = body["referral_outcomes"]
        steps = work.steps(case)
        with a.engine.connect() as conn:
            events = [r for r in audit.rows(conn, case_number=case) if r.action != "request"]
            assert audit.verify(conn)[1] is None  # the chain holds the new event
    assert version == before[0] + 1
    assert outcome["source"] == HOSPITAL
    assert (outcome["referral"], outcome["reference"]) == (rid, reference)
    assert outcome["resource_type"] == "DocumentReference"
    assert outcome["title"] == "出院小结"
    # Nothing overwritten (9.4.3): the previous version is as it was; the rest is kept.
    assert {k: v for k, v in body.items() if k != "referral_outcomes"} == {
        k: v for k, v in before[1].items() if k != "referral_outcomes"
    }
    assert not before[1].get("referral_outcomes")
    assert steps[-1]["action"] == "referral-outcome"
    assert steps[-1]["from"] == steps[-1]["to"]  # no transition: the state stays
    (event,) = [e for e in events if e.action == "referral-outcome"]
    assert event.partner == HOSPITAL
    assert event.event["agent"][0]["who"] == {"display": HOSPITAL}
    assert event.event["type"]["code"] == "110107"  # DICOM Import
    assert {"type": "sha256", "valueString": outcome["sha256"]} in event.event["entity"][2][
        "detail"
    ]

    # A second poll (and a third, forced) adds no version and no audit event.
    again = cli_json(db, config, "referral", "poll", "--force")
    assert (again["outcomes"], again["case_versions"]) == (0, [])
    with Archive.open(db) as a:
        assert (CaseWork(a).latest(case) or (0, {}))[0] == version
        with a.engine.connect() as conn:
            found = [
                r for r in audit.rows(conn, case_number=case) if r.action == "referral-outcome"
            ]
        assert len(found) == 1

    # case show and referral show show it; the follow-up (DL-17) is due.
    shown = cli_json(db, config, "case", "show", case)
    assert shown["version"] == version
    assert shown["referral_outcomes"] == [
        {"referral": rid, "source": HOSPITAL, "type": "DocumentReference",
         "reference": reference, "received_at": outcome["received_at"]}
    ]  # fmt: skip
    text = cli(db, config, "case", "show", case).stdout
    assert f"outcome DocumentReference {reference} from {HOSPITAL}" in text
    ref = cli_json(db, config, "referral", "show", rid)
    assert [o["case_version"] for o in ref["outcomes"]] == [version]
    text = cli(db, config, "referral", "show", rid).stdout
    assert f"in the case record, version {version}" in text
    first = ref["follow_up"][0]["due"]
    assert f"follow-up due    {first} (DL-17)" in text
    due = cli_json(db, config, "cases", "due")
    assert [d["deadline"] for d in due if d["case"] == case and d["rule"] == "DL-17"] == [first]


def test_an_outcome_kept_but_not_filed_is_filed_by_the_next_poll(
    handed_over: tuple[str, Path, str, str], fhir: Any, engine: Engine
) -> None:
    """An outcome kept before this version of interop (or by a run that stopped before
    filing it) is in ``referral show`` as not yet filed, and the next poll files it."""
    db, config, rid, case = handed_over
    _complete_with_summary(fhir, rid)
    with Archive.open(db) as a:
        refs = referrals(a, engine, config_at(config))
        try:
            assert refs.poll(force=True)["outcomes"] == 1  # kept, not filed (no casework)
        finally:
            refs.close()
    text = cli(db, config, "referral", "show", rid).stdout
    assert "not yet in the case record (the next poll adds it)" in text
    polled = cli_json(db, config, "referral", "poll")  # nothing due at the hospital
    assert [f["version"] is not None for f in polled["case_versions"]] == [True]
    with Archive.open(db) as a:
        body = (CaseWork(a).latest(case) or (0, {}))[1]
    assert [o["referral"] for o in body["referral_outcomes"]] == [rid]


def test_every_referral_command_text_has_a_zh_cn_translation() -> None:
    """The referral command's messages go through ``_()``; each has its zh_CN text."""
    tree = ast.parse((SRC / "commands" / "referral.py").read_text("utf-8"))
    msgids = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    assert len(msgids) >= 15
    zh = catalogue("zh_CN")
    assert sorted(m for m in msgids if m not in zh) == []


def test_older_case_records_stay_valid(engine: Engine) -> None:
    """A case record without ``referral_outcomes`` (every record before) is still whole."""
    doc = case_doc(CASE_FILE)
    assert "referral_outcomes" not in doc
    checked = engine.check_case(orjson.loads(orjson.dumps(doc)))
    assert checked.record is not None and checked.ok
    assert checked.record.referral_outcomes == []
