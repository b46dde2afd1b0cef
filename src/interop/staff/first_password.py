"""The initial administrator's password marker (初始管理员密码): used up by the first
password of their own.

Apart from :mod:`interop.staff.initial_admin` because every password change
(:class:`interop.staff.accounts.Accounts`) retires it, while making the first administrator
uses the accounts: one module each way keeps the imports acyclic.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from interop.store.archive import Archive

__all__ = ["retire", "stamp"]


def stamp() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def retire(archive: Archive, staff_id: str) -> None:
    """The initial administrator set a password of their own: remove the file and mark
    the initial password used (called by every password change)."""
    # imported here: the accounts import this module, and `--help` loads no database library
    from interop.store.initial_admin import InitialAdminStore

    store = InitialAdminStore(archive)
    marker = store.marker()
    if marker is None or marker.get("used_at") is not None or marker.get("staff_id") != staff_id:
        return
    # (another machine's file, or gone: the marker below still says it is used)
    with contextlib.suppress(OSError):
        Path(str(marker["file"])).unlink(missing_ok=True)
    store.set_marker({**marker, "used_at": stamp()})
