"""Where the archive is: a URL, a file path, or the SQLite file in a data folder.

``--db``, ``$INTEROP_DB`` and the user's data folder are chosen by
:class:`interop.settings.Settings`; nothing here reads the environment.

No database library here: a large sync's worker processes start reading the
archive file before the main process has loaded one.
"""

from __future__ import annotations

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
    """The per-user data folder when no settings chose one (``~/.local/share/interop``)."""
    return Path.home() / ".local" / "share" / "interop"


def resolve_url(url: str | None = None, *, data_dir: Path | None = None) -> str:
    """``url``, else the SQLite file ``archive.sqlite3`` in ``data_dir`` (default
    :func:`default_data_dir`).

    ``postgresql://`` is driven by psycopg 3; a bare path means a SQLite file.
    """
    url = url or ""
    if not url:
        folder = data_dir or default_data_dir()
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
