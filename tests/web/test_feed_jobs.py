"""Scheduled civil-affairs feeds (定时名单同步) against a real feed server on 127.0.0.1: the
console's job syncs each declared feed on its ``sync_minutes`` through the entry points of
``interop sync``; a full list that would delist past the guard is the job's error (on 后台任务
and 名单同步), delists nobody, and does not stop the console."""

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
import sqlalchemy as sa
from web_support import serving, sign_in

from interop.config import Config, load_config
from interop.store import Archive
from interop.store import schema as t
from interop.web.context import Console
from interop.web.jobs import Job, Jobs
from staff_support import register_people
from sync.child_lists import good_row

TOKEN = "feed-token-not-secret"


class FeedServer:
    """A civil-affairs list feed: pages of ``records`` from the cursor ``since``."""

    def __init__(self, records: list[dict[str, str]]) -> None:
        self.records = records
        self.requests = 0
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self.send_response(401)
                    self.end_headers()
                    return
                feed.requests += 1
                q = parse_qs(urlparse(self.path).query)
                start, limit = int(q.get("since", ["0"])[0]), int(q["limit"][0])
                page = feed.records[start : start + limit]
                end = start + len(page)
                body = json.dumps(
                    {"records": page, "next_cursor": str(end), "more": end < len(feed.records)},
                    ensure_ascii=False,
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/children"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def feed() -> Iterator[FeedServer]:
    records = [good_row(i) for i in range(1, 11)]
    records[4]["性别"] = "未知的"  # one bad record: quarantined
    server = FeedServer(records)
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    with Archive.create(f"sqlite:///{tmp_path / 'feed.sqlite3'}") as a:
        register_people(a)
        yield a


def _config(tmp_path: Path, url: str, extra: str) -> Config:
    path = tmp_path / "partners.toml"
    path.write_text(
        f'[partners.ca]\nkind = "civil-affairs"\nurl = "{url}"\npage_size = 3\n'
        'auth = { type = "bearer", token_env = "FEED_TEST_TOKEN" }\n' + extra,
        "utf-8",
    )
    return load_config(path, secrets={"FEED_TEST_TOKEN": TOKEN})


def _feed_job(jobs: Jobs) -> Job:
    return next(j for j in jobs.jobs if j.name == "feed:ca")


def _listed(archive: Archive) -> tuple[int, int]:
    c = t.children.c
    with archive.engine.connect() as conn:
        rows = conn.execute(sa.select(c.status, sa.func.count()).group_by(c.status)).all()
    counts = dict(rows)
    return counts.get("listed", 0), counts.get("delisted", 0)


def test_a_feed_is_synced_on_its_cadence(
    archive: Archive, feed: FeedServer, tmp_path: Path
) -> None:
    config = _config(tmp_path, feed.url, "sync_minutes = 0.005\n")  # every 0.3 s
    console = Console(archive, config)
    console.jobs = jobs = Jobs.standard(console, outbox_every=600, poll_every=600)
    job = _feed_job(jobs)
    assert job.every == pytest.approx(0.3)
    jobs.start()
    try:
        deadline = time.monotonic() + 60
        while job.runs < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert job.last_error is None, job.last_error
        assert job.last_result == {"rows": 10, "new": 9, "changed": 0, "unchanged": 0,
                                   "delisted": 0, "quarantined": 1}  # fmt: skip
        feed.records.append(good_row(11))  # the next run asks only for what is new
        while (job.runs < 3 or job.last_result.get("new") != 0) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert job.runs >= 3 and job.last_error is None
    finally:
        jobs.stop()
    assert _listed(archive) == (10, 0)
    with archive.engine.connect() as conn:
        sources = conn.execute(sa.select(t.sync_runs.c.source)).scalars().all()
    assert set(sources) == {"partner:ca"}


def test_a_full_feed_never_delists_past_the_guard(
    archive: Archive, feed: FeedServer, tmp_path: Path
) -> None:
    config = _config(tmp_path, feed.url, "sync_minutes = 60\nfull = true\n")
    console = Console(archive, config)
    console.jobs = jobs = Jobs.standard(console, outbox_every=600, poll_every=600)
    job = _feed_job(jobs)
    job.run_once()
    assert job.last_error is None and job.last_result["new"] == 9
    assert _listed(archive) == (9, 0)
    # The partner's export is cut short: 3 of the 10 children. As a full list it would
    # delist 6 of 9 (67 % > 10 %): the guard refuses, the job reports it, nobody is delisted.
    del feed.records[3:]
    job.run_once()
    assert job.errors == 1 and job.last_error is not None
    assert job.last_error.startswith("feed ca: sync refused: --full would delist 6 of the 9")
    assert _listed(archive) == (9, 0)
    with serving(console) as base:
        s = sign_in(base, "lead-01")
        jobs_page = s.get(f"{base}/jobs").text
        assert "feed:ca" in jobs_page and "would delist 6 of the 9" in jobs_page
        sync_page = s.get(f"{base}/sync").text
        assert "定时名单同步" in sync_page and "would delist 6 of the 9" in sync_page
        assert s.get(f"{base}/healthz").status_code == 200
    with archive.engine.connect() as conn:
        statuses = (
            conn.execute(sa.select(t.sync_runs.c.status).order_by(t.sync_runs.c.started_at))
            .scalars()
            .all()
        )
    assert statuses == ["completed", "refused"]


def test_allow_delist_lets_a_full_feed_delist(
    archive: Archive, feed: FeedServer, tmp_path: Path
) -> None:
    config = _config(tmp_path, feed.url, 'full = true\nallow_delist = "100%"\n')
    console = Console(archive, config)
    job = _feed_job(Jobs.standard(console, outbox_every=600, poll_every=600))
    assert job.every == 1440 * 60  # daily unless said otherwise
    job.run_once()
    del feed.records[3:]
    job.run_once()
    assert job.last_error is None and job.last_result["delisted"] == 6
    assert _listed(archive) == (3, 6)


@pytest.mark.parametrize(
    ("extra", "key"),
    [("sync_minutes = -1\n", "sync_minutes"), ('sync_minutes = "hourly"\n', "sync_minutes"),
     ('full = "yes"\n', "full"), ('full = true\nallow_delist = "lots"\n', "allow_delist")],
)  # fmt: skip
def test_unusable_feed_settings_are_refused_at_start(
    archive: Archive, tmp_path: Path, extra: str, key: str
) -> None:
    from interop._errors import ConfigError

    console = Console(archive, _config(tmp_path, "http://127.0.0.1:9/children", extra))
    with pytest.raises(ConfigError) as err:
        Jobs.standard(console, outbox_every=600, poll_every=600)
    assert err.value.code == "E851" and f"partner ca: '{key}'" in err.value.message


def test_sync_minutes_0_schedules_nothing_and_shares_still_configure(
    archive: Archive, tmp_path: Path
) -> None:
    extra = 'sync_minutes = 0\nfull = true\nallow_delist = "5%"\n'
    extra += f'out_dir = "{(tmp_path / "ca-out").as_posix()}"\n'
    config = _config(tmp_path, "http://127.0.0.1:9/children", extra)
    jobs = Jobs.standard(Console(archive, config), outbox_every=600, poll_every=600)
    assert [j.name for j in jobs.jobs] == ["outbox", "referral-poll", "deadline-reminders"]
    # The feed's keys do not trouble the civil-affairs share carrier (oversight shares).
    from interop.exchange.plugins import Plugins

    partner = config.partner("ca")
    carrier = Plugins().partner_kinds()["civil-affairs"]("ca", {"kind": "civil-affairs",
                                                                **partner.settings})  # fmt: skip
    carrier.close()
