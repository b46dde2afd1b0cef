"""An XLSX workbook as a list sync reads it (工作簿): opened read-only, its merged cells,
its column letters.

Apart from the source (which reads the rows) and the layout stage (which finds the header)
because both use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from interop._errors import InputError

__all__ = ["column_letter", "merged_below", "open_workbook"]


def column_letter(index: int) -> str:
    """Spreadsheet letters of a 0-based column index (0 → A, 26 → AA)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def merged_below(path: Path, member: str, header_row: int) -> list[str]:
    """The merged cell ranges of a sheet (``member``: its part in the package) below its
    header row (as ``A3:A5``).

    openpyxl's read-only sheets do not read them: they are the ``<mergeCell>``
    elements at the end of the sheet's XML, found here by streaming it once.
    """
    import re
    import zipfile

    found: list[str] = []
    pattern = re.compile(rb'<(?:\w+:)?mergeCell [^>]*ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
    try:
        with zipfile.ZipFile(path) as package, package.open(member) as fh:
            buf = b""
            while chunk := fh.read(1 << 20):
                buf += chunk
                last = 0
                for m in pattern.finditer(buf):
                    last = m.end()
                    if int(m[2]) > header_row:
                        found.append(f"{m[1].decode()}{int(m[2])}:{m[3].decode()}{int(m[4])}")
                buf = buf[max(last, len(buf) - 256) :]  # (a tag cut by the chunk's end)
    except (KeyError, OSError, zipfile.BadZipFile):
        return []
    return list(dict.fromkeys(found))


def open_workbook(path: Path) -> Any:
    """The workbook, read-only (a file that is not one: E133)."""
    import zipfile

    import openpyxl  # type: ignore[import-untyped,unused-ignore]

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError(
            f"{path.name}: not a readable XLSX workbook ({type(exc).__name__})",
            code="E133",
        ) from None
