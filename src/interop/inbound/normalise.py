"""Normalise, then check (规范化后校验): the cells of a row before it is mapped.

- IDs and codes: Unicode NFKC (full-width digits and letters), no zero-width or
  bidi control characters, no spaces around or inside, no leading apostrophe
  (Excel's text marker); a resident ID's ``x`` is ``X``. A cell so normalised
  is an information line on the row, not an error.
- Names and free text: control characters, NUL and bidi overrides are removed
  (an information line), or — where the mapping says ``"controls":
  "quarantine"`` for the field — quarantine the row. A cell beginning with
  ``=``, ``+``, ``-`` or ``@`` is kept as the text it is.
- A resident ID issued outside the region the mapping declares (the GB/T 2260
  prefix of ``province.division_prefix``) is a warning on the row.

The raw digest of a row is of its cells as read, so an unchanged file stays
unchanged; only the mapped entry sees the normalised cells.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from interop.i18n import N_

if TYPE_CHECKING:
    from interop.inbound.mapping import Finding, InboundMapping

#: Zero-width characters, the byte-order mark and the bidi controls (marks, embeddings,
#: overrides, isolates): invisible, and never part of an ID, a code or a name.
INVISIBLE: dict[int, None] = dict.fromkeys(
    map(
        ord,
        "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e"
        "\u2066\u2067\u2068\u2069",
    )
)
_APOSTROPHES = "'\u2018\u2019`"
#: A space or an apostrophe in a code cell: normalise it.
_ODD = re.compile("[ " + _APOSTROPHES + "]")
#: Characters of free text that are kept: tab and line breaks.
_KEPT = "\t\n\r"

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


def normalise_code(text: str) -> str:
    """An ID or code as compared: NFKC, nothing invisible, no spaces, no leading apostrophe."""
    out = "".join(unicodedata.normalize("NFKC", text).translate(INVISIBLE).split())
    return out.lstrip(_APOSTROPHES)


def normalise_id(text: str) -> str:
    """:func:`normalise_code`, upper case (the check character ``x`` is ``X``)."""
    return normalise_code(text).upper()


def plain_id(text: str) -> bool:
    """Whether an ID cell (stripped) needs no normalising: ASCII letters and digits, no ``x``."""
    return text.isascii() and text.isalnum() and not text.endswith("x")


def id_key(cell: str) -> str:
    """A resident ID cell as a key: stripped and upper-cased, normalised when not plain."""
    s = cell.strip()
    return s.upper() if plain_id(s) else normalise_id(s)


def _controls(text: str) -> list[str]:
    """The control and invisible characters of a text, as U+XXXX."""
    return [
        f"U+{ord(ch):04X}"
        for ch in text
        if ch not in _KEPT and (unicodedata.category(ch) in ("Cc", "Cf") or ord(ch) in INVISIBLE)
    ]


def _clean_text(text: str) -> str:
    return "".join(
        ch
        for ch in text
        if ch in _KEPT
        or (unicodedata.category(ch) not in ("Cc", "Cf") and ord(ch) not in INVISIBLE)
    )


class Normaliser:
    """The normalising of one mapping's rows (built once per sync)."""

    def __init__(self, mapping: InboundMapping) -> None:
        from interop.inbound.mapping import Finding

        self.finding = Finding  # (the mapping module imports this one)
        self.ids: list[str] = []
        self.codes: list[str] = []
        self.texts: list[tuple[str, bool]] = []  # column, quarantine (else remove)
        for spec in mapping.fields.values():
            for col in spec.columns:
                if spec.kind == "resident-id":
                    self.ids.append(col)
                elif spec.kind in ("code", "codes"):
                    self.codes.append(col)
                else:
                    self.texts.append((col, spec.controls == "quarantine"))
        self.prefix = mapping.province[1] if mapping.province is not None else None

    def __call__(self, values: dict[str, str]) -> tuple[dict[str, str], list[Finding]]:
        """The row's cells normalised, and the findings (information, warning or error)."""
        make, findings = self.finding, []
        # (nearly every row: all printable, IDs plain, codes plain — a few C calls, no copy)
        codes = "".join([values.get(c) or "" for c in self.codes])
        plain = (
            "".join(values.values()).isprintable()
            and all(plain_id((values.get(c) or "0").strip()) for c in self.ids)
            and _ODD.search(codes) is None
            and unicodedata.is_normalized("NFKC", codes)
        )
        out = values if plain else dict(values)
        for col in self.ids:
            s = (values.get(col) or "").strip()
            if s and not plain and not plain_id(s) and (n := normalise_id(s)) != s:
                out[col] = s = n
                findings.append(
                    make(col, "normalised", ID_NORMALISED.format(column=col), "information")
                )
            prefix = self.prefix
            if (
                prefix is not None
                and len(s) == 18
                and not s.startswith(prefix)
                and s[:17].isdigit()
            ):
                msg = OUTSIDE_REGION.format(column=col, prefix=prefix)
                findings.append(make(col, "outside-region", msg, "warning"))
        for col in self.codes if not plain else ():
            s = (values.get(col) or "").strip()
            if not s or (
                s.isprintable() and _ODD.search(s) is None and unicodedata.is_normalized("NFKC", s)
            ):
                continue
            if (n := normalise_code(s)) != s:
                out[col] = n
                findings.append(
                    make(col, "normalised", CODE_NORMALISED.format(column=col), "information")
                )
        for col, strict in self.texts if not plain else ():
            v = values.get(col)
            if not v or v.isprintable() or not (found := _controls(v)):
                continue
            if strict:
                which = ", ".join(dict.fromkeys(found[:3]))
                findings.append(
                    make(col, "control-characters", CONTROLS_FOUND.format(column=col, which=which))
                )
            else:
                out[col] = _clean_text(v)
                msg = CONTROLS_REMOVED.format(column=col)
                findings.append(make(col, "control-characters", msg, "information"))
        return out, findings
