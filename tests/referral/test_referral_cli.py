"""The referral and outbox commands end to end, as separate processes, against the real server.

Includes the process killed between writing the outbox and sending (SIGKILL at
the fault point outbox.after-enqueue of the test entry point): the next
``interop outbox run`` delivers the referral once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from referral_support import CASE_FILE, HOSPITAL, case_doc, store, write_config

from interop.engine import Engine
from interop.referral.bundle import REFERRAL_SYSTEM
from interop.store import Archive
from staff_support import register_people, tokens

REASON = "持续幻听两周，需精神科评估"
FAULT_ENTRY = Path(__file__).resolve().parents[1] / "fault_entry.py"


class Cli:
    def __init__(self, db: str, config: Path) -> None:
        self.db = db
        self.config = config
        # Personal API tokens of the register's worker and supervisor (INTEROP_TOKEN).
        self.worker = self.supervisor = ""

    def __call__(
        self, *args: str, fault: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("INTEROP_")}
        full_env.update(env)
        cmd = [sys.executable, "-m", "interop.cli"]
        if fault is not None:  # the test entry point kills the process at this fault point
            cmd = [sys.executable, str(FAULT_ENTRY), fault, "--"]
        cmd += ["--db", self.db, "--config", str(self.config)]
        return subprocess.run(
            cmd + list(args), env=full_env, capture_output=True, text=True, timeout=120
        )

    def json(self, *args: str) -> Any:
        done = self(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@pytest.fixture
def cli(tmp_path: Path, fhir: Any, engine: Engine) -> Cli:
    db = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    with Archive.create(db) as a:
        store(a, engine, case_doc(CASE_FILE))
        register_people(a)
        signed = tokens(a, "staff-01", "staff-03")
    cli = Cli(db, write_config(tmp_path / "partners.toml", fhir.base_url))
    cli.worker, cli.supervisor = signed["staff-01"], signed["staff-03"]
    return cli


def test_create_approve_killed_then_outbox_run_delivers_once(cli: Cli, fhir: Any) -> None:
    made = cli("referral", "create", "JX0101-2025-00001", "--to", HOSPITAL,
               "--trigger", "RT-02", "--reason", REASON, INTEROP_TOKEN=cli.worker)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "under-review" in made.stdout
    assert REASON not in made.stdout + made.stderr  # the reason is never printed
    (ref,) = cli.json("referral", "list")
    assert ref["state"] == "under-review"

    # The supervisor approves; the approval event queues the referral in the archive of
    # --db (no environment), and the process is killed right after the outbox row is
    # written, before any network call.
    approved = cli("approve", ref["disclosure_id"], INTEROP_TOKEN=cli.supervisor,
                   fault="outbox.after-enqueue")  # fmt: skip
    assert approved.returncode == -signal.SIGKILL, approved.stderr
    box = cli.json("outbox", "list")
    assert [i["status"] for i in box["items"]] == ["pending"]
    assert fhir.search(f"Task?identifier={REFERRAL_SYSTEM}|{ref['id']}") == []

    ran = cli.json("outbox", "run")
    assert ran["delivered"] == 1
    assert cli.json("outbox", "run")["delivered"] == 0
    assert len(fhir.search(f"Task?identifier={REFERRAL_SYSTEM}|{ref['id']}")) == 1
    shown = cli.json("referral", "show", ref["id"])
    assert (shown["state"], shown["task_status"]) == ("handed-over", "requested")

    # The hospital accepts; an on-demand poll of that referral picks it up.
    (task,) = fhir.search(f"Task?identifier={REFERRAL_SYSTEM}|{ref['id']}")
    task.pop("meta")
    fhir.put({**task, "status": "accepted"})
    polled = cli.json("referral", "poll", ref["id"])
    assert polled["changed"] == 1
    text = cli("referral", "show", ref["id"])
    assert text.returncode == 0
    assert "requested→accepted" in text.stdout
    assert REASON not in text.stdout


def test_refusal_and_unknown_referral_exit_codes(cli: Cli, tmp_path: Path, engine: Engine) -> None:
    doc = case_doc(CASE_FILE, referral_consent=False)
    with Archive.create(cli.db) as a:
        store(a, engine, doc)  # a new version without the hospital-referral consent
    refused = cli("referral", "create", "JX0101-2025-00001", "--to", HOSPITAL,
                  "--trigger", "RT-02", "--reason", REASON, INTEROP_TOKEN=cli.worker)  # fmt: skip
    assert refused.returncode == 1
    assert "hosp-referral" in refused.stderr
    assert "Traceback" not in refused.stderr
    missing = cli("referral", "show", "REF-NOPE")
    assert missing.returncode == 2
    assert missing.stderr.startswith("interop: [E701]")


def test_pause_resume_and_not_accepted_in_cases_due(cli: Cli, fhir: Any) -> None:
    cli("referral", "create", "JX0101-2025-00001", "--to", HOSPITAL, "--trigger", "RT-05",
        "--reason", REASON, INTEROP_TOKEN=cli.worker)  # fmt: skip
    (ref,) = cli.json("referral", "list")
    assert cli("outbox", "pause", HOSPITAL, "--reason", "hospital maintenance").returncode == 0
    # No INTEROP_DB here: the hook cannot find the archive, and `outbox run` queues the
    # approved referral itself (the backstop).
    approved = cli("approve", ref["disclosure_id"], INTEROP_TOKEN=cli.supervisor)
    assert approved.returncode == 0, approved.stderr
    assert cli.json("outbox", "run")["delivered"] == 0
    assert fhir.counters()["requests"] == 0  # paused: not even an attempt
    listing = cli("outbox", "list")
    assert f"PAUSED {HOSPITAL}: hospital maintenance" in listing.stdout
    assert cli("outbox", "resume", HOSPITAL).returncode == 0
    assert cli.json("outbox", "run")["delivered"] == 1
    due = cli("cases", "due", "--json")
    assert due.returncode == 0, due.stderr
    data = json.loads(due.stdout)
    referrals = [item for item in data if item.get("rule") == "referral-accept"]
    assert [r["referral"] for r in referrals] == [ref["id"]]
    assert referrals[0]["case"] == "JX0101-2025-00001"
    assert referrals[0]["overdue"] is False


def test_anomalies_retry_and_cases_due(cli: Cli, fhir: Any) -> None:
    made = cli("referral", "create", "JX0101-2025-00001", "--to", HOSPITAL, "--trigger", "RT-02",
               "--reason", REASON, INTEROP_TOKEN=cli.worker)  # fmt: skip
    assert made.returncode == 0, made.stderr
    (ref,) = cli.json("referral", "list")
    approved = cli("approve", ref["disclosure_id"], INTEROP_TOKEN=cli.supervisor)
    assert approved.returncode == 0, approved.stderr
    assert cli.json("outbox", "run")["delivered"] == 1
    nothing = cli("referral", "retry", ref["id"])
    assert nothing.returncode == 1
    assert "no dead or refused delivery" in nothing.stderr
    assert "[E721]" in nothing.stderr
    (task,) = fhir.search(f"Task?identifier={REFERRAL_SYSTEM}|{ref['id']}")
    task.pop("meta")
    fhir.put({**task, "status": "accepted", "owner": {"display": "另一家医院"}})
    polled = cli("referral", "poll", "--force")
    assert polled.returncode == 0, polled.stderr
    assert "1 anomaly" in polled.stdout
    listed = cli("referral", "anomalies")
    assert ref["id"] in listed.stdout and "Task.owner is" in listed.stdout
    shown = cli("referral", "show", ref["id"])
    assert "ANOMALY" in shown.stdout
    assert REASON not in shown.stdout + listed.stdout
    due = json.loads(cli("cases", "due", "--json").stdout)
    assert [i["referral"] for i in due if i["rule"] == "referral-anomaly"] == [ref["id"]]
    text = cli("cases", "due")
    assert f"referral {ref['id']} at {HOSPITAL}" in text.stdout
