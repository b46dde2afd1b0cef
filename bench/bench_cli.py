"""Benchmark: how long the ``interop`` commands take for one case, as a user runs them.

Each command runs as its own process (``python -m interop.cli``), 5 times after
one warm-up run (which fills the compiled-check cache, as a first use does);
the table shows the median wall time and the median CPU time (user + system of
the child) beside the bare interpreter start. Targets: every command starts
(``--help``) in under 0.3 s; ``map``, ``validate``, ``share --dry-run`` and
``referral create --no-send`` of one case finish in under 0.5 s. On a shared
machine the wall time follows its load; the CPU time does not.

Usage: ``python -m bench.bench_cli [RUNS]`` (default 5). Everything is written
in a temporary folder (archive made by ``interop init``, the case's worker in its
staff register with a personal API token, configuration, cache); nothing is sent
(the hospital address is never contacted with ``--no-send``).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "fixtures" / "cases"
CASE = "05-disability-reenrolment.json"


def _case_doc() -> dict[str, object]:
    """The fixture case with consents for a school share and a hospital referral."""
    doc: dict[str, object] = json.loads((CASES / CASE).read_text("utf-8"))
    consents = doc["consents"]
    assert isinstance(consents, list)
    for cid, topic in (("consent-school", "school-contact"), ("consent-hosp", "hosp-referral")):
        consents.append(
            {
                "id": cid,
                "topic": topic,
                "status": "active",
                "grantor": "adult-01",
                "date": "2026-11-20",
                "period_start": "2026-11-20",
                "period_end": "2027-07-15",
                "child_assent": True,
            }
        )
    return doc


CONFIG = """
[partners.school-mingde]
kind = "school"
url = "http://127.0.0.1:9/inbox"
retries = 0

[partners.jx-childrens-hospital]
kind = "hospital-fhir"
base_url = "http://127.0.0.1:9/fhir"
owner = "Organization/jxch"
poll_minutes = 15
"""


def _sign_in(db: Path) -> str:
    """The archive's staff register: the case's worker (staff-01), qualified and screened
    as 5.2 asks, and their personal API token (``INTEROP_TOKEN``) the commands act for."""
    import datetime as dt

    from interop.staff.accounts import Accounts, create_first_admin
    from interop.staff.register import Register, qualification, screening
    from interop.store import Archive

    today = dt.date.today()
    with Archive.open(f"sqlite:///{db}") as archive:
        create_first_admin(archive, "adm-01", "管理员", "bench-password-not-secret")
        Register(archive, today=today).add(
            "staff-01",
            "测试人员",
            ["worker"],
            qualifications=[qualification("sw-mid", "2020-06-01")],
            screening=[screening((today - dt.timedelta(days=30)).isoformat(), "passed")],
            active_from="2025-01-01",
        )
        return Accounts(archive, today=today).issue_token("staff-01", days=1)[0]


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the child, exit code) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def main(runs: int = 5) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        work = Path(tmp)
        case_file = work / "case.json"
        case_file.write_text(json.dumps(_case_doc(), ensure_ascii=False), "utf-8")
        config = work / "partners.toml"
        config.write_text(CONFIG, "utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("INTEROP_")}
        env["XDG_CACHE_HOME"] = str(work / "cache")
        env["INTEROP_ORG_CODE"] = "JX0101"
        cli = [sys.executable, "-m", "interop.cli", "--db", str(work / "a.sqlite3")]
        cli += ["--config", str(config)]
        subprocess.run([*cli, "init"], env=env, capture_output=True, check=True)
        env["INTEROP_TOKEN"] = _sign_in(work / "a.sqlite3")
        imported = subprocess.run(
            [*cli, "import", str(case_file), "--json"], env=env, capture_output=True, text=True
        )
        if imported.returncode != 0:
            raise SystemExit(f"import failed: {imported.stderr}")
        case = json.loads(imported.stdout)[0]["case"]
        bundle = work / "bundle.json"
        subprocess.run([*cli, "map", str(case_file), "--out", str(bundle)], env=env, check=True)
        share = ["share", case, "--purpose", "school-support", "--to", "school-mingde"]
        refer = ["referral", "create", case, "--to", "jx-childrens-hospital", "--trigger"]
        refer += ["RT-02", "--reason", "bench", "--no-send"]
        rows: list[tuple[str, list[str]]] = [
            ("python -c pass (bare interpreter)", [sys.executable, "-c", "pass"]),
            ("interop --help", [*cli, "--help"]),
            ("interop share --help", [*cli, "share", "--help"]),
            ("interop map CASE_FILE", [*cli, "map", str(case_file), "--out", str(work / "o")]),
            ("interop validate BUNDLE", [*cli, "validate", str(bundle)]),
            ("interop share --dry-run", [*cli, *share, "--dry-run"]),
            ("interop referral create --no-send", [*cli, *refer]),
        ]
        print(f"{'command':<38} {'wall (median)':>14} {'CPU (median)':>13}  exit")
        for label, cmd in rows:
            _run(cmd, env)  # warm-up: fills the cache folder, as a first use does
            results = [_run(cmd, env) for _ in range(runs)]
            wall = statistics.median(r[0] for r in results)
            cpu = statistics.median(r[1] for r in results)
            codes = sorted({r[2] for r in results})
            print(f"{label:<38} {wall:>12.3f} s {cpu:>11.3f} s  {codes}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
