"""Helpers of the referral tests: a case with a hospital-referral consent, a configuration."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from archive_support import store  # noqa: F401  (re-exported for the tests)
from interop.config import Config, load_config
from interop.core.workdays import CHINA_TZ
from interop.engine import Engine
from interop.privacy.disclosure import Discloser
from interop.referral.bundle import REFERRAL_SYSTEM
from interop.referral.lifecycle import Referrals
from interop.store import Archive

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "fixtures" / "cases"
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=CHINA_TZ)
CASE_FILE = "01-medium-in-service.json"  # staff-01 worker (care manager), staff-03 supervisor
CRISIS_FILE = "02-high-risk-crisis.json"  # an active crisis
HOSPITAL = "jx-childrens-hospital"
#: The hospital's identifier (Task.owner names it by identifier, not by an id at its server).
HOSPITAL_ID = "https://hospital.example/sid/org|JXCH"


def case_doc(name: str, *, referral_consent: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((CASES / name).read_text("utf-8"))
    if referral_consent:
        doc["consents"].append(
            {
                "id": "consent-hosp",
                "topic": "hosp-referral",
                "status": "active",
                "grantor": "adult-01",
                "date": "2026-11-20",
                "period_start": "2026-11-20",
                "period_end": "2027-11-19",
                "child_assent": True,
            }
        )
    return doc


def write_config(path: Path, base_url: str, **extra: Any) -> Path:
    """The hospital partner at ``base_url``; ``extra`` keys replace or add settings."""
    lines = [
        f"[partners.{HOSPITAL}]",
        'kind = "hospital-fhir"',
        f'base_url = "{base_url}"',
        f'owner_identifier = "{HOSPITAL_ID}"',
        "poll_minutes = 15",
        "retry_base = 0.05",
        "retry_cap = 0.2",
        "timeout = 5",
    ]
    lines = [x for x in lines if x.split(" = ")[0] not in extra]
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def referrals(archive: Archive, engine: Engine, config: Config) -> Referrals:
    discloser = Discloser(archive, engine, config, now=lambda: NOW)
    return Referrals(archive, config, engine=engine, discloser=discloser)


def config_at(path: Path) -> Config:
    return load_config(path)


def task_of(fhir: Any, referral_id: str) -> dict[str, Any]:
    """The referral's Task at the hospital (found by our identifier)."""
    (task,) = fhir.search(f"Task?identifier={REFERRAL_SYSTEM}|{referral_id}")
    return dict(task)


def hospital_sets(fhir: Any, referral_id: str, status: str, **more: Any) -> dict[str, Any]:
    """The test acting as the hospital: move the referral's Task (and change ``more``)."""
    time.sleep(0.005)  # distinct meta.lastUpdated
    task = task_of(fhir, referral_id)
    task.update(status=status, **more)
    task.pop("meta", None)
    return dict(fhir.put(task))
