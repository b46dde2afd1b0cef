"""An XLSX workbook as the sync reads it (工作簿): read-only, merged cells, column letters."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from interop._errors import InputError

_MERGED = re.compile(rb'<(?:\w+:)?mergeCell [^>]*ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def column_letter(index: int) -> str:
    """Spreadsheet letters of a 0-based column index (0 → A, 26 → AA)."""
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped,unused-ignore]

    return str(get_column_letter(index + 1))


def merged_below(path: Path, member: str, header_row: int) -> list[str]:
    """The merged cell ranges (as ``A3:A5``) below the header of a sheet (``member``: its
    part in the package). A read-only openpyxl sheet does not read them: they are the
    ``<mergeCell>`` elements at the end of the sheet's XML, found by streaming it once."""
    found: list[str] = []
    try:
        with zipfile.ZipFile(path) as package, package.open(member) as fh:
            buf = b""
            while chunk := fh.read(1 << 20):
                buf, last = buf + chunk, 0
                for m in _MERGED.finditer(buf):
                    last = m.end()
                    if int(m[2]) > header_row:
                        found.append(f"{m[1].decode()}{int(m[2])}:{m[3].decode()}{int(m[4])}")
                buf = buf[max(last, len(buf) - 256) :]  # (a tag cut by the chunk's end)
    except (KeyError, OSError, zipfile.BadZipFile):
        return []
    return list(dict.fromkeys(found))


def open_workbook(path: Path) -> Any:
    """The workbook, read-only (a file that is not one: E133)."""
    import openpyxl  # type: ignore[import-untyped,unused-ignore]

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        msg = f"{path.name}: not a readable XLSX workbook ({type(exc).__name__})"
        raise InputError(msg, code="E133") from None
