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


def _start(db: str, *extra: str, config: Path | None = None) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTEROP_")}
    chosen = ["--config", str(config)] if config else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "interop.cli", "--db", db, *chosen, "serve", "--port", "0",
         *extra],
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
    proc, base = _start(db, "--outbox-every", "0.2", "--poll-every", "0.2", "--remind-every", "0.2")
    try:
        assert requests.get(f"{base}/healthz", timeout=10).json() == {"status": "ok"}
        s = sign_in(base, "lead-01")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            page = s.get(f"{base}/jobs").text
            runs = [int(n) for n in re.findall(r"<td>\d+</td><td>(\d+)</td>", page)]
            if len(runs) == 3 and min(runs) >= 2:
                break
            time.sleep(0.2)
        assert len(runs) == 3 and min(runs) >= 2, page
        assert "发件箱投递" in page and "转介状态轮询" in page and "截止提醒" in page
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


class _SlowPartner:
    """A partner on 127.0.0.1 that takes its time to answer a delivery."""

    def __init__(self, delay: float) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.arrived = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.arrived.set()
                time.sleep(delay)
                body = b'{"resourceType": "OperationOutcome", "issue": []}'
                self.send_response(201)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/inbox"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_sigterm_lets_a_delivery_in_flight_finish(tmp_path: Path) -> None:
    """SIGTERM while the outbox job waits for a partner's answer: the delivery completes
    (delivered, not left ``sending``), then the console exits 0."""
    from interop.exchange.outbox import Outbox

    partner = _SlowPartner(delay=2.0)
    config = tmp_path / "partners.toml"
    config.write_text(f'[partners.school-slow]\nkind = "school"\nurl = "{partner.url}"\n')
    db = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    with Archive.create(db) as archive:
        register_people(archive)
        item = Outbox(archive).enqueue(
            partner="school-slow", kind="test", payload=b"{}", idempotency_key="slow-1"
        )
    proc, _base = _start(db, "--outbox-every", "0.2", config=config)
    try:
        assert partner.arrived.wait(30), "the outbox job never sent the delivery"
        proc.send_signal(signal.SIGTERM)  # while the partner is still answering
        _out, err = proc.communicate(timeout=60)
    finally:
        partner.close()
    assert proc.returncode == 0, err
    with Archive.open(db) as archive:
        assert Outbox(archive).get(item.id).status == "delivered"
