"""Canonical JSON text and its digest (no database: worker processes use it too)."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

__all__ = ["digest", "dumpb", "dumps"]


def dumps(obj: Any) -> str:
    """Canonical JSON text (sorted keys) — equal data gives equal text and digest."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode()


def dumpb(obj: Any) -> bytes:
    """:func:`dumps` as UTF-8 bytes: what the sync hands to the archive (no decoding, and
    bytes cross a process boundary for free — see ``archive._insert_rows``)."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def digest(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.blake2b(data, digest_size=16).hexdigest()
