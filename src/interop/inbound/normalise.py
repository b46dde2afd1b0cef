"""Normalise, then check (规范化后校验): the cells of a row before it is mapped.

IDs and codes lose spaces, invisible and full-width characters and Excel's leading
apostrophe (an ID's ``x`` is ``X``); free text loses control and bidi characters, or its
row is quarantined (``"controls": "quarantine"``); each is a line on the row. An ID from
outside ``province.division_prefix`` is a warning. The raw digest is of the cells as read.
"""

from __future__ import annotations

import re
import unicodedata
from unicodedata import is_normalized

from interop.core.resident_id import APOSTROPHES, INVISIBLE, compact, normalise
from interop.i18n import N_
from interop.inbound.mapping import Finding, InboundMapping

_ODD = re.compile("[ " + APOSTROPHES + "]")  # a space or an apostrophe in a code cell
_KEPT = "\t\n\r"  # the control characters free text keeps

ID_NORMALISED = N_(
    "{column}: written with spaces, invisible characters, full-width characters, a leading "
    "apostrophe or a lower-case x; read without them"
)
CODE_NORMALISED = N_(
    "{column}: written with spaces, invisible or full-width characters; read without"
)
CONTROLS_REMOVED = N_("{column}: control or text-direction characters removed")
CONTROLS_FOUND = N_("{column}: holds control or text-direction characters ({which})")
OUTSIDE_REGION = N_("{column}: the resident ID was issued outside the list's region {prefix}")


def _hidden(ch: str) -> bool:
    """Whether a character of free text is a control or invisible one (tab, line breaks kept)."""
    return ch not in _KEPT and (unicodedata.category(ch) in ("Cc", "Cf") or ord(ch) in INVISIBLE)


class Normaliser:
    """The normalising of one mapping's rows (built once per sync)."""

    def __init__(self, mapping: InboundMapping) -> None:
        # (column, kind, whether control characters quarantine the row, else they are removed)
        fields = mapping.fields.values()
        cols = [(c, f.kind, f.controls == "quarantine") for f in fields for c in f.columns]
        self.ids = [c for c, kind, _ in cols if kind == "resident-id"]
        self.codes = [c for c, kind, _ in cols if kind in ("code", "codes")]
        self.texts = [(c, q) for c, kind, q in cols if kind not in ("resident-id", "code", "codes")]
        self.prefix = mapping.province[1] if mapping.province is not None else None

    def __call__(self, values: dict[str, str]) -> tuple[dict[str, str], list[Finding]]:
        """The row's cells normalised, and the findings (information, warning or error)."""
        make, findings, changed = Finding, [], {}
        for col in self.ids:
            s = (values.get(col) or "").strip()
            # (a plain ID: ASCII letters and digits, no lower-case x — nearly every one)
            plain = not s or (s.isascii() and s.isalnum() and s[-1] != "x")
            if not plain and (n := normalise(s)) != s:
                changed[col] = s = n
                msg = ID_NORMALISED.format(column=col)
                findings.append(make(col, "normalised", msg, "information"))
            if self.prefix and len(s) == 18 and not s.startswith(self.prefix) and s[:17].isdigit():
                msg = OUTSIDE_REGION.format(column=col, prefix=self.prefix)
                findings.append(make(col, "outside-region", msg, "warning"))
        for col in self.codes:
            s = (values.get(col) or "").strip()
            plain = not s or (s.isprintable() and not _ODD.search(s) and is_normalized("NFKC", s))
            if not plain and (n := compact(s)) != s:
                changed[col] = n
                msg = CODE_NORMALISED.format(column=col)
                findings.append(make(col, "normalised", msg, "information"))
        for col, strict in self.texts:
            v = values.get(col)
            if not v or v.isprintable() or not (found := [ch for ch in v if _hidden(ch)]):
                continue
            if strict:  # (the row is quarantined: name the characters, keep the cell)
                which = ", ".join(dict.fromkeys(f"U+{ord(ch):04X}" for ch in found[:3]))
                msg, severity = CONTROLS_FOUND.format(column=col, which=which), "error"
            else:
                changed[col] = "".join(ch for ch in v if not _hidden(ch))
                msg, severity = CONTROLS_REMOVED.format(column=col), "information"
            findings.append(make(col, "control-characters", msg, severity))
        return ({**values, **changed} if changed else values), findings
