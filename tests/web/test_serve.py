"""``interop serve`` as its own process: binds 127.0.0.1 on the port asked (0: any), answers
/healthz, runs the background jobs on their cadence with their last run visible, refuses a
port in use with a plain message, and stops gracefully on SIGTERM (exit 0)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from web_support import sign_in

from interop.store import Archive
from staff_support import register_people


def _start(db: str, *extra: str) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTEROP_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "interop.cli", "--db", db, "serve", "--port", "0", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    assert found, line + (proc.stderr.read() if proc.stderr else "")
    return proc, found.group(0).rstrip("/")


def test_serve_runs_jobs_and_stops_gracefully(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    with Archive.create(db) as archive:
        register_people(archive)
    proc, base = _start(db, "--outbox-every", "0.2", "--poll-every", "0.2")
    try:
        assert requests.get(f"{base}/healthz", timeout=10).json() == {"status": "ok"}
        s = sign_in(base, "lead-01")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            page = s.get(f"{base}/jobs").text
            runs = [int(n) for n in re.findall(r"<td>\d+</td><td>(\d+)</td>", page)]
            if len(runs) == 2 and min(runs) >= 2:
                break
            time.sleep(0.2)
        assert len(runs) == 2 and min(runs) >= 2, page
        assert "发件箱投递" in page and "转介状态轮询" in page
        # A second server on the same port is refused in plain words.
        port = base.rsplit(":", 1)[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("INTEROP_")}
        clash = subprocess.run(
            [sys.executable, "-m", "interop.cli", "--db", db, "serve", "--port", port],
            capture_output=True, text=True, timeout=60, env=env,
        )  # fmt: skip
        assert clash.returncode == 2 and "E840" in clash.stderr
        assert "Traceback" not in clash.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "correct-horse" not in err
