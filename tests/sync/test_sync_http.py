"""The civil-affairs feed over real HTTP on 127.0.0.1: paging, retries, resume."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from child_lists import RECEIVED, good_row, run_cli

from interop.store import Archive

TOKEN = "test-token-not-secret"


class Feed:
    """What the fake civil-affairs server serves, and how it misbehaves."""

    def __init__(self, records: list[dict[str, str]]) -> None:
        self.records = records
        self.failures: dict[str, list[str]] = {}  # since → actions, consumed in order
        self.requests: list[str | None] = []


def _handler(feed: Feed) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(401, b'{"error": "unauthorised"}')
                return
            q = parse_qs(urlparse(self.path).query)
            since = q.get("since", [None])[0]
            feed.requests.append(since)
            actions = feed.failures.get(since or "0", [])
            action = actions.pop(0) if actions else None
            if action == "500":
                self._send(500, b"{}")
                return
            if action == "timeout":
                time.sleep(1.0)
                self._send(500, b"{}")
                return
            if action == "malformed":
                self._send(200, b'{"records": "oops", ')
                return
            start = int(since or 0)
            limit = int(q["limit"][0])
            page = feed.records[start : start + limit]
            end = start + len(page)
            body = {"records": page, "next_cursor": str(end), "more": end < len(feed.records)}
            self._send(200, json.dumps(body, ensure_ascii=False).encode())

    return Handler


@pytest.fixture()
def server() -> Iterator[tuple[str, Feed]]:
    records = [good_row(i) for i in range(1, 11)]
    records[4]["性别"] = "未知的"  # one bad record: quarantined, never blocks
    feed = Feed(records)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(feed))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/children", feed
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    # Secrets come from the environment, never from the file.
    monkeypatch.setenv("INTEROP_TEST_CA_TOKEN", TOKEN)


def _config(tmp_path: Path, url: str) -> str:
    path = tmp_path / "interop.toml"
    path.write_text(
        f'[partners.ca]\nkind = "civil-affairs"\nurl = "{url}"\n'
        'auth = { type = "bearer", token_env = "INTEROP_TEST_CA_TOKEN" }\n'
        "timeout = 0.3\nretries = 2\nbackoff = 0\npage_size = 3\n",
        "utf-8",
    )
    return str(path)


def _sync(db: str, config: str) -> tuple[int, Any]:
    return run_cli(
        "--db", db, "--config", config, "sync", "--partner", "ca", "--received", RECEIVED, "--json"
    )


def test_pages_retries_and_malformed_page(db_url: str, tmp_path: Path, server: Any) -> None:
    url, feed = server
    feed.failures = {"3": ["500"], "6": ["timeout"], "9": ["malformed"]}
    rc, rep = _sync(db_url, _config(tmp_path, url))
    assert rc == 0 and rep["status"] == "completed"
    assert (rep["rows"], rep["new"], rep["quarantined"]) == (10, 9, 1)
    assert rep["issues"][0]["row"] == 5 and rep["issues"][0]["code"] == "unknown-code"
    assert feed.requests == [None, "3", "3", "6", "6", "9", "9"]
    with Archive.open(db_url) as a:
        assert a.cursor("ca") == "10"
    # the next run asks only for what is new since the stored cursor
    feed.records.append(good_row(11))
    rc, rep = _sync(db_url, _config(tmp_path, url))
    assert rc == 0 and (rep["rows"], rep["new"]) == (1, 1)
    assert feed.requests[-1] == "10"


def test_failed_page_stops_cleanly_and_next_run_resumes(
    db_url: str, tmp_path: Path, server: Any
) -> None:
    url, feed = server
    feed.failures = {"6": ["500", "500", "500"]}  # 1 try + 2 retries, all failing
    rc, rep = _sync(db_url, _config(tmp_path, url))
    assert rc == 1 and rep["status"] == "failed"
    assert "resumes" in rep["message"]
    assert (rep["new"], rep["quarantined"]) == (5, 1)  # the two good pages are kept
    with Archive.open(db_url) as a:
        assert a.cursor("ca") == "6"
    rc, rep = _sync(db_url, _config(tmp_path, url))
    assert rc == 0 and feed.requests[-2:] == ["6", "9"]
    assert (rep["new"], rep["quarantined"]) == (4, 0)


def test_wrong_token_and_unknown_partner(
    tmp_path: Path, server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = server
    db = f"sqlite:///{tmp_path / 'a.db'}"
    monkeypatch.setenv("INTEROP_TEST_CA_TOKEN", "wrong")
    rc, rep = _sync(db, _config(tmp_path, url))
    assert rc == 1 and "check the token" in rep["message"]
    assert "wrong" not in rep["message"]
    monkeypatch.delenv("INTEROP_TEST_CA_TOKEN")
    rc, _ = _sync(db, _config(tmp_path, url))
    assert rc == 2  # the variable auth.token_env names is not set
    monkeypatch.setenv("INTEROP_TEST_CA_TOKEN", TOKEN)
    cfg = _config(tmp_path, url)
    assert run_cli("--db", db, "--config", cfg, "sync", "--partner", "nobody")[0] == 2
    assert run_cli("--db", db, "--config", cfg, "sync", "--partner", "ca", "--full")[0] == 2


def test_connection_refused_is_a_clean_failure(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    db = f"sqlite:///{tmp_path / 'a.db'}"
    rc, rep = _sync(db, _config(tmp_path, f"http://127.0.0.1:{port}/children"))
    assert rc == 1 and "could not connect" in rep["message"]
