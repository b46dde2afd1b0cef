"""The staff register of the tests: one person per role (staff-01/02/03 are the ids the
bundled case records use), their passwords and personal API tokens (``INTEROP_TOKEN``)."""

from __future__ import annotations

import datetime as dt
from functools import cache

from argon2 import PasswordHasher

from interop.staff.accounts import Accounts, create_first_admin
from interop.staff.register import Register, qualification, screening
from interop.store import Archive

PASSWORD = "correct-horse-battery"

#: staff id → roles in the register.
PEOPLE: dict[str, list[str]] = {
    "adm-01": ["admin"],
    "staff-01": ["worker"],
    "staff-02": ["worker"],
    "staff-03": ["supervisor"],
    "lead-01": ["org-lead"],
    "view-01": ["commissioner-viewer"],
    "outsider": ["worker"],  # a worker on no bundled case
}


@cache
def _hashed() -> str:
    """:data:`PASSWORD` hashed once per test session (argon2id is slow on purpose)."""
    return PasswordHasher().hash(PASSWORD)


def register_people(archive: Archive, today: dt.date | None = None) -> None:
    """Everyone of :data:`PEOPLE`, qualified and screened as 5.2 asks, with a password."""
    today = today or dt.date.today()
    create_first_admin(archive, "adm-01", "管理员", PASSWORD)  # through the real hashing
    reg, acc = Register(archive, today=today), Accounts(archive, today=today)
    quals = [
        qualification("sw-mid", "2020-06-01"),
        qualification("supervision-experience", "2022-01-01"),
    ]
    screens = [screening((today - dt.timedelta(days=30)).isoformat(), "passed")]
    for staff_id, roles in PEOPLE.items():
        if staff_id == "adm-01":
            continue
        reg.add(
            staff_id,
            "测试人员",
            roles,
            qualifications=quals,
            screening=screens,
            active_from="2025-01-01",
        )
        acc.store.set_password(staff_id, _hashed(), "2025-01-01T00:00:00+00:00")


def tokens(archive: Archive, *staff_ids: str, days: int = 30) -> dict[str, str]:
    """A personal API token of each person."""
    acc = Accounts(archive)
    return {s: acc.issue_token(s, days=days)[0] for s in staff_ids}
