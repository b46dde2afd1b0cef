"""The archive (一人一档 store): SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

from interop.store.archive import Archive, StoreError, default_data_dir, resolve_url

__all__ = ["Archive", "StoreError", "default_data_dir", "resolve_url"]
