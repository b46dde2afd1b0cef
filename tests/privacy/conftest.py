"""Fixtures of the privacy tests: a real archive (SQLite file or PostgreSQL schema),
the bundled cases imported into it, a partners configuration and a real HTTP
server on 127.0.0.1 that records what a school receives."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from privacy_support import (
    Received,
    SignedIn,
    case_doc,
    make_discloser,
    school_consent,
    store,
)

from interop.config import Config, load_config
from interop.engine import Engine
from interop.privacy.disclosure import Discloser
from interop.store import Archive
from staff_support import register_people, tokens


@pytest.fixture
def school_server() -> Iterator[tuple[str, Received]]:
    """A real HTTP server on 127.0.0.1 (ephemeral port) that records every POST."""
    received = Received()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            received.requests.append(
                {"path": self.path, "headers": dict(self.headers.items()), "body": body}
            )
            status = received.status.pop(0) if received.status else 201
            self.send_response(status)
            if status < 300:
                self.send_header("Location", "/inbox/receipt-1")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def config_file(tmp_path: Path, school_server: tuple[str, Received]) -> Path:
    url, _ = school_server
    path = tmp_path / "partners.toml"
    path.write_text(
        f"""
[partners.school-mingde]
kind = "school"
url = "{url}/inbox"
auth = {{ type = "bearer", token_env = "INTEROP_TEST_SCHOOL_TOKEN" }}
retries = 1
backoff = 0

[partners.school-by-hand]
kind = "school"
out_dir = "outbox/school"

[partners.village-shangwan]
kind = "community"
url = "{url}/village"

[partners.village-by-hand]
kind = "community"
out_dir = "outbox/village"

[partners.ca-qingshanhu]
kind = "civil-affairs"
url = "{url}/ca"
share_url = "{url}/ca-inbox"

[partners.ca-by-hand]
kind = "civil-affairs"
out_dir = "outbox/ca"

[partners.ca-flaky]
kind = "civil-affairs"
share_url = "{url}/ca-inbox"
max_attempts = 2
retry_base = 0

[partners.hospital-psy]
kind = "hospital-fhir"
base_url = "{url}/fhir"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def config(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("INTEROP_TEST_SCHOOL_TOKEN", "test-token-not-secret")
    return load_config(config_file, secrets={"INTEROP_TEST_SCHOOL_TOKEN": "test-token-not-secret"})


@pytest.fixture
def archive(db_url: str) -> Iterator[Archive]:
    with Archive.create(db_url) as a:
        yield a


@pytest.fixture
def sqlite_archive(tmp_path: Path) -> Iterator[Archive]:
    with Archive.create(f"sqlite:///{tmp_path / 'archive.sqlite3'}") as a:
        yield a


@pytest.fixture
def school_case(archive: Archive, engine: Engine) -> str:
    doc = case_doc("05-disability-reenrolment.json")
    doc["consents"].append(school_consent())
    return store(archive, engine, doc)


@pytest.fixture
def discloser(archive: Archive, engine: Engine, config: Config) -> Discloser:
    return make_discloser(archive, engine, config)


@pytest.fixture
def people(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> SignedIn:
    """The staff register; commands act for the case's worker unless a test says otherwise."""
    register_people(archive)
    signed = SignedIn(tokens(archive, "staff-01", "staff-03"), monkeypatch)
    signed.as_("staff-01")
    return signed
