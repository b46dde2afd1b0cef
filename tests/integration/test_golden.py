"""Golden test: each fixture maps to exactly its expected Bundle.

Update the expectations after a deliberate change with
``pytest tests/integration/test_golden.py --update-golden`` and review the diff.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interop.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted((ROOT / "fixtures" / "cases").glob("*.json"))

GOLDEN = ROOT / "tests" / "golden"


@pytest.mark.parametrize("case_file", CASES, ids=[p.stem for p in CASES])
def test_fixture_maps_to_its_golden_bundle(
    case_file: Path, engine: Engine, request: pytest.FixtureRequest
) -> None:
    mapped = engine.map_file(case_file)
    assert mapped.ok, [i.line() for i in mapped.issues if i.severity == "error"]
    expected_file = GOLDEN / f"{case_file.stem}.bundle.json"
    text = json.dumps(mapped.bundle, ensure_ascii=False, indent=2) + "\n"
    if request.config.getoption("--update-golden"):
        expected_file.write_text(text, "utf-8")
    assert expected_file.exists(), f"no golden file: run with --update-golden ({expected_file})"
    assert json.loads(expected_file.read_text("utf-8")) == mapped.bundle


def test_there_are_six_or_more_fixtures() -> None:
    assert len(CASES) >= 6
