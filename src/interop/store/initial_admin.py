"""The initial administrator's marker (初始管理员) in ``interop_meta``: who ``interop init``
made, where their generated password was written, and whether it is still unused.

The password itself is never stored here (its argon2id hash is the account's)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import sqlalchemy as sa

from interop.store import schema as t
from interop.store.archive import Archive

__all__ = ["InitialAdminStore"]

KEY = "initial_admin"
#: A password changed within this many seconds of the person's creation counts as the
#: generated one (an archive made before the marker existed: ``scripts/console.sh``).
_SAME_MOMENT = 5.0


class InitialAdminStore:
    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    def marker(self) -> dict[str, Any] | None:
        with self.archive.engine.connect() as conn:
            value = conn.execute(sa.select(t.meta.c.value).where(t.meta.c.key == KEY)).scalar()
        found = orjson.loads(value) if value else None
        return found if isinstance(found, dict) else None

    def set_marker(self, marker: dict[str, Any]) -> None:
        value = orjson.dumps(marker).decode()
        with self.archive.transaction() as conn:
            done = conn.execute(t.meta.update().where(t.meta.c.key == KEY).values(value=value))
            if done.rowcount == 0:
                conn.execute(t.meta.insert(), [{"key": KEY, "value": value}])

    def password_never_changed(self, staff_id: str) -> bool:
        """Whether the person's password is still the one set when they were made."""
        s, a = t.staff.c, t.staff_accounts.c
        q = (
            sa.select(s.created_at, a.changed_at)
            .join(t.staff_accounts, a.staff_id == s.id)
            .where(s.id == staff_id)
        )
        with self.archive.engine.connect() as conn:
            row = conn.execute(q).first()
        if row is None:
            return False
        try:
            made = dt.datetime.fromisoformat(row.created_at)
            changed = dt.datetime.fromisoformat(row.changed_at)
        except (TypeError, ValueError):
            return False
        return abs((changed - made).total_seconds()) <= _SAME_MOMENT
