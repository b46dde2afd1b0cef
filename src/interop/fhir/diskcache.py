"""The folder where compiled checks are kept between runs (编译结果缓存).

Compiling the structure check from the ``fhir.resources`` models and parsing
the profiles' FHIRPath take seconds; their results are plain JSON and are
kept here, each file named by a key of everything it was made from (library
versions, the compiler's own source, the expressions). A stale or damaged
file is never used: a different key is a different file, and a file that
does not read back is compiled again.

The folder is chosen once per process by the command line
(:func:`use_folder`, from the settings); without it nothing is written and
every process compiles for itself, as a library user or a test gets.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import orjson

__all__ = ["digest", "folder", "read", "use_folder", "write"]

log = logging.getLogger(__name__)

_FOLDER: list[Path] = []


def use_folder(path: Path | None) -> None:
    """Keep compiled checks in ``path`` from now on (``None``: keep nothing)."""
    _FOLDER.clear()
    if path is not None:
        _FOLDER.append(path)


def folder() -> Path | None:
    """The chosen folder, if any."""
    return _FOLDER[0] if _FOLDER else None


def digest(*parts: str | bytes) -> str:
    """A short stable key of the given parts."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8") if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:20]


def read(name: str) -> Any | None:
    """The JSON kept under ``name``, or ``None`` (no folder, no file, unreadable)."""
    base = folder()
    if base is None:
        return None
    try:
        return orjson.loads((base / name).read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, orjson.JSONDecodeError) as exc:
        log.info("compiled-check cache %s is not usable (%s); compiling again", name, exc)
        return None


def write(name: str, data: Any) -> None:
    """Keep ``data`` under ``name`` (atomically; a failure only costs speed)."""
    base = folder()
    if base is None:
        return
    try:
        base.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=base)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(orjson.dumps(data))
            os.replace(tmp, base / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.info("compiled-check cache %s not written (%s)", name, exc)
