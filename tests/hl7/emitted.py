"""Every Bundle interop emits, written to a folder for the HL7 reference validator.

- each fixture case mapped (``interop map``);
- each purpose's share (every policy, every partner kind it serves) of every
  fixture case, built by the real Discloser as a preview (the exact bytes that
  would leave);
- each referral transaction (``hosp-referral``) and each crisis Bundle (the
  break-glass ``crisis`` share to a hospital as a transaction).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import orjson

from archive_support import store
from interop.config import Config
from interop.core.workdays import CHINA_TZ
from interop.engine import Engine
from interop.privacy.disclosure import Discloser
from interop.privacy.policy import load_policies
from interop.referral.bundle import ReferralSpec, build_transaction
from interop.store import Archive

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted((ROOT / "fixtures" / "cases").glob("*.json"))
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=CHINA_TZ)
#: One partner of each kind a policy serves; the hospital is known by its identifier.
PARTNERS = """
[partners.school]
kind = "school"
out_dir = "outbox/school"

[partners.community]
kind = "community"
out_dir = "outbox/community"

[partners.civil-affairs]
kind = "civil-affairs"
out_dir = "outbox/ca"

[partners.hospital]
kind = "hospital"
out_dir = "outbox/hospital"
"""
HOSPITAL_OWNER: dict[str, Any] = {
    "identifier": {"system": "urn:oid:2.16.156.10011.1.5", "value": "12360000491015462X"},
    "display": "江西省儿童医院",
}


def _consents(doc: dict[str, Any]) -> None:
    for topic in ("school-contact", "hosp-referral"):
        doc["consents"].append(
            {
                "id": f"consent-{topic}",
                "topic": topic,
                "status": "active",
                "grantor": "adult-01",
                "date": "2026-11-20",
                "period_start": "2026-11-20",
                "period_end": "2027-07-15",
                "child_assent": True,
            }
        )


def _write(folder: Path, name: str, bundle: dict[str, Any]) -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False, indent=1), "utf-8")
    return path


def write_all(
    folder: Path, engine: Engine, archive: Archive, config: Config, cases: list[Path] = CASES
) -> list[Path]:
    """Write every emitted Bundle of ``cases`` into ``folder``; the paths, one per Bundle.

    Each as it leaves: under the engine's ``canonical_base`` (as ``interop map`` writes it)."""
    out: list[Path] = []
    for case in cases:
        mapped = engine.map_file(case)
        assert mapped.ok and mapped.bundle is not None, case.name
        out.append(_write(folder, f"map-{case.stem}", engine.emitted(mapped.bundle)))
    discloser = Discloser(archive, engine, config, now=lambda: NOW)
    kinds = {p.kind: p.name for p in config.partners.values()}
    for case in cases:
        doc = json.loads(case.read_text("utf-8"))
        _consents(doc)
        number = store(archive, engine, doc)
        for policy in load_policies(terminology=engine.terminology).policies:
            for kind in policy.partner_kinds:
                if kind not in kinds:
                    continue
                d = discloser.request(
                    number,
                    purpose=policy.purpose,
                    partner=kinds[kind],
                    requester="staff-01",
                    reason_code="life-self" if policy.break_glass else None,
                    reason_text="紧急情况" if policy.break_glass else None,
                    dry_run=True,
                )
                if d.bundle is None:
                    continue
                stem = f"share-{case.stem[:2]}-{policy.purpose}-{kind}"
                out.append(_write(folder, stem, d.bundle))
                if kind == "hospital":
                    spec = ReferralSpec(
                        referral_id=f"R-{case.stem[:2]}-{policy.purpose}",
                        trigger="RT-01" if policy.break_glass else "RT-02",
                        trigger_display=None,
                        mode="concurrent",
                        reason="需精神科评估",
                        owner=HOSPITAL_OWNER,
                        authored_on="2026-11-30T10:00:00+08:00",
                    )
                    payload, _ = build_transaction(d.bundle, spec, base=engine.canonical_base)
                    tx = f"{'crisis' if policy.break_glass else 'referral'}-{case.stem[:2]}"
                    out.append(_write(folder, tx, orjson.loads(payload)))
    return out
