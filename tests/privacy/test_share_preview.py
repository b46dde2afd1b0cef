"""``interop share --dry-run`` shows what the PII guard redacted or holds back, in
plain words with masked values — never the personal data itself."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from privacy_support import NOW, case_doc, school_consent, store

from interop.cli import main as cli_main
from interop.clock import FixedClock
from interop.core.resident_id import make
from interop.engine import Engine
from interop.store import Archive
from staff_support import register_people, tokens

RID = make("360111", dt.date(1979, 2, 3), "2", 77)


def main(argv: list[str]) -> int:
    """The command line with the test's fixed clock (no option sets the time)."""
    return cli_main(argv, clock=FixedClock(NOW))


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "partners.toml"
    path.write_text(
        '[partners.school-by-hand]\nkind = "school"\nout_dir = "out"\n\n'
        '[partners.ca]\nkind = "civil-affairs"\nurl = "http://127.0.0.1:9/ca"\n',
        encoding="utf-8",
    )
    return path


def test_dry_run_shows_redactions_and_blocked_elements(
    tmp_path: Path,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    doc = case_doc("05-disability-reenrolment.json")
    doc["consents"].append(school_consent())
    doc["plans"][0]["reenrolment_support"] += f"；母亲身份证 {RID}，电话 139-1234-5678"
    with Archive.create(db) as archive:
        number = store(archive, engine, doc)
        register_people(archive)
        monkeypatch.setenv("INTEROP_TOKEN", tokens(archive, "staff-01")["staff-01"])
    base = ["--db", db, "--config", str(_config(tmp_path))]
    share = [*base, "share", number, "--purpose", "school-support", "--to", "school-by-hand"]
    assert main([*share, "--dry-run"]) == 0
    out = capsys.readouterr()
    assert "free text: 2 span(s) of personal data redacted (phone 1, resident-id 1)" in out.err
    assert RID not in out.out + out.err and "1234-5678" not in out.out + out.err
    plans = [
        e["resource"]
        for e in json.loads(out.out)["entry"]
        if e["resource"]["resourceType"] == "CarePlan"
    ]
    text = plans[0]["extension"][0]["valueString"]
    assert text.endswith("；母亲身份证 [已隐去:身份证号]，电话 [已隐去:电话]")
    # a class name holding a phone number is wrong data: the policy blocks it
    doc["child"]["school"]["class_name"] = "三年级(2)班 班主任13812345678"
    doc["case"]["case_number"] = number[:-1] + ("8" if number[-1] != "8" else "7")
    with Archive.create(db) as archive:
        other = store(archive, engine, doc)
    share[share.index(number)] = other
    assert main([*share, "--dry-run"]) == 1
    out = capsys.readouterr()
    assert "refused: free text holds personal data the policy does not let out" in out.err
    assert "Patient.extension(school-enrolment).extension(class).valueString" in out.err
    assert "*******5678" in out.err and "13812345678" not in out.err and out.out == ""
