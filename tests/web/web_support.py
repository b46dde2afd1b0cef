"""Helpers of the console tests: a staff register with one person per role, the bundled
school case in a real archive, and ``interop serve``'s app on 127.0.0.1 (ephemeral port)."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from archive_support import store
from interop.config import Config, load_config
from interop.core.workdays import CHINA_TZ
from interop.engine import Engine
from interop.staff.accounts import Accounts
from interop.store import Archive
from interop.web.context import Console
from interop.web.server import bind, make_server
from staff_support import PASSWORD, PEOPLE, register_people  # noqa: F401  (re-exported)

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "fixtures" / "cases"
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=CHINA_TZ)
SCHOOL_CASE = "JX0104-2025-00005"


def school_case(archive: Archive, engine: Engine) -> str:
    doc: dict[str, Any] = json.loads((CASES / "05-disability-reenrolment.json").read_text("utf-8"))
    doc["consents"].append(
        {
            "id": "consent-school",
            "topic": "school-contact",
            "status": "active",
            "grantor": "adult-01",
            "date": "2026-09-01",
            "period_start": "2026-09-01",
            "period_end": "2027-07-15",
            "child_assent": True,
        }
    )
    return store(archive, engine, doc)


def write_config(tmp_path: Path) -> Config:
    path = tmp_path / "partners.toml"
    out = tmp_path / "school-out"
    path.write_text(
        f"""
[partners.school-mingde]
kind = "school"
out_dir = "{out.as_posix()}"
""",
        encoding="utf-8",
    )
    return load_config(path)


@contextmanager
def serving(console: Console) -> Iterator[str]:
    """``interop serve``'s server in a thread on 127.0.0.1:0; yields its base URL."""
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = make_server(console)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


_CSRF = re.compile(r'name="(csrf|presign)" value="([^"]+)"')


def form_token(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(2)


def sign_in(base: str, staff_id: str, password: str = PASSWORD) -> requests.Session:
    """A browser-like session signed in through the sign-in form."""
    s = requests.Session()
    page = s.get(f"{base}/signin")
    r = s.post(
        f"{base}/signin",
        data={"staff_id": staff_id, "password": password, "presign": form_token(page.text)},
        allow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return s


def csrf_of(s: requests.Session, base: str) -> str:
    return form_token(s.get(f"{base}/account").text)


def token_for(archive: Archive, staff_id: str, *, days: int = 30) -> str:
    secret, _row = Accounts(archive).issue_token(staff_id, days=days)
    return secret


REFERRAL_HOSPITAL = "jx-childrens-hospital"
REFERRAL_CASE = "JX0101-2025-00001"


def hospital_console(archive: Archive, tmp_path: Path, engine: Engine) -> Console:
    """A console whose partners include a hospital (nothing listens on its port: a delivery
    stays queued for the outbox) and case 01 with the guardian's referral consent."""
    path = tmp_path / "partners-hospital.toml"
    path.write_text(
        f"""
[partners.school-mingde]
kind = "school"
out_dir = "{(tmp_path / "school-out").as_posix()}"

[partners.{REFERRAL_HOSPITAL}]
kind = "hospital-fhir"
base_url = "http://127.0.0.1:9/fhir"
owner = "Organization/jxch"
""",
        encoding="utf-8",
    )
    doc = json.loads((CASES / "01-medium-in-service.json").read_text("utf-8"))
    doc["consents"].append(
        {"id": "consent-hosp", "topic": "hosp-referral", "status": "active",
         "grantor": "adult-01", "date": "2026-11-20", "period_start": "2026-11-20",
         "period_end": "2027-11-19", "child_assent": True}
    )  # fmt: skip
    store(archive, engine, doc)
    console = Console(archive, load_config(path), now=lambda: NOW)
    console._engine = engine
    return console
