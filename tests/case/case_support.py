"""Helpers of the case-work tests: fixture records, a record in a given state, the CLI."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from interop.caserecord import build_part
from interop.casework.stepper import Context, Stepper
from interop.cli import main
from interop.clock import FixedClock
from interop.core.record import CaseRecord
from interop.core.workdays import WorkCalendar
from interop.store import Archive
from staff_support import PEOPLE, register_people, tokens

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "fixtures" / "cases"
FORMS = ROOT / "fixtures" / "casework"
LISTED = FORMS / "listed.json"
LISTED_CASE = "JX0409-2026-00106"
IN_SERVICE = "01-medium-in-service.json"


def doc(name: str) -> dict[str, Any]:
    """A fixture case-record document (fixtures/cases/NAME or fixtures/casework/NAME)."""
    path = CASES / name if (CASES / name).exists() else FORMS / name
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def record(name: str, **case: Any) -> CaseRecord:
    """A typed fixture record, with ``case`` fields replaced."""
    d = copy.deepcopy(doc(name))
    d["case"].update(case)
    rec: CaseRecord = build_part(CaseRecord, d)
    return rec


_CALENDAR: list[WorkCalendar] = []


def calendar() -> WorkCalendar:
    if not _CALENDAR:
        _CALENDAR.append(WorkCalendar.load())
    return _CALENDAR[0]


def stepper(
    rec: CaseRecord, action: str, *, carried: set[str] | None = None, today: str = "2026-03-01"
) -> Stepper:
    """A Stepper over ``rec``; the worker carries the cases ``carried``."""
    open_cases = carried or set()
    ctx = Context(lambda _w: set(open_cases), calendar(), dt.date.fromisoformat(today))
    return Stepper(rec, action, ctx)


def session_data(**over: Any) -> dict[str, Any]:
    """An Annex C that breaks no rule on the in-service fixture (a week after its last)."""
    base = copy.deepcopy(doc(IN_SERVICE)["sessions"][0])
    for k in ("id", "number"):
        base.pop(k)
    base.update(
        start="2025-12-31T14:30:00+08:00",
        end="2025-12-31T16:00:00+08:00",
        record_date="2025-12-31",
    )
    base.update(over)
    return base


def last_session_day(rec: CaseRecord) -> str:
    return max(s.start for s in rec.sessions)[:10]


class Cli:
    """``interop`` in this process, on one archive with the tests' staff register; acts as
    the person of ``INTEROP_TOKEN`` (:meth:`as_`, staff-01 the worker at first) on the
    settings' clock (:meth:`on`); returns (exit code, stdout, stderr)."""

    def __init__(
        self, db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.db = db
        self.capsys = capsys
        self.monkeypatch = monkeypatch
        self.clock: FixedClock | None = None
        with Archive.create(db) as archive:  # as `interop init` does: only init makes one
            register_people(archive)
            self.tokens = tokens(archive, *PEOPLE)
        self.as_("staff-01")

    def as_(self, staff_id: str) -> Cli:
        """Act as ``staff_id`` from now on (their personal API token)."""
        self.monkeypatch.setenv("INTEROP_TOKEN", self.tokens[staff_id])
        return self

    def on(self, day: str) -> Cli:
        """The settings' clock at noon of ``day`` (China time)."""
        self.clock = FixedClock(dt.datetime.fromisoformat(f"{day}T12:00:00+08:00"))
        return self

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(["--db", self.db, *args], clock=self.clock)
        out = self.capsys.readouterr()
        return code, out.out, out.err

    def json(self, *args: str) -> Any:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)
