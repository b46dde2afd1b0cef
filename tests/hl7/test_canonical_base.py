"""A province that hosts its own canonical base: what interop emits is under it (D-45, D-77).

With ``canonical_base`` set, every emitted Bundle (mapped cases, each purpose's share,
referral and crisis transactions) carries the province's base wherever ours would be, and
is valid — 0 errors — under the HL7 reference validator against the package built with
``interop package build --canonical-base`` of the same base. Needs Java 17+.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
from emitted import CASES, PARTNERS, ROOT, write_all

from interop.cli import main
from interop.config import load_config
from interop.engine import Engine
from interop.store import Archive

VALIDATOR = ROOT / "tools" / "hl7-validator" / "validate"
OTHER = "https://fhir.example-province.cn/dcmh"
OURS = "https://fhir.jxdcmh.cn"

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None and not os.environ.get("CI"),
    reason="Java 17+ is needed for the HL7 reference validator",
)


@pytest.fixture(scope="module")
def emitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    work = tmp_path_factory.mktemp("base")
    assert (
        main(["package", "build", "--out", str(work / "pkg.tgz"), "--canonical-base", OTHER]) == 0
    )
    with tarfile.open(work / "pkg.tgz") as tar:
        tar.extractall(work / "pkg", filter="data")
    folder = work / "bundles"
    folder.mkdir()
    (work / "partners.toml").write_text(PARTNERS, "utf-8")
    config = load_config(work / "partners.toml")
    # the first two fixtures: a case in service and a crisis (every purpose, both transactions)
    with Archive.create(f"sqlite:///{work / 'archive.sqlite3'}") as archive:
        paths = write_all(folder, Engine(canonical_base=OTHER), archive, config, CASES[:2])
    return work / "pkg" / "package", paths


def test_nothing_emitted_carries_our_base(emitted: tuple[Path, list[Path]]) -> None:
    _, paths = emitted
    kinds = {p.name.split("-")[0] for p in paths}
    assert kinds == {"map", "share", "referral", "crisis"}
    for path in paths:
        text = path.read_text("utf-8")
        assert OURS not in text, path.name
        assert f"{OTHER}/CodeSystem/" in text


def test_emitted_bundles_are_valid_against_the_package_of_that_base(
    emitted: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    package, paths = emitted
    proc = subprocess.run(
        [str(VALIDATOR), "--ig", str(package), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=1500,
        env={**os.environ, "HL7_VALIDATOR_HOME": str(tmp_path / "home")},
        check=False,
    )
    lines: list[dict[str, Any]] = [
        json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")
    ]
    assert len(lines) == len(paths), proc.stderr[-2000:]
    errors = {
        Path(r["file"]).name: [m["message"] for m in r["messages"] if m["severity"] == "error"][:3]
        for r in lines
        if r["error"]
    }
    assert errors == {}
    # the profiles of that base did run: every resource's claimed profile was found
    unknown = [m for r in lines for m in r["messages"] if "not found" in m["message"].lower()]
    assert unknown == []


def test_interop_map_writes_under_the_configured_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTEROP_CANONICAL_BASE", OTHER)
    out = tmp_path / "case.json"
    assert main(["map", str(CASES[0]), "--out", str(out)]) == 0
    text = out.read_text("utf-8")
    assert OURS not in text and f"{OTHER}/StructureDefinition/dc-patient" in text
