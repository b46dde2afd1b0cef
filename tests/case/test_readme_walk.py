"""The README's walk of one case from listed to closed runs exactly as written, in bash,
on a fresh archive (its working folder has only the project's ``.venv`` and
``fixtures/``): the staff and their tokens are made first, each step acts as the
person of ``INTEROP_TOKEN``, the closure's warning is signed off by the supervisor."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START = "```sh\nexport INTEROP_DB=sqlite:///case-demo.sqlite3\n"


def walk() -> str:
    text = (ROOT / "README.md").read_text("utf-8")
    i = text.index(START) + len("```sh\n")
    return text[i : text.index("```\n", i)]


def test_the_readme_walk_runs_as_written(tmp_path: Path) -> None:
    if not (ROOT / ".venv" / "bin" / "interop").exists():
        pytest.skip("the project's .venv is not set up (bash scripts/setup.sh)")
    for name in (".venv", "fixtures"):
        (tmp_path / name).symlink_to(ROOT / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTEROP_")}
    env["LANG"] = "C.UTF-8"
    done = subprocess.run(
        ["bash", "-e", "-c", walk()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "listed → intake (T-02)" in out and "in-service → closed (T-16, T-17)" in out
    assert "signed off by staff-03" in out
    assert "Traceback" not in done.stderr
