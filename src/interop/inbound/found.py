"""What stage 1 of a list sync found (版式): the sheet, the header row and the columns.

Apart from :mod:`interop.inbound.layout` (which finds it by reading the source) so
that the source, which keeps what was found, and the layout stage, which reads the
source, do not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from interop.i18n import N_

__all__ = ["MERGED", "SKIPPED", "Layout"]

SKIPPED = N_("row {row}: skipped (above the header: a title, a note or a blank row)")
MERGED = N_(
    "cells {cells} are merged: only their first row holds the value (a column the mapping "
    "marks fill_down takes it on every row; otherwise the other rows read it as empty)"
)
SYNONYM = N_("column {found} read as {name} (a synonym in the mapping)")


@dataclass(slots=True)
class Layout:
    """What stage 1 found: where the list is in the file and what its columns are."""

    format: str
    encoding: str | None
    sheet: str | None
    header_row: int  # the spreadsheet row (or line) of the header, 1-based
    found: list[str]  # the header cells as in the file
    header: list[str]  # each column as the rows are keyed: the mapping's name, else as found
    matched: dict[str, str]  # mapping column → header cell it was found under
    skipped: list[int] = field(default_factory=list)  # rows above the header with text
    merged: list[str] = field(default_factory=list)  # merged cells below the header (A3:A5)
    sheets: list[str] = field(default_factory=list)
    id_columns: frozenset[str] = frozenset()
    date_columns: frozenset[str] = frozenset()
    fill_down: frozenset[str] = frozenset()

    @property
    def renames(self) -> dict[str, str]:
        """Header cell → the mapping's name, where they differ (a synonym)."""
        return {f: h for f, h in zip(self.found, self.header, strict=True) if f.strip() != h}

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "encoding": self.encoding,
            "sheet": self.sheet,
            "header_row": self.header_row,
            "columns": self.header,
            "matched": self.matched,
            "skipped_rows": self.skipped,
            "merged_cells": self.merged,
        }

    def notes(self) -> list[str]:
        """Information lines for the operator (rows skipped, columns found by a synonym)."""
        out = [SKIPPED.format(row=n) for n in self.skipped]
        out += [MERGED.format(cells=ref) for ref in self.merged]
        for found, name in self.renames.items():
            out.append(SYNONYM.format(found=found.strip(), name=name))
        return out
