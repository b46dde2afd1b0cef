"""Helpers of the privacy tests (imported by conftest and the test modules)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from archive_support import store  # noqa: F401  (re-exported for the tests)
from interop.config import Config
from interop.core.workdays import CHINA_TZ
from interop.engine import Engine
from interop.privacy.disclosure import Discloser
from interop.store import Archive

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "fixtures" / "cases"
#: "Today" of the tests: inside the school policy's pre-approval quarter.
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=CHINA_TZ)
SCHOOL_CASE = "JX0104-2025-00005"  # 05-disability-reenrolment: in school, re-enrolment plan
CRISIS_CASE_FILE = "02-high-risk-crisis.json"


def case_doc(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CASES / name).read_text("utf-8"))
    return data


def school_consent(**changes: Any) -> dict[str, Any]:
    consent = {
        "id": "consent-school",
        "topic": "school-contact",
        "status": "active",
        "grantor": "adult-01",
        "date": "2026-11-20",
        "period_start": "2026-11-20",
        "period_end": "2027-07-15",
        "child_assent": True,
    }
    consent.update(changes)
    return {k: v for k, v in consent.items() if v is not None}


@dataclass
class Received:
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: list[int] = field(default_factory=list)  # statuses to answer, in order

    def bodies(self) -> list[bytes]:
        return [r["body"] for r in self.requests]


def make_discloser(archive: Archive, engine: Engine, config: Config, **kw: Any) -> Discloser:
    clock = kw.pop("now", NOW)
    return Discloser(archive, engine, config, now=lambda: clock, **kw)


class SignedIn:
    """Who the commands act for: the personal API token in INTEROP_TOKEN."""

    def __init__(self, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
        self.tokens, self.monkeypatch = tokens, monkeypatch

    def as_(self, staff_id: str) -> None:
        self.monkeypatch.setenv("INTEROP_TOKEN", self.tokens[staff_id])
