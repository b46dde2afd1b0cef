"""The compiled checks kept in the cache folder agree with a fresh compile.

The structure check's shapes and the profiles' parsed FHIRPath are compiled
once and read back by later runs; a kept copy must give exactly the verdicts
of compiling from the ``fhir.resources`` models and the profiles again.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interop.fhir import diskcache, fhirpath, shapes
from interop.fhir.structure import Structure, load_required_bindings
from interop.fhir.validate import Validator
from interop.resources import profiles_dir

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = sorted((ROOT / "tests" / "golden").glob("*.bundle.json"))
BINDINGS = profiles_dir() / "base" / "r4-required-bindings.json"


@pytest.fixture
def cache_folder(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "cache"
    diskcache.use_folder(folder)
    shapes.forget()
    fhirpath.forget()
    try:
        yield folder
    finally:
        diskcache.use_folder(None)
        shapes.forget()
        fhirpath.forget()


@pytest.fixture(scope="module")
def fresh_data() -> dict[str, Any]:
    """The shapes compiled from the models in this test (no cache involved)."""
    return shapes.compile_data()


def _seed(fresh_data: dict[str, Any]) -> None:
    """Put the fresh compile in the cache folder as a run would have left it
    (compiling takes seconds; one compile per module is enough)."""
    key = shapes.cache_key()
    diskcache.write(f"r4-shapes-{key}.json", {**fresh_data, "key": key})


def _bundles() -> list[dict[str, Any]]:
    """The golden Bundles and broken variants of them."""
    out: list[dict[str, Any]] = []
    for path in GOLDEN:
        bundle = json.loads(path.read_text("utf-8"))
        out.append(bundle)
        broken = copy.deepcopy(bundle)
        for i, entry in enumerate(broken["entry"]):
            resource = entry["resource"]
            if i % 3 == 0:
                resource["status"] = "not-a-status"
            elif i % 3 == 1:
                resource["unknownElement"] = True
            else:
                resource.pop("subject", None)
                resource["meta"] = {"profile": ["http://example.org/unknown"]}
        out.append(broken)
        rules = copy.deepcopy(bundle)  # well-formed, but breaking the profiles' invariants
        for entry in rules["entry"]:
            resource = entry["resource"]
            if resource["resourceType"] == "Consent":
                resource.pop("category", None)
            elif resource["resourceType"] == "Patient":
                for identifier in resource.get("identifier", []):
                    identifier["value"] = "12345"
        out.append(rules)
    return out


def _lines(issues: list[Any]) -> list[str]:
    return [issue.line() for issue in issues]


def test_kept_shapes_are_the_fresh_compile(cache_folder: Path, fresh_data: dict[str, Any]) -> None:
    kept = shapes.shapes_data()  # compiled and written to the folder
    files = list(cache_folder.glob("r4-shapes-*.json"))
    assert len(files) == 1
    shapes.forget()
    again = shapes.shapes_data()  # read back from the folder
    for data in (kept, again):
        assert {k: v for k, v in data.items() if k != "key"} == fresh_data
    # the graph rebuilt from the file writes back the same tables
    assert shapes.to_data(shapes.graph().by_class) == fresh_data


def test_kept_and_fresh_structure_checks_agree(
    cache_folder: Path, fresh_data: dict[str, Any]
) -> None:
    bindings = load_required_bindings(BINDINGS)
    _seed(fresh_data)
    kept = Structure.compile(bindings)  # from the file
    fresh = Structure(shapes.from_data(fresh_data, bindings))
    found_any = False
    for bundle in _bundles():
        expected = _lines(fresh.check(bundle))
        found_any = found_any or bool(expected)
        assert _lines(kept.check(bundle)) == expected
    assert found_any, "the broken Bundles must give issues"
    assert kept.unbound_paths() == fresh.unbound_paths()


def test_a_damaged_cache_file_is_compiled_again(
    cache_folder: Path, fresh_data: dict[str, Any]
) -> None:
    _seed(fresh_data)
    (kept,) = cache_folder.glob("r4-shapes-*.json")
    kept.write_text('{"key": "x", "types": [[1]]', "utf-8")
    shapes.forget()
    data = shapes.shapes_data()
    assert {k: v for k, v in data.items() if k != "key"} == fresh_data
    json.loads(kept.read_text("utf-8"))  # rewritten whole


def test_kept_fhirpath_gives_the_same_verdicts(
    cache_folder: Path, fresh_data: dict[str, Any]
) -> None:
    _seed(fresh_data)
    first = Validator.load()  # parses every invariant, writes them
    (kept,) = cache_folder.glob("fhirpath-*.json")
    expressions = json.loads(kept.read_text("utf-8"))
    assert len(expressions) >= 5
    fhirpath.forget()
    second = Validator.load()  # parses nothing
    diskcache.use_folder(None)
    fhirpath.forget()
    uncached = Validator.load()  # no folder: parses again
    found_invariant = False
    for bundle in _bundles():
        expected = _lines(uncached.validate(bundle))
        found_invariant = found_invariant or any("[dc-" in line for line in expected)
        assert _lines(first.validate(bundle)) == expected
        assert _lines(second.validate(bundle)) == expected
    assert found_invariant, "the broken Bundles must break an invariant"


def test_a_kept_expression_is_only_what_passed_the_check(cache_folder: Path) -> None:
    with pytest.raises(ValueError, match="unknown FHIRPath function"):
        fhirpath.compile_expression("name.noSuchFunction()")
    run = fhirpath.compile_expression("name.exists()")
    fhirpath.flush()
    (kept,) = cache_folder.glob("fhirpath-*.json")
    assert set(json.loads(kept.read_text("utf-8"))) == {"name.exists()"}
    assert run({"resourceType": "Patient", "name": [{"text": "x"}]}, {}) == [True]
