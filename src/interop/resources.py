"""Where the declarative data lives: ``mappings/`` and ``profiles/``.

In a source checkout they are top-level folders; in a built wheel they are
copied to ``interop/_data/``. Nothing is read at import time.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder ``mappings`` or ``profiles``, from a wheel or a checkout."""
    packaged = _PKG / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PKG.parent.parent / name


def mappings_dir() -> Path:
    return data_dir("mappings")


def profiles_dir() -> Path:
    return data_dir("profiles")


def schemas_dir() -> Path:
    return _PKG / "schemas"
