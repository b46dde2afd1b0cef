"""The archive (一人一档 store): SQLite by default, PostgreSQL by URL.

The names below load the database library when first used, not on import of
this package: a sync's worker processes use :mod:`interop.store.location` and
:mod:`interop.store.jsontext` without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from interop.store.location import default_data_dir, resolve_url

if TYPE_CHECKING:
    from interop.store.archive import Archive, StoreError

__all__ = ["Archive", "StoreError", "default_data_dir", "resolve_url"]


def __getattr__(name: str) -> Any:
    if name in ("Archive", "StoreError"):
        from interop.store import archive

        return getattr(archive, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
