"""The reference of the tests for the mapper: a row mapped plainly, field by field.

:meth:`interop.inbound.mapping.InboundMapping.map_row` runs each field's
converter, bound once, with caches; this reads each field in turn, uncached.
A property test holds the two together.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from interop._errors import ResidentIdError
from interop.core import resident_id
from interop.inbound.mapping import CodeLookup, Finding, InboundMapping, cell_of


def _code(spec: Any, terms: CodeLookup, text: str) -> str | None:
    mapped = spec.values.get(text)
    return mapped if mapped is not None else terms.code_for_text(spec.system, text)


def _date(self: InboundMapping, text: str) -> dt.date | None:
    for rx in self.date_patterns:
        m = rx.match(text)
        if m:
            try:
                return dt.date(int(m["y"]), int(m["m"]), int(m["d"]))
            except (ValueError, IndexError):
                return None
    return None


def map_row_reference(
    self: InboundMapping, values: dict[str, str], terms: CodeLookup, received: dt.date
) -> tuple[dict[str, Any] | None, list[Finding]]:
    """:meth:`InboundMapping.map_row` written plainly, field by field."""
    entry: dict[str, Any] = {}
    findings: list[Finding] = []
    rid: resident_id.ResidentId | None = None
    dates: dict[str, dt.date] = {}
    for spec in self.fields.values():
        text = cell_of(values, spec)
        if not text:
            if spec.required:
                findings.append(
                    Finding(spec.column, "missing-field", f"{spec.column}: required, but empty")
                )
            continue
        kind = spec.kind
        if kind == "text":
            entry[spec.name] = text
        elif kind == "code":
            code = _code(spec, terms, text)
            if code is None:
                findings.append(
                    Finding(
                        spec.column,
                        "unknown-code",
                        f"{spec.column}: the value is not a known {spec.label}",
                    )
                )
            else:
                entry[spec.name] = code
        elif kind == "codes":
            found: list[str] = []
            for part in re.split(f"[{re.escape(spec.separators)}]", text):
                part = part.strip()
                if not part:
                    continue
                code = _code(spec, terms, part)
                if code is None:
                    findings.append(
                        Finding(
                            spec.column,
                            "unknown-code",
                            f"{spec.column}: a value is not a known {spec.label}",
                        )
                    )
                elif code not in found:
                    found.append(code)
            if found:
                entry[spec.name] = found
        elif kind == "date":
            day = _date(self, text)
            if day is None:
                findings.append(
                    Finding(
                        spec.column,
                        "bad-date",
                        f"{spec.column}: not a date in a known format "
                        "(YYYY-MM-DD, YYYY/M/D, YYYYMMDD, YYYY年M月D日)",
                    )
                )
            elif spec.past and day > received:
                findings.append(
                    Finding(
                        spec.column,
                        "future-date",
                        f"{spec.column}: the date lies after the list was received",
                    )
                )
            else:
                dates[spec.name] = day
                entry[spec.name] = day.isoformat()
        elif kind == "resident-id":
            try:
                rid = resident_id.parse(text)
            except ResidentIdError as exc:
                findings.append(
                    Finding(spec.column, "resident-id", f"{spec.column}: {exc.message}")
                )
            else:
                entry[spec.name] = rid.value
    return self._finish_row(entry, findings, rid, dates)
