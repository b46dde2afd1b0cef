"""A declarative data file (数据文件: mappings, purposes, profiles, code systems,
calendars) read as JSON: a file that cannot be read or is not a JSON object is refused
with :class:`~interop._errors.DataFileError`, naming the file and the line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from interop._errors import DataFileError


def read_data_file(
    path: Path, name: str | None = None, *, code: str | None = None
) -> tuple[str, dict[str, Any]]:
    """The text of the file at ``path`` and the JSON object it holds (``name``: the file
    as errors name it, default the path; ``code``: the error's own code)."""
    name = str(path) if name is None else name
    try:
        text = path.read_text("utf-8")
        data = json.loads(text)
    except OSError as exc:
        raise DataFileError(name, "(file)", f"cannot read ({exc.strerror})", code=code) from None
    except UnicodeDecodeError:
        raise DataFileError(name, "(file)", "not valid JSON: not UTF-8 text", code=code) from None
    except json.JSONDecodeError as exc:
        where, why = f"line {exc.lineno}, column {exc.colno}", f"not valid JSON: {exc.msg}"
        raise DataFileError(name, where, why, code=code) from None
    if not isinstance(data, dict):
        raise DataFileError(name, "(file)", "must be a JSON object", code=code)
    return text, data
