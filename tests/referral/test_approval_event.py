"""A supervisor's approval reaches the referral waiting on it through exchange's approval
event, in the archive the command was given (``--db``) — not through a plugin that finds
the archive in the environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from referral_support import CASE_FILE, HOSPITAL, case_doc, store, write_config

from interop.cli import main
from interop.engine import Engine
from interop.store import Archive
from staff_support import register_people, tokens


def test_approve_queues_the_waiting_referral_in_the_given_archive(
    tmp_path: Path,
    fhir: Any,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("INTEROP_DB", raising=False)
    monkeypatch.delenv("INTEROP_CONFIG", raising=False)
    db = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    with Archive.create(db) as a:
        store(a, engine, case_doc(CASE_FILE))
        register_people(a)
        signed = tokens(a, "staff-01", "staff-03")
    base = ["--db", db, "--config", str(write_config(tmp_path / "p.toml", fhir.base_url))]
    create = ["referral", "create", "JX0101-2025-00001", "--to", HOSPITAL, "--trigger", "RT-05"]
    monkeypatch.setenv("INTEROP_TOKEN", signed["staff-01"])
    assert main([*base, *create, "--reason", "评估", "--json"]) == 0
    ref = json.loads(capsys.readouterr().out)
    assert ref["state"] == "under-review"
    assert main([*base, "outbox", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["items"] == []
    monkeypatch.setenv("INTEROP_TOKEN", signed["staff-03"])
    assert main([*base, "approve", ref["disclosure_id"]]) == 0
    capsys.readouterr()
    assert main([*base, "outbox", "list", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)["items"]
    assert [(i["kind"], i["ref"], i["status"]) for i in items] == [
        ("referral", ref["id"], "pending")
    ]
    assert fhir.counters()["requests"] == 0  # queued, not sent: `outbox run` sends it
