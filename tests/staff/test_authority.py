"""Approval authority comes from the staff register (G-16): a case record that names
someone supervisor makes nobody a supervisor; a supervisor of the register approves a
case they are not staff of; the requester never approves."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from archive_support import store
from interop._errors import InteropError
from interop.config import load_config
from interop.core.workdays import CHINA_TZ
from interop.engine import Engine
from interop.privacy.disclosure import Discloser
from interop.staff.register import Register
from interop.store import Archive
from staff_support import register_people

NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=CHINA_TZ)
CASES = Path(__file__).resolve().parents[2] / "fixtures" / "cases"


def test_the_register_not_the_case_record_decides(tmp_path: Path, engine: Engine) -> None:
    doc = json.loads((CASES / "05-disability-reenrolment.json").read_text("utf-8"))
    doc["consents"].append({"id": "consent-school", "topic": "school-contact",
                            "status": "active", "grantor": "adult-01", "date": "2026-09-01",
                            "period_end": "2027-07-15", "child_assent": True})  # fmt: skip
    # The imported record calls staff-02 a supervisor; the register says worker.
    for s in doc["staff"]:
        if s["id"] == "staff-02":
            s["role"] = "supervisor"
    cfg = tmp_path / "p.toml"
    cfg.write_text(f'[partners.s]\nkind = "school"\nout_dir = "{tmp_path.as_posix()}/o"\n', "utf-8")
    with Archive.create(f"sqlite:///{tmp_path / 'a.sqlite3'}") as archive:
        case = store(archive, engine, doc)
        register_people(archive, NOW.date())
        d = Discloser(archive, engine, load_config(cfg), now=lambda: NOW,
                      authority=Register(archive).active_roles)  # fmt: skip
        first = d.request(case, purpose="school-support", partner="s", requester="staff-01")
        assert first.status == "pending"
        with pytest.raises(InteropError) as err:
            d.approve(first.id, approver="staff-02")
        assert err.value.code == "E605"
        # The org lead of the register is on no case record and may approve.
        assert d.approve(first.id, approver="lead-01").status == "approved"
        second = d.request(case, purpose="school-support", partner="s", requester="staff-03")
        with pytest.raises(InteropError) as err:
            d.approve(second.id, approver="staff-03")
        assert "G-16" in err.value.message
