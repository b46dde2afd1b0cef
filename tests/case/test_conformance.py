"""docs/conformance.md: one row per requirement ID, a known status, tests that exist,
and every requirement ID cited in the code, tests and messages resolves there."""

from __future__ import annotations

import re
from collections import Counter

from case_support import ROOT

from interop.core.caserules import RULES

STATUSES = {"enforced", "tested", "partly", "recorded", "out of scope", "open"}
ID = r"(?:R-(?:\d+(?:\.\d+)*|[A-D])-\d{2}|DL-\d{2}|CL-\d{2})"
GID = r"G-\d{2}"


def rows() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in (ROOT / "docs" / "conformance.md").read_text("utf-8").splitlines():
        m = re.match(rf"^\| ({ID}) \|", line)
        if m:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            assert m.group(1) not in out, f"{m.group(1)} twice"
            out[m.group(1)] = cells
    return out


def test_every_row_has_a_rule_a_status_and_a_reason() -> None:
    table = rows()
    assert len(table) >= 170
    for rid, (_, rule, status, where, test) in table.items():
        assert rule and status in STATUSES, rid
        if status != "recorded":
            assert where and where != "—", f"{rid}: say where, or why not"
        if status in ("enforced", "tested"):
            assert test != "—", f"{rid}: name the test"


def test_at_least_110_enforced_or_tested() -> None:
    counts = Counter(cells[2] for cells in rows().values())
    assert counts["enforced"] + counts["tested"] >= 110, counts


def test_cited_tests_exist() -> None:
    for rid, cells in rows().items():
        for ref in re.findall(r"([a-z_/]+\.py)(?:::([a-z0-9_]+))?", cells[4]):
            path, name = ROOT / "tests" / ref[0], ref[1]
            assert path.exists(), f"{rid}: {ref[0]}"
            if name:
                assert f"def {name}(" in path.read_text("utf-8"), f"{rid}: {ref[0]}::{name}"


def test_every_id_cited_in_code_and_tests_resolves() -> None:
    known = set(rows())
    cited: set[str] = set()
    for folder in ("src", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "test_validate.py":
                continue  # the validator's tests use a made-up profile with made-up IDs
            cited |= set(re.findall(rf"(?<![\w-]){ID}(?![\d])", path.read_text("utf-8")))
    assert cited - known == set()


def test_every_rule_of_the_catalogue_is_on_the_page() -> None:
    known = set(rows())
    assert {r.req for r in RULES.values() if not r.req.startswith("G-")} <= known


def test_every_decision_id_cited_resolves() -> None:
    text = (ROOT / "docs" / "conformance.md").read_text("utf-8")
    known = set(re.findall(rf"^\| ({GID}) \|", text, re.M))
    assert len(known) == 34
    cited: set[str] = set()
    for folder in ("src", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            cited |= set(re.findall(rf"(?<![\w-]){GID}(?![\d])", path.read_text("utf-8")))
    assert cited - known == set()
