"""The staff register in the archive (SQLite and PostgreSQL): the v4 → v5 migration,
the 5.2 checks on roles, passwords and lockout, and the case-staff index a worker's
lists use."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from interop._errors import AuthenticationError, StaffError
from interop.staff.accounts import LOCK_SECONDS, MAX_FAILURES, Accounts, create_first_admin
from interop.staff.register import Register, qualification, screening
from interop.store import Archive
from interop.store import schema as t

TODAY = dt.date(2026, 11, 30)
CASE_BODY = {"staff": [{"id": "staff-01", "role": "worker"}, {"id": "staff-03", "role": "sup"}]}


def test_migration_from_v4_adds_the_register_and_indexes_case_staff(db_url: str) -> None:
    with Archive.create(db_url) as a, a.engine.begin() as conn:
        for table in (t.web_sessions, t.staff_tokens, t.staff_accounts, t.case_staff, t.staff):
            table.drop(conn)
        conn.execute(
            t.case_records.insert(),
            [
                {"case_number": "C-1", "version": v, "digest": str(v), "body": json.dumps(b),
                 "source": "import", "created_at": "2026-01-01"}
                for v, b in ((1, {"staff": [{"id": "old-01"}]}), (2, CASE_BODY))
            ],
        )  # fmt: skip
        conn.execute(t.meta.update().where(t.meta.c.key == "schema_version").values(value="4"))
    with Archive.create(db_url) as a:
        assert Register(a).cases_of("staff-01") == ["C-1"]
        assert Register(a).cases_of("old-01") == []  # only the latest version counts
        with a.engine.connect() as conn:
            version = conn.execute(sa.select(t.meta.c.value)).scalar()
        assert version == str(t.SCHEMA_VERSION)


def test_roles_need_what_5_2_asks(db_url: str) -> None:
    with Archive.create(db_url) as a:
        reg = Register(a, today=TODAY)
        with pytest.raises(StaffError) as err:
            reg.add(
                "w-1", "某", ["worker"], qualifications=[qualification("degree-sw", "2019-07-01")]
            )
        assert err.value.code == "E804" and "screening" in err.value.message
        old = screening("2025-06-01", "passed")  # more than 12 months ago
        degree = [qualification("degree-sw", "2019-07-01")]
        with pytest.raises(StaffError):
            reg.add("w-1", "某", ["worker"], qualifications=degree, screening=[old])
        fresh = screening("2026-10-01", "passed")
        reg.add("w-1", "某", ["worker"], qualifications=degree, screening=[fresh])
        with pytest.raises(StaffError) as err:
            reg.set_roles("w-1", ["supervisor"])
        assert "supervision experience" in err.value.message
        reg.record("w-1", qualifications=[qualification("supervision-experience", "2024-01-01")])
        assert reg.set_roles("w-1", ["supervisor", "worker"])["roles"] == ["supervisor", "worker"]
        with pytest.raises(StaffError) as err:
            reg.add("w-1", "某", ["org-lead"])
        assert err.value.code == "E805"
        with pytest.raises(StaffError):
            reg.add("x", "某", ["boss"])
        assert reg.active_roles("w-1") == {"supervisor", "worker"}
        reg.deactivate("w-1", "2026-11-29")
        assert reg.active_roles("w-1") == frozenset()


def test_first_admin_only_once(db_url: str) -> None:
    with Archive.create(db_url) as a:
        create_first_admin(a, "adm", "管理员", "a-long-password-1")
        with pytest.raises(StaffError) as err:
            create_first_admin(a, "adm2", "管理员", "a-long-password-1")
        assert err.value.code == "E807"


def test_password_lockout_and_change(db_url: str) -> None:
    now = [1_800_000_000.0]
    with Archive.create(db_url) as a:
        create_first_admin(a, "adm", "管理员", "a-long-password-1")
        acc = Accounts(a, clock=lambda: now[0])
        assert acc.authenticate("adm", "a-long-password-1").roles == {"admin"}
        stored = acc.store.account("adm")
        assert stored is not None and stored[0].startswith("$argon2id$")
        for i in range(MAX_FAILURES):
            with pytest.raises(AuthenticationError) as err:
                acc.authenticate("adm", "wrong")
            assert err.value.code == ("E812" if i == MAX_FAILURES - 1 else "E811")
        with pytest.raises(AuthenticationError) as err:
            acc.authenticate("adm", "a-long-password-1")
        assert err.value.code == "E812"
        now[0] += LOCK_SECONDS + 1
        acc.authenticate("adm", "a-long-password-1")
        with pytest.raises(StaffError):
            acc.change_password("adm", "a-long-password-1", "short")
        acc.change_password("adm", "a-long-password-1", "another-long-password")
        with pytest.raises(AuthenticationError):
            acc.authenticate("adm", "a-long-password-1")
        # An unknown id reads exactly like a wrong password.
        with pytest.raises(AuthenticationError) as err:
            acc.authenticate("nobody", "whatever-it-is")
        assert err.value.code == "E811" and "nobody" not in err.value.message
