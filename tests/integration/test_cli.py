"""The command line: exit codes, rule IDs in messages, no personal data, no tracebacks."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from interop.cli import main
from interop.fhir import release

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted((ROOT / "fixtures" / "cases").glob("*.json"))
RULES = ROOT / "tests" / "data" / "cases" / "rule-breaking"
INVALID = ROOT / "tests" / "data" / "cases" / "invalid"

RULE_OF = {
    "plan-5-sessions": "R-7.2.1-03",
    "medium-risk-no-intervention": "R-6.1.1-05",
    "home-visit-one-staff": "R-7.3-17",
    "home-visit-not-notified": "R-7.3-16",
    "adult-at-intake": "R-3.1-01",
    "closure-other-instrument": "R-7.5.2-02",
    "session-without-consent": "R-7.2.3-01",
}


def _personal(case_file: Path) -> list[str]:
    """Strings that must never appear in output about this case."""
    data = json.loads(case_file.read_text("utf-8")) if case_file.suffix == ".json" else {}
    child = data.get("child", {}) if isinstance(data, dict) else {}
    values = [child.get("name"), child.get("resident_id")]
    values += [a.get("name") for a in data.get("adults", [])]
    return [v for v in values if v]


@pytest.mark.parametrize("case_file", CASES, ids=[p.stem for p in CASES])
def test_map_fixture_exit_0(
    case_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "b.json"
    assert main(["map", str(case_file), "--out", str(out)]) == 0
    bundle = json.loads(out.read_text("utf-8"))
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    assert main(["validate", str(out)]) == 0
    assert "valid" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(RULE_OF))
def test_map_rule_breaking_case_exit_1_names_requirement(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    case_file = RULES / f"{name}.json"
    assert main(["map", str(case_file)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # no Bundle is written for a case that breaks a rule
    assert RULE_OF[name] in captured.err
    for value in _personal(case_file):
        assert value not in captured.err


@pytest.mark.parametrize(
    ("name", "path", "code"),
    [
        ("wrong-check-digit", "child.resident_id", "check character"),
        ("birth-date-mismatch", "child.birth_date", "child.resident_id"),
        ("sex-mismatch", "child.sex", "child.resident_id"),
        ("unknown-code", "case.risk_level", "unknown code"),
        ("missing-child-name", "child.name", "required"),
        ("unknown-staff", "sessions[0].staff[0]", "unknown staff"),
    ],
)
def test_map_invalid_case_exit_1(
    name: str, path: str, code: str, capsys: pytest.CaptureFixture[str]
) -> None:
    case_file = INVALID / f"{name}.json"
    assert main(["map", str(case_file)]) == 1
    err = capsys.readouterr().err
    assert path in err and code in err
    for value in _personal(case_file):
        assert value not in err


def test_map_truncated_file_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["map", str(INVALID / "truncated.json")]) == 2
    err = capsys.readouterr().err
    assert "not valid JSON" in err and "Traceback" not in err


def test_map_missing_file_and_bad_format_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["map", "no/such/file.json"]) == 2
    assert main(["map", str(CASES[0]), "--format", "yaml"]) == 2
    assert "unknown format" in capsys.readouterr().err


def test_map_xml_round_trips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    xml = tmp_path / "b.xml"
    js = tmp_path / "b.json"
    assert main(["map", str(CASES[0]), "--format", "xml", "--out", str(xml)]) == 0
    assert main(["map", str(CASES[0]), "--out", str(js)]) == 0
    assert xml.read_bytes().startswith(b"<")
    assert release.loads_xml(xml.read_bytes()) == release.to_json(
        release.to_model(json.loads(js.read_text("utf-8")))
    )
    assert main(["validate", str(xml)]) == 0


def _golden_bundle() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (ROOT / "tests" / "golden" / "01-medium-in-service.bundle.json").read_text("utf-8")
    )
    return data


def _write(tmp_path: Path, resource: dict[str, Any]) -> str:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(resource, ensure_ascii=False), "utf-8")
    return str(path)


def _resources(bundle: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]


def test_validate_rejects_plan_with_5_sessions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = _golden_bundle()
    for plan in _resources(bundle, "CarePlan"):
        for act in plan["activity"]:
            act["detail"]["scheduledTiming"]["repeat"]["count"] = 5
    assert main(["validate", _write(tmp_path, bundle)]) == 1
    assert "R-7.2.1-03" in capsys.readouterr().out
    # the single resource, validated on its own, is rejected too
    plan = copy.deepcopy(_resources(bundle, "CarePlan")[0])
    assert main(["validate", _write(tmp_path, plan)]) == 1
    assert "R-7.2.1-03" in capsys.readouterr().out


def test_validate_rejects_home_visit_with_one_staff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    enc = copy.deepcopy(
        _resources(
            json.loads(
                (
                    ROOT / "tests" / "golden" / "03-home-visits-guardian-absent.bundle.json"
                ).read_text("utf-8")
            ),
            "Encounter",
        )
    )
    absent = [
        e
        for e in enc
        if any(
            x.get("url", "").endswith("home-visit-safety")
            and {"url": "guardianPresent", "valueBoolean": False} in x["extension"]
            for x in e["extension"]
        )
    ]
    assert absent
    one = absent[0]
    one["participant"] = one["participant"][:1]
    assert main(["validate", _write(tmp_path, one)]) == 1
    assert "R-7.3-17" in capsys.readouterr().out


def test_validate_unknown_resource_type_in_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = _golden_bundle()
    bundle["entry"].append({"fullUrl": "urn:uuid:x", "resource": {"resourceType": "Patiënt"}})
    assert main(["validate", _write(tmp_path, bundle)]) == 1
    out = capsys.readouterr().out
    assert "Patiënt" in out or "unknown" in out.lower()


def test_validate_json_prints_operation_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = _golden_bundle()
    _resources(bundle, "Patient")[0]["gender"] = "femail"
    assert main(["validate", "--json", _write(tmp_path, bundle)]) == 1
    oo = json.loads(capsys.readouterr().out)
    assert oo["resourceType"] == "OperationOutcome"
    assert any(i["severity"] == "error" for i in oo["issue"])


def test_validate_unusable_input_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", "utf-8")
    assert main(["validate", str(bad)]) == 2
    bad.write_text('{"no": "resourceType"}', "utf-8")
    assert main(["validate", str(bad)]) == 2


def test_entry_point_runs_without_traceback() -> None:
    exe = Path(sys.executable).with_name("interop")
    proc = subprocess.run(
        [str(exe), "map", str(INVALID / "wrong-check-digit.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "check character" in proc.stderr


@pytest.mark.parametrize("name", sorted(RULE_OF))
def test_validate_rejects_each_rule_breaking_bundle(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Bundle `interop map` refuses to write is also refused by `interop validate`."""
    from interop.engine import Engine

    engine = Engine()
    checked = engine.read_case(RULES / f"{name}.json")
    assert checked.record is not None and checked.ok
    bundle = engine.mappings.bundle(checked.record)  # mapped, not yet validated
    assert main(["validate", _write(tmp_path, bundle)]) == 1
    assert RULE_OF[name] in capsys.readouterr().out
