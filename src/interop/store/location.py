"""Where the archive is: ``--db``, ``$INTEROP_DB`` or the user's data folder.

No database library here: a large sync's worker processes start reading the
archive file before the main process has loaded one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV_DB = "INTEROP_DB"

#: An archive that is not there (E520: no such file; E521: no interop schema in it).
NO_ARCHIVE = {
    "E520": "no archive at {where}: create one with `interop init --db URL` "
    "(the --db you gave), or give the --db of an existing archive",
    "E521": "{where} holds no interop archive: create one with `interop init --db URL` "
    "(the --db you gave), or give the --db of an existing archive",
}


def default_data_dir() -> Path:
    """A per-user data folder: ``$XDG_DATA_HOME/interop`` or the platform's equivalent."""
    if sys.platform == "win32":  # pragma: no cover
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":  # pragma: no cover
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "interop"


def resolve_url(url: str | None = None) -> str:
    """``--db``, else ``$INTEROP_DB``, else the SQLite file in the user data folder.

    ``postgresql://`` is driven by psycopg 3; a bare path means a SQLite file.
    """
    url = url or os.environ.get(ENV_DB) or ""
    if not url:
        folder = default_data_dir()
        return f"sqlite:///{folder / 'archive.sqlite3'}"
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def sqlite_path(url: str | None = None) -> Path | None:
    """The file of a SQLite archive (None for another database or an in-memory one)."""
    full = resolve_url(url)
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if full.startswith(prefix):
            rest = full[len(prefix) :].split("?", 1)[0]
            return Path(rest) if rest and rest != ":memory:" else None
    return None
