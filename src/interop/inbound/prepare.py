"""Prepare (映射与校验): a list row normalised, keyed, mapped, checked and — when its key is
new — its whole case record built; what needs no archive (worker processes run it).
:class:`SyncOptions` holds every setting and tuning knob of a run.

Normalise, then check (规范化后校验): IDs and codes lose spaces, invisible and full-width
characters and Excel's leading apostrophe (an ID's ``x`` is ``X``); free text loses
control and bidi characters, or its row is quarantined (``"controls": "quarantine"``);
each is a line on the row. An ID from outside ``province.division_prefix`` is a warning.
The raw digest stays that of the row as read.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple
from unicodedata import is_normalized

from interop.core.delisting import DEFAULT_LIMIT, DelistLimit
from interop.core.listed import ListParts
from interop.core.masking import mask_id
from interop.core.resident_id import APOSTROPHES, INVISIBLE, compact, normalise
from interop.fhir.canonical import cs
from interop.i18n import N_
from interop.inbound.classify import RowKeys
from interop.inbound.mapping import CodeLookup, Finding, InboundMapping
from interop.inbound.source import Layout, RawRow
from interop.store.jsontext import digest, dumpb

#: Rows per transaction (override with $INTEROP_SYNC_BATCH_SIZE).
BATCH_SIZE = 5000
#: Bytes per part of a large CSV list (a worker's unit): about 7,000 rows of the default layout.
PART_BYTES = 1 << 20
#: The run id and status of a preview (``--dry-run``): no run is recorded.
DRY_RUN = "dry-run"

# Why a row is quarantined before it is mapped (no key to match the child, a key twice).
NO_KEY = N_("{columns}: required to match the child, but empty")
SAME_ID = N_("{column}: the same resident ID {id} is also on row {rows}")
SAME_KEY = N_("{column}: the same key is also on row {rows}")
WHOLE_ROW = N_("(row)")


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


@functools.lru_cache(maxsize=4096)  # (a list repeats its few codes on every row)
def _plain_code(s: str) -> bool:
    """Whether a code cell is as compared already (nothing to normalise)."""
    return not s or (s.isprintable() and not _ODD.search(s) and is_normalized("NFKC", s))


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
            if not _plain_code(s) and (n := compact(s)) != s:
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


@dataclass(slots=True)
class SyncOptions:
    received: dt.date
    full: bool = False
    agreement_date: dt.date | None = None
    case_prefix: str = "ORG"
    contractor_id: str = "contractor"
    contractor_name: str = "承接机构"
    batch_size: int = 0  # 0: BATCH_SIZE (settings: INTEROP_SYNC_BATCH_SIZE)
    workers: int | None = None  # None: one per core (settings: INTEROP_SYNC_WORKERS)
    parallel_min: int | None = None  # rows from which workers are used (…_PARALLEL_MIN)
    delist_limit: DelistLimit = DEFAULT_LIMIT  # the --full guard (interop.core.delisting)
    dry_run: bool = False  # decide every row, write nothing (a preview)
    actor: str | None = None  # who runs it (a staff id); None: unattended
    token: str | None = None  # the person's API token ($INTEROP_TOKEN), resolved to ``actor``
    part_bytes: int = PART_BYTES  # bytes of a CSV list per part


class Prepared(NamedTuple):
    """A row as the writer needs it: quarantined (no key; its raw cells, stored, never
    printed) or mapped (entry and, for a new key, case record as canonical JSON bytes)."""

    number: int
    values: dict[str, str] | None  # the raw row, when quarantined
    findings: list[Finding]  # why it is quarantined, or warnings
    key: str | None = None
    raw_digest: str = ""
    entry_json: bytes = b""
    entry_digest: str = ""
    resident_id: str | None = None
    risk: str | None = None
    record: bytes | None = None  # the case record's JSON, when the key is new

    @classmethod
    def quarantine(cls, row: RawRow, findings: list[Finding]) -> Prepared:
        return cls(row.number, dict(row.values), findings)


class Preparer:
    """Maps and checks rows of one list (see :meth:`prepare`)."""

    def __init__(
        self,
        mapping: InboundMapping,
        terms: CodeLookup,
        options: SyncOptions,
        layout: Layout | None,
    ) -> None:
        self.mapping, self.terms, self.options = mapping, terms, options
        self.duplicates: dict[int, list[int]] = {}  # row → the other rows of its key
        system = cs("family-relationship")
        self.parts = ListParts(
            received=options.received,
            contractor_id=options.contractor_id,
            contractor_name=options.contractor_name,
            relationship=lambda text: terms.code_for_text(system, text),
            inclusion_basis=mapping.inclusion_basis,
        )
        self.normalise, self.keys = Normaliser(mapping), RowKeys(mapping, layout)

    def prepare(self, row: RawRow, *, fresh: bool) -> Prepared:
        """A row mapped, or why it is quarantined; ``fresh``: the archive lacks its key."""
        m = self.mapping
        if row.problem is not None:
            where = row.problem[2] if len(row.problem) > 2 else WHOLE_ROW
            return Prepared.quarantine(row, [Finding(where, row.problem[0], row.problem[1])])
        values, notes = self.normalise(row.values)
        if notes and any(f.severity == "error" for f in notes):
            return Prepared.quarantine(row, [f for f in notes if f.severity == "error"])
        key, rid = self.keys.key(values)
        if key is None:
            cols = "/".join(m.fields[k].column for k in m.key)
            msg = NO_KEY.format(columns=cols)
            return Prepared.quarantine(row, [Finding(cols, "missing-field", msg)])
        if others := self.duplicates.get(row.number):
            col, where = m.fields[m.key[0]].column, ", ".join(str(n) for n in others[:10])
            same = SAME_ID if rid else SAME_KEY  # (SAME_KEY names no ID)
            msg = same.format(column=col, id=mask_id(rid) if rid else "", rows=where)
            return Prepared.quarantine(row, [Finding(col, "duplicate", msg)])
        entry, findings = m.map_row(values, self.terms, self.options.received)
        if entry is None:
            return Prepared.quarantine(row, findings)
        entry_json, record = dumpb(entry), self.parts.new_record(entry) if fresh else None
        return Prepared(
            row.number, None, notes + findings, key, self.keys.digest(row.raw), entry_json,
            digest(entry_json), entry.get("resident_id"), entry.get("risk_level"), record,
        )  # fmt: skip
