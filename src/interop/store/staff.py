"""The staff register's SQL (人员名册): people, accounts, API tokens, console sessions.

Only stored values cross this boundary; hashing, lockout and the role policy live in
:mod:`interop.staff`. Secrets are never stored: passwords as argon2id hashes, tokens
and session cookies as the SHA-256 of their secret.
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa

from interop.store import schema as t
from interop.store.archive import Archive

__all__ = ["StaffStore"]


def _person(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "roles": orjson.loads(row.roles),
        "qualifications": orjson.loads(row.qualifications),
        "screening": orjson.loads(row.screening),
        "active_from": row.active_from,
        "active_until": row.active_until,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


class StaffStore:
    """Reads and writes of the register tables of one archive."""

    def __init__(self, archive: Archive) -> None:
        self.engine = archive.engine
        self.archive = archive

    # -- people ---------------------------------------------------------------

    def insert(self, person: dict[str, Any]) -> bool:
        """Add a person; False when the id is taken."""
        with self.archive.transaction() as conn:
            taken = conn.execute(sa.select(t.staff.c.id).where(t.staff.c.id == person["id"]))
            if taken.first() is not None:
                return False
            conn.execute(t.staff.insert(), [_row(person)])
        return True

    def update(self, person: dict[str, Any]) -> None:
        with self.archive.transaction() as conn:
            conn.execute(t.staff.update().where(t.staff.c.id == person["id"]).values(_row(person)))

    def get(self, staff_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.staff).where(t.staff.c.id == staff_id)).first()
        return _person(row) if row is not None else None

    def all(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [_person(r) for r in conn.execute(sa.select(t.staff).order_by(t.staff.c.id))]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(t.staff)).scalar_one())

    def cases_of(self, staff_id: str) -> list[str]:
        """The cases on which ``staff_id`` is staff (latest case-record versions)."""
        cs = t.case_staff.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(cs.case_number).where(cs.staff_id == staff_id).order_by(cs.case_number)
            )
            return [r[0] for r in rows]

    # -- accounts -------------------------------------------------------------

    def set_password(self, staff_id: str, password_hash: str, stamp: str) -> None:
        a = t.staff_accounts.c
        values = {"password_hash": password_hash, "failures": 0, "locked_until": None}
        with self.archive.transaction() as conn:
            done = conn.execute(
                t.staff_accounts.update()
                .where(a.staff_id == staff_id)
                .values(changed_at=stamp, **values)
            )
            if done.rowcount == 0:
                conn.execute(
                    t.staff_accounts.insert(),
                    [{"staff_id": staff_id, "changed_at": stamp, **values}],
                )

    def account(self, staff_id: str) -> tuple[str, int, float | None] | None:
        """(password hash, failures in a row, locked until) of a person's account."""
        a = t.staff_accounts.c
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(a.password_hash, a.failures, a.locked_until).where(a.staff_id == staff_id)
            ).first()
        return (row[0], int(row[1]), row[2]) if row is not None else None

    def set_failures(self, staff_id: str, failures: int, locked_until: float | None) -> None:
        a = t.staff_accounts.c
        with self.archive.transaction() as conn:
            conn.execute(
                t.staff_accounts.update()
                .where(a.staff_id == staff_id)
                .values(failures=failures, locked_until=locked_until)
            )

    # -- API tokens -----------------------------------------------------------

    def insert_token(self, row: dict[str, Any]) -> None:
        with self.archive.transaction() as conn:
            conn.execute(t.staff_tokens.insert(), [row])

    def token(self, secret_sha256: str) -> dict[str, Any] | None:
        k = t.staff_tokens.c
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(t.staff_tokens).where(k.secret_sha256 == secret_sha256))
                .mappings()
                .first()
            )
        return dict(row) if row is not None else None

    def tokens(self, staff_id: str | None = None) -> list[dict[str, Any]]:
        k = t.staff_tokens.c
        q = sa.select(
            k.id, k.staff_id, k.label, k.created_at, k.expires_at, k.revoked_at, k.last_used_at
        ).order_by(k.created_at, k.id)
        if staff_id is not None:
            q = q.where(k.staff_id == staff_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def revoke_token(self, token_id: str, stamp: str) -> str | None:
        """Revoke a token; the staff id it belonged to, or None when unknown."""
        k = t.staff_tokens.c
        with self.archive.transaction() as conn:
            owner = conn.execute(sa.select(k.staff_id).where(k.id == token_id)).scalar()
            if owner is not None:
                conn.execute(
                    t.staff_tokens.update()
                    .where(k.id == token_id, k.revoked_at.is_(None))
                    .values(revoked_at=stamp)
                )
        return owner

    def revoke_tokens_of(self, staff_id: str, stamp: str) -> None:
        k = t.staff_tokens.c
        with self.archive.transaction() as conn:
            conn.execute(
                t.staff_tokens.update()
                .where(k.staff_id == staff_id, k.revoked_at.is_(None))
                .values(revoked_at=stamp)
            )
            conn.execute(t.web_sessions.delete().where(t.web_sessions.c.staff_id == staff_id))

    def token_used(self, token_id: str, stamp: str) -> None:
        k = t.staff_tokens.c
        with self.archive.transaction() as conn:
            conn.execute(t.staff_tokens.update().where(k.id == token_id).values(last_used_at=stamp))

    # -- console sessions -----------------------------------------------------

    def insert_session(self, row: dict[str, Any]) -> None:
        with self.archive.transaction() as conn:
            conn.execute(
                t.web_sessions.delete().where(t.web_sessions.c.expires_at < row["created_at"])
            )
            conn.execute(t.web_sessions.insert(), [row])

    def session(self, secret_sha256: str) -> dict[str, Any] | None:
        w = t.web_sessions.c
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(t.web_sessions).where(w.secret_sha256 == secret_sha256))
                .mappings()
                .first()
            )
        return dict(row) if row is not None else None

    def delete_session(self, secret_sha256: str) -> None:
        w = t.web_sessions.c
        with self.archive.transaction() as conn:
            conn.execute(t.web_sessions.delete().where(w.secret_sha256 == secret_sha256))


def _row(person: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": person["id"],
        "name": person["name"],
        "roles": orjson.dumps(sorted(person["roles"])).decode(),
        "qualifications": orjson.dumps(person.get("qualifications") or []).decode(),
        "screening": orjson.dumps(person.get("screening") or []).decode(),
        "active_from": person["active_from"],
        "active_until": person.get("active_until"),
        "created_at": person["created_at"],
        "updated_at": person["updated_at"],
    }
