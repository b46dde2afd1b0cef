"""Opening an archive's schema: create it, check its version, migrate it (建库与迁移).

A database without the interop schema is refused unless the caller creates
one (``interop init``); an archive newer than this program is refused; an
older one is migrated step by step (:data:`interop.store.migrations.MIGRATIONS`)
in the one transaction that opens it.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from interop._errors import StoreError
from interop.store import schema as t
from interop.store.location import NO_ARCHIVE
from interop.store.migrations import MIGRATIONS

__all__ = ["missing_archive", "prepare"]

log = logging.getLogger(__name__)


def missing_archive(where: str, code: str) -> str:
    """Why an archive cannot be opened without creating it, and how to create it
    (``where``: the URL without its password)."""
    return NO_ARCHIVE[code].format(where=where)


def prepare(conn: sa.Connection, *, create: bool, where: str) -> None:
    """Make, check or migrate the schema (``where``: the URL for messages, no password)."""
    insp = sa.inspect(conn)
    tables = set(insp.get_table_names())
    if t.meta.name not in tables:
        if tables & set(t.metadata.tables):
            raise StoreError(
                "the database holds tables of another program or of a damaged "
                "archive (no schema version): use an empty database",
                code="E503",
            )
        if not create:
            raise StoreError(missing_archive(where, "E521"), code="E521")
        t.create(conn)
        conn.execute(t.meta.insert(), [{"key": "schema_version", "value": str(t.SCHEMA_VERSION)}])
        log.info("created archive schema version %d", t.SCHEMA_VERSION)
        return
    row = conn.execute(
        sa.select(t.meta.c.value).where(t.meta.c.key == "schema_version")
    ).scalar_one_or_none()
    version = int(row) if row is not None and row.isdigit() else -1
    if version == t.SCHEMA_VERSION:
        return
    if version > t.SCHEMA_VERSION:
        raise StoreError(
            f"the archive has schema version {version}, newer than this program "
            f"understands ({t.SCHEMA_VERSION}): upgrade interop",
            code="E505",
        )
    while version < t.SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise StoreError(
                f"the archive has schema version {version}, older than this program's "
                f"({t.SCHEMA_VERSION}), and no migration from it exists: open it with "
                "the interop release that wrote it and export the case records",
                code="E506",
            )
        step(conn)
        version += 1
        log.info("migrated archive schema to version %d", version)
    conn.execute(
        t.meta.update().where(t.meta.c.key == "schema_version").values(value=str(t.SCHEMA_VERSION))
    )
