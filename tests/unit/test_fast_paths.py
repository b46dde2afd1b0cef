"""What a preview or a queued referral does not load: the policies are checked without a
FHIR model class, a partner's HTTP transport loads the HTTP library only when it first
sends (share --dry-run and referral create --no-send send nothing), and a SQLite archive
never loads the PostgreSQL driver; no command loads the database library to build its
parser."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

#: The model classes (pydantic), the HTTP library and the PostgreSQL driver.
HEAVY = ("fhir.resources.R4B", "pydantic", "requests", "urllib3", "psycopg")


def _modules_after(code: str, cache: Path | None = None) -> list[str]:
    """The heavy libraries a fresh interpreter holds after running ``code`` (with the
    compiled-check cache folder ``cache``, as a command has)."""
    folder = "" if cache is None else f"diskcache.use_folder(Path({str(cache)!r}))\n"
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from interop.fhir import diskcache\n"
        f"{folder}"
        f"{code}\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return eval(done.stdout.strip().splitlines()[-1])  # a list literal printed above


def test_loading_the_policies_imports_no_model_class(tmp_path: Path) -> None:
    code = "from interop.privacy.policy import load_policies\nassert load_policies().purposes()\n"
    _modules_after(code, tmp_path)  # a first use compiles the shapes into the cache folder
    assert _modules_after(code, tmp_path) == []


def test_a_transport_loads_the_http_library_at_its_first_call_only() -> None:
    made = (
        "from interop.exchange.http import HttpTransport\n"
        "t = HttpTransport('school-mingde', 'http://127.0.0.1:9/inbox', token='x')\n"
        "t.close()\n"
    )
    assert _modules_after(made) == []
    used = made.replace("t.close()", "assert t.session.headers['Authorization'] == 'Bearer x'")
    assert "requests" in _modules_after(used)


def test_a_sqlite_archive_loads_no_postgresql_driver(tmp_path: Path) -> None:
    code = (
        "from interop.store import Archive\n"
        f"with Archive.create('sqlite:///{tmp_path / 'a.sqlite3'}') as a:\n"
        "    assert a.count_children() == 0\n"
    )
    assert _modules_after(code) == []


def test_no_command_loads_the_database_library_to_build_its_parser() -> None:
    # Every command starts (--help) in well under 0.3 s; SQLAlchemy alone takes ~0.1 s.
    probe = (
        "import sys\n"
        "from interop.cli import build_parser\n"
        "from interop.commands import COMMANDS\n"
        "loaded = []\n"
        "for name in COMMANDS:\n"
        "    build_parser([name])\n"
        "    if 'sqlalchemy' in sys.modules:\n"
        "        loaded.append(name)\n"
        "        break\n"
        "print(loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
