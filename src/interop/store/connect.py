"""The database engine of an archive: SQLite file by default, PostgreSQL by URL (连接).

A SQLite file is made only when the caller creates an archive (E520 otherwise);
PostgreSQL is reached through psycopg 3, with a connection timeout. Every SQLite
connection gets the archive's pragmas (:func:`sqlite_pragmas`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from interop._errors import StoreError
from interop.store.migrate import missing_archive

__all__ = ["Connection", "describe_url", "make_engine"]

#: A connection of the archive, as the modules above store pass it through (typing only:
#: they hold what :meth:`interop.store.archive.Archive.transaction` gave them).
Connection = sa.Connection


def describe_url(url: str) -> str:
    """The URL without a password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable database URL)"


def make_engine(full: str, *, create: bool) -> sa.Engine:
    """The engine of the archive at ``full`` (a resolved URL); nothing is connected yet."""
    try:
        parsed = make_url(full)
    except Exception:
        raise StoreError("the database URL cannot be parsed", code="E501") from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            if create:
                Path(db).parent.mkdir(parents=True, exist_ok=True)
            elif not Path(db).is_file():
                raise StoreError(missing_archive(describe_url(full), "E520"), code="E520")
    elif parsed.get_backend_name() == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": 10}
    else:
        raise StoreError(
            f"unsupported database '{parsed.get_backend_name()}': use sqlite or postgresql",
            code="E501",
        )
    try:
        engine = sa.create_engine(full, **kwargs)
    except Exception as exc:
        raise StoreError(f"cannot use database {describe_url(full)}: {exc}", code="E501") from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", sqlite_pragmas)
    return engine


def sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # 8 KiB pages for a new archive (no effect on an existing one). A re-sync rewrites
    # pages here and there (a changed child's row, its case, index entries): half the
    # bytes of 16 KiB pages. A first sync pays a little for it; it runs once, the
    # re-sync again and again (the trade-off as measured: D-19).
    cur.execute("PRAGMA page_size=8192")
    cur.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL is crash-consistent: a killed process loses nothing committed, a power
    # cut at worst the last batches — never part of one.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA cache_size=-65536")  # 64 MiB: index upkeep of large syncs
    cur.execute("PRAGMA wal_autocheckpoint=4096")  # fewer checkpoint fsyncs in big syncs
    cur.close()
