"""Start, drive and stop the test FHIR server (``tests/fhirserver/server.mjs``).

The server is Medplum's FHIR router over its in-memory repository, run by
node on 127.0.0.1 with an ephemeral port. ``npm install`` runs here when
``node_modules`` is missing. Without node or npm the tests that need the
server are skipped with the reason — except under ``CI``, where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent


class FhirServer:
    """A running test server: its base URL, FHIR helpers and the fault controls."""

    def __init__(self, proc: subprocess.Popen[str], port: int) -> None:
        self.proc = proc
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}/"

    # -- plain FHIR (the test acting as the hospital) -------------------------

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.base_url + path.lstrip("/"),
            data=data,
            method=method,
            headers={"content-type": "application/fhir+json", "accept": "application/fhir+json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=20) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            with exc:
                raw = exc.read()
            return exc.code, json.loads(raw) if raw else None

    def get(self, path: str) -> Any:
        status, body = self.request("GET", path)
        assert status == 200, (status, body)
        return body

    def put(self, resource: dict[str, Any]) -> dict[str, Any]:
        status, body = self.request("PUT", f"{resource['resourceType']}/{resource['id']}", resource)
        assert status in (200, 201), (status, body)
        assert isinstance(body, dict)
        return body

    def post(self, resource: dict[str, Any]) -> dict[str, Any]:
        status, body = self.request("POST", resource["resourceType"], resource)
        assert status == 201, (status, body)
        assert isinstance(body, dict)
        return body

    def search(self, query: str) -> list[dict[str, Any]]:
        bundle = self.get(query)
        return [e["resource"] for e in bundle.get("entry", [])]

    # -- controls -------------------------------------------------------------

    def control(self, **cmd: Any) -> dict[str, Any]:
        status, body = self.request("POST", "$control", cmd)
        assert status in (200, 202), (status, body)
        assert isinstance(body, dict)
        return body

    def counters(self) -> dict[str, Any]:
        status, body = self.request("GET", "$control")
        assert status == 200
        assert isinstance(body, dict)
        return body

    def fail_next(self, n: int, status: int = 500, outcome: str = "injected failure") -> None:
        self.control(fail=n, status=status, outcome=outcome)

    def delay_next(self, ms: int, count: int = 1) -> None:
        self.control(delay_ms=ms, count=count)

    def down_for(self, ms: int) -> None:
        self.control(down_ms=ms)

    def wait_up(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.counters()
                return
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def reset(self) -> None:
        self.control(reset=True)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def ensure_installed() -> str:
    """The node executable, after ``npm install`` when node_modules is missing."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        _unavailable("node and npm are needed for the test FHIR server (tests/fhirserver)")
    assert node is not None and npm is not None
    if not (HERE / "node_modules" / "@medplum" / "fhir-router").is_dir():
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent"],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            _unavailable(f"npm install in tests/fhirserver failed: {done.stderr.strip()[-500:]}")
    return node


def start(env: dict[str, str] | None = None, timeout: float = 60) -> FhirServer:
    """Start a server on an ephemeral port and wait until it answers."""
    node = ensure_installed()
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(
            [node, str(HERE / "server.mjs"), "0"],
            cwd=HERE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env={**os.environ, **(env or {})},
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()  # "listening <port>" once the definitions are indexed
        if not line.startswith("listening "):
            proc.kill()
            proc.wait()
            proc.stdout.close()
            errors.seek(0)
            raise RuntimeError(
                f"the test FHIR server did not start: {line!r} {errors.read()[-1000:]}"
            )
    server = FhirServer(proc, int(line.split()[1]))
    server.wait_up(timeout)
    return server


def serve() -> Iterator[FhirServer]:
    """Body of the session fixture: start, yield, stop."""
    server = start()
    try:
        yield server
    finally:
        server.stop()
