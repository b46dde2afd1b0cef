"""The first administrator on a fresh machine (初始管理员), Jenkins-style.

``interop init --admin`` makes the first administrator of an empty register with a
generated password and writes it to a file beside the archive that only the user can read
(mode 0600; ``archive.sqlite3.initialAdminPassword`` next to a SQLite archive, in the data
folder for a PostgreSQL one). Every clone on the machine finds the same archive in the user
data folder, hence the same file, and signs in with it (``scripts/console.sh``). When that
person sets a password of their own the file is removed and the marker says it was used:
from then on they sign in with their own password. The password is never logged; the
archive keeps only its argon2id hash.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from interop._errors import StaffError
from interop.i18n import N_
from interop.staff.accounts import create_first_admin
from interop.staff.first_password import retire, stamp
from interop.staff.register import Register
from interop.store.archive import Archive, describe_url
from interop.store.initial_admin import InitialAdminStore
from interop.store.location import default_data_dir, sqlite_path

__all__ = ["ADMIN_ID", "FirstAdmin", "ensure_first_admin", "password_file", "retire"]

ADMIN_ID = "admin"
ADMIN_NAME = "系统管理员"
SUFFIX = ".initialAdminPassword"

MSG_WRITE = N_("cannot write the initial administrator password file {file}: {why}")


@dataclass(frozen=True, slots=True)
class FirstAdmin:
    """What ``ensure_first_admin`` found or did: ``created`` (a new administrator),
    ``kept`` (the unused password file is there), ``reissued`` (the generated password was
    never changed and its file was gone: a new one written) or ``has-staff`` (the register
    has people who sign in with their own passwords: no file)."""

    state: str
    staff_id: str | None = None
    file: Path | None = None


def password_file(url: str | None, data_dir: Path | None = None) -> Path:
    """Where the initial administrator's password goes for the archive at ``url``."""
    db = sqlite_path(url)
    if db is not None:
        return db.with_name(db.name + SUFFIX)
    digest = hashlib.sha256(describe_url(url or "").encode()).hexdigest()[:12]
    return (data_dir or default_data_dir()) / f"initialAdminPassword-{digest}"


def _write(file: Path, password: str) -> None:
    """The password alone on one line, readable only by the user, written whole."""
    tmp = file.with_name(file.name + ".part")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)  # (an older .part may have had other bits)
            os.write(fd, (password + "\n").encode())
        finally:
            os.close(fd)
        os.replace(tmp, file)
    except OSError as exc:
        raise StaffError(
            MSG_WRITE.format(file=file, why=exc.strerror or exc), code="E854"
        ) from None


def _issue(archive: Archive, staff_id: str, file: Path, *, new: bool) -> None:
    from interop.staff.accounts import Accounts

    password = secrets.token_urlsafe(15)  # 20 characters, 90 bits
    if new:
        create_first_admin(archive, staff_id, ADMIN_NAME, password, roles=["org-lead"])
    else:
        Accounts(archive).set_password(staff_id, password)
    _write(file, password)
    InitialAdminStore(archive).set_marker(
        {"staff_id": staff_id, "file": str(file), "issued_at": stamp(), "used_at": None}
    )


def ensure_first_admin(archive: Archive, file: Path) -> FirstAdmin:
    """Make the first administrator of an empty register (password to ``file``), or find
    the unused initial password of this archive."""
    register = Register(archive)
    store = InitialAdminStore(archive)
    if register.store.count() == 0:
        _issue(archive, ADMIN_ID, file, new=True)
        return FirstAdmin("created", ADMIN_ID, file)
    marker = store.marker()
    if marker is not None:
        who, where = str(marker.get("staff_id")), Path(str(marker.get("file")))
        if marker.get("used_at") is not None or where != file:
            return FirstAdmin("has-staff")
        if where.is_file():
            return FirstAdmin("kept", who, where)
        # (unused: every password change retires it; the file alone was lost)
        _issue(archive, who, file, new=False)
        return FirstAdmin("reissued", who, file)
    # An archive from before the marker: the administrator scripts/console.sh made, whose
    # generated password only that clone kept, gets a new one here while it is unchanged.
    person = register.store.get(ADMIN_ID)
    if (
        person is not None
        and "admin" in person["roles"]
        and person["name"] == ADMIN_NAME
        and store.password_never_changed(ADMIN_ID)
    ):
        _issue(archive, ADMIN_ID, file, new=False)
        return FirstAdmin("reissued", ADMIN_ID, file)
    return FirstAdmin("has-staff")
