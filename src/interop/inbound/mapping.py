"""Declarative inbound mappings: one partner's list layout → list entries.

A mapping is a JSON file under ``mappings/inbound/`` (checked on load by
``schemas/inbound-mapping.schema.json``; errors name the file, the entry
and its line). It says which column feeds which entry field, how dates are
written, which code system reads a coded column (through the programme's
terminology, so 男/1, 汉族/汉/01, 高风险/高/high all work), optional value
maps for a county's own spellings, and the record key. Another county's
layout is a new file, not new code.

:meth:`InboundMapping.map_row` turns one raw row into a list entry or
into findings (which column, which check, why — never the value itself).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fastjsonschema

from interop._errors import DataFileError, InputError, ResidentIdError
from interop.core import resident_id
from interop.fhir.canonical import cs
from interop.i18n import N_
from interop.inbound.fields import CodeLookup as CodeLookup
from interop.inbound.fields import FieldSpec as FieldSpec
from interop.inbound.fields import Finding as Finding
from interop.inbound.fields import cell_of as cell_of
from interop.inbound.mapping_format import compile_check as compile_check
from interop.inbound.mapping_format import mapping_format, meta_validator

if TYPE_CHECKING:  # jsonschema is imported when a check fails (for its messages)
    import jsonschema  # type: ignore[import-untyped,unused-ignore]

#: Bump when the mapping engine changes what it makes of the same row.
ENGINE_VERSION = "1"
DEFAULT_MAPPING = "civil-affairs-default"

#: Entries per converter cache (cell text → result); a full cache starts again.
CACHE_LIMIT = 1 << 16
_MISSING: Any = object()
_TEXT, _CODE, _CODES, _DATE, _RID = range(5)
_KINDS = {"text": _TEXT, "code": _CODE, "codes": _CODES, "date": _DATE, "resident-id": _RID}


def _remember(cache: dict[str, Any], key: str, value: Any) -> None:
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    cache[key] = value


BAD_DATE = N_(
    "{column}: not a date in a known format (YYYY-MM-DD, YYYY/M/D, YYYYMMDD, YYYY年M月D日)"
)
# Why a mapped row is quarantined (or kept with a warning): the column named, never the value.
REQUIRED = N_("{column}: required, but empty")
UNKNOWN_CODE = N_("{column}: the value is not a known {label}")
UNKNOWN_PART = N_("{column}: a value is not a known {label}")
FUTURE_DATE = N_("{column}: the date lies after the list was received")
# (one template a field: "sex" alone, a code-like word, would not be said inside another)
ID_MISMATCH = {
    "birth_date": N_("{column}: does not match the birth date encoded in the resident ID {id}"),
    "sex": N_("{column}: does not match the sex encoded in the resident ID {id}"),
}
ID_MISMATCH_OTHER = N_("{column}: does not match the {field} encoded in the resident ID {id}")
OVER_AGE = N_(
    "{column}: the child was {age} on the designation date; the programme serves children under 18"
)
OUTSIDE_PROVINCE = N_(
    "neither household registration nor residence is in {province}; kept, needs a "
    "designation to proceed"
)
SCHEMA_RULE = N_("{column}: breaks the '{rule}' rule of the list record schema")


def _line_of(text: str, needle: str) -> int | None:
    """Line (1-based) where ``"needle"`` first appears as a key in the file text."""
    pos = text.find(f'"{needle}"')
    return text.count("\n", 0, pos) + 1 if pos >= 0 else None


def _compile_date_format(fmt: str) -> re.Pattern[str]:
    out, i = [], 0
    tokens = (("YYYY", r"(?P<y>\d{4})"), ("MM", r"(?P<m>\d{2})"), ("M", r"(?P<m>\d{1,2})"),
              ("DD", r"(?P<d>\d{2})"), ("D", r"(?P<d>\d{1,2})"))  # fmt: skip
    while i < len(fmt):
        for tok, rx in tokens:
            if fmt.startswith(tok, i):
                out.append(rx)
                i += len(tok)
                break
        else:
            out.append(re.escape(fmt[i]))
            i += 1
    return re.compile("^" + "".join(out) + "$")


@dataclass(slots=True)
class InboundMapping:
    """A loaded, checked inbound mapping."""

    name: str
    file: str
    fingerprint: str
    fields: dict[str, FieldSpec]
    key: tuple[str, ...]
    alternate_key: tuple[str, ...] | None
    inclusion_basis: str | None
    province: tuple[str, str] | None
    date_patterns: tuple[re.Pattern[str], ...]
    entry_schema: dict[str, Any]
    options: dict[str, dict[str, Any]]
    _fast: Callable[[Any], bool] | None = None  # the record schema's check, compiled
    _validator: jsonschema.Draft202012Validator | None = None
    _mapper: Callable[..., Any] | None = None

    # -- loading ------------------------------------------------------------

    @classmethod
    def load(cls, name_or_path: str | Path | None = None) -> InboundMapping:
        """Load by name (``mappings/inbound/<name>.json``) or by path."""
        from interop.resources import mappings_dir

        ref = str(name_or_path or DEFAULT_MAPPING)
        path = Path(ref)
        if not (path.suffix == ".json" and path.is_file()):
            path = mappings_dir() / "inbound" / f"{ref}.json"
            if not path.is_file():
                known = sorted(p.stem for p in (mappings_dir() / "inbound").glob("*.json"))
                raise InputError(
                    f"no inbound mapping named '{ref}' (known: {', '.join(known) or 'none'})",
                    code="E140",
                )
        return cls.from_file(path)

    @classmethod
    def from_file(cls, path: Path) -> InboundMapping:
        name = str(path)
        try:
            text = path.read_text("utf-8")
            data = json.loads(text)
        except OSError as exc:
            raise DataFileError(name, "(file)", f"cannot read ({exc.strerror})") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            line = getattr(exc, "lineno", None)
            raise DataFileError(
                name, f"line {line}" if line else "(file)", "not valid JSON"
            ) from None
        if not mapping_format()(data):
            err = next(iter(meta_validator().iter_errors(data)))
            parts = [str(p) for p in err.absolute_path]
            entry = ".".join(parts) or "(top)"
            line = _line_of(text, parts[-1]) if parts else None
            at = f"{entry} (line {line})" if line else entry
            raise DataFileError(name, at, f"breaks the mapping format ({err.validator})")

        def where(entry: str, key: str) -> str:
            line = _line_of(text, key)
            return f"{entry} (line {line})" if line else entry

        schema_path = path.parent / data["schema"]
        try:
            entry_schema = json.loads(schema_path.read_text("utf-8"))
            check = compile_check(entry_schema)
        except (OSError, ValueError, fastjsonschema.JsonSchemaDefinitionException):
            raise DataFileError(
                name, where("schema", "schema"), f"cannot load the record schema {data['schema']}"
            ) from None
        known_fields = set(entry_schema.get("properties", {}))
        fields: dict[str, FieldSpec] = {}
        for fname, spec in data["fields"].items():
            if known_fields and fname not in known_fields:
                raise DataFileError(
                    name, where(f"fields.{fname}", fname), "not a field of the record schema"
                )
            kind = spec.get("type", "text")
            system = spec.get("system")
            if kind in ("code", "codes") and not system:
                raise DataFileError(
                    name, where(f"fields.{fname}", fname), "a coded field needs a 'system'"
                )
            if system and system.startswith("cs:"):
                system = cs(system[3:])
            cols = spec["column"]
            fields[fname] = FieldSpec(
                name=fname,
                columns=tuple([cols] if isinstance(cols, str) else cols),
                kind=kind,
                required=bool(spec.get("required", False)),
                system=system,
                label=spec.get("label", fname.replace("_", " ")),
                values=dict(spec.get("values", {})),
                separators=spec.get("separators", "、，,;；/"),
                past=bool(spec.get("past", False)),
                synonyms=tuple(spec.get("synonyms", ())),
                fill_down=bool(spec.get("fill_down", False)),
                controls=str(spec.get("controls", "remove")),
            )
        for keyname in ("key", "alternate_key"):
            for f in data.get(keyname, []):
                if f not in fields:
                    raise DataFileError(name, where(keyname, keyname), f"'{f}' is not a field")
        prov = data.get("province")
        fmts = data.get("date_formats", ["YYYY-MM-DD"])
        fingerprint = hashlib.blake2b(
            (ENGINE_VERSION + text + json.dumps(entry_schema, sort_keys=True)).encode(),
            digest_size=8,
        ).hexdigest()
        return cls(
            name=data["name"],
            file=name,
            fingerprint=fingerprint,
            fields=fields,
            key=tuple(data["key"]),
            alternate_key=tuple(data["alternate_key"]) if data.get("alternate_key") else None,
            inclusion_basis=data.get("inclusion_basis"),
            province=(prov["name"], prov["division_prefix"]) if prov else None,
            date_patterns=tuple(_compile_date_format(f) for f in fmts),
            entry_schema=entry_schema,
            _fast=check,
            options={k: data[k] for k in ("csv", "xlsx", "xml", "json") if k in data},
        )

    def reader_options(self, fmt: str) -> dict[str, Any]:
        if fmt == "ndjson":
            fmt = "json"
        return dict(self.options.get(fmt, {}))

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(c for f in self.fields.values() for c in f.columns)

    # -- mapping a row ------------------------------------------------------

    def _code(self, terms: CodeLookup, spec: FieldSpec, text: str) -> str | None:
        mapped = spec.values.get(text)
        if mapped is not None:
            return mapped
        assert spec.system is not None
        return terms.code_for_text(spec.system, text)  # (cached by the mapper, per field)

    def _date(self, text: str) -> dt.date | None:
        for rx in self.date_patterns:
            m = rx.match(text)
            if m:
                try:
                    return dt.date(int(m["y"]), int(m["m"]), int(m["d"]))
                except (ValueError, IndexError):
                    return None
        return None

    def _codes(self, terms: CodeLookup, spec: FieldSpec, text: str) -> tuple[list[str], int]:
        """The codes of a multi-valued cell, and how many of its parts are unknown."""
        found: list[str] = []
        unknown = 0
        for part in re.split(f"[{re.escape(spec.separators)}]", text):
            part = part.strip()
            if not part:
                continue
            code = self._code(terms, spec, part)
            if code is None:
                unknown += 1
            elif code not in found:
                found.append(code)
        return found, unknown

    def map_row(
        self, values: dict[str, str], terms: CodeLookup, received: dt.date
    ) -> tuple[dict[str, Any] | None, list[Finding]]:
        """The list entry of a row, or None with the findings that quarantine it.

        By a function generated for this mapping (:meth:`_fields`): one
        straight run of code per field, its findings built once, and the
        converters' results cached by cell text (bounded) — codes, dates and
        multi-valued cells repeat a lot in a list. (A plain reference of the
        tests holds it to the field-by-field reading.)
        """
        if self._mapper is None:
            self._mapper = self._fields()
        entry, findings, rid, dates = self._mapper(values, terms, received)
        return self._finish_row(entry, findings, rid, dates)

    def _fields(self) -> Callable[..., Any]:
        """Generate the field-by-field part of :meth:`map_row` for this mapping.

        Only column names, field names and numbers reach the source (as
        ``repr`` literals); every other value is bound by name.
        """
        ns: dict[str, Any] = {
            "_MISSING": _MISSING,
            "_remember": _remember,
            "parse_id": resident_id.parse,
            "ResidentIdError": ResidentIdError,
            "Finding": Finding,
            "cell_of": cell_of,
            "m": self,
        }
        src = ["def _map(values, terms, received):", "    entry = {}", "    findings = []"]
        src += ["    rid = None", "    dates = {}", "    get = values.get"]
        for i, spec in enumerate(self.fields.values()):
            name, column, kind, required = spec.name, spec.column, _KINDS[spec.kind], spec.required
            single = len(spec.columns) == 1
            ns[f"spec{i}"], ns[f"cache{i}"] = spec, {}  # (a cache of cell text → result)
            ns[f"missing{i}"] = Finding(column, "missing-field", REQUIRED.format(column=column))
            ns[f"unknown{i}"] = Finding(
                column, "unknown-code", UNKNOWN_CODE.format(column=column, label=spec.label)
            )
            ns[f"unknown_part{i}"] = Finding(
                column, "unknown-code", UNKNOWN_PART.format(column=column, label=spec.label)
            )
            ns[f"bad_date{i}"] = Finding(column, "bad-date", BAD_DATE.format(column=column))
            ns[f"future{i}"] = Finding(column, "future-date", FUTURE_DATE.format(column=column))
            if single:
                src += [f"    v = get({column!r})", '    text = v.strip() if v else ""']
            else:
                src += [f"    text = cell_of(values, spec{i})"]
            src += ["    if not text:"]
            src += [f"        findings.append(missing{i})" if required else "        pass"]
            src += ["    else:"]
            if kind == _TEXT:
                body = [f"entry[{name!r}] = text"]
            elif kind == _CODE:
                body = [
                    f"code = cache{i}.get(text, _MISSING)",
                    "if code is _MISSING:",
                    f"    code = m._code(terms, spec{i}, text)",
                    f"    _remember(cache{i}, text, code)",
                    "if code is None:",
                    f"    findings.append(unknown{i})",
                    "else:",
                    f"    entry[{name!r}] = code",
                ]
            elif kind == _CODES:
                body = [
                    f"known = cache{i}.get(text)",
                    "if known is None:",
                    f"    known = m._codes(terms, spec{i}, text)",
                    f"    _remember(cache{i}, text, known)",
                    "found, unknown = known",
                    "if unknown:",
                    f"    findings.extend([unknown_part{i}] * unknown)",
                    "if found:",
                    f"    entry[{name!r}] = list(found)",
                ]
            elif kind == _DATE:
                past = ["elif day[0] > received:", f"    findings.append(future{i})"]
                body = [
                    f"day = cache{i}.get(text, _MISSING)",
                    "if day is _MISSING:",
                    "    found = m._date(text)",
                    "    day = None if found is None else (found, found.isoformat())",
                    f"    _remember(cache{i}, text, day)",
                    "if day is None:",
                    f"    findings.append(bad_date{i})",
                    *(past if spec.past else []),
                    "else:",
                    f"    dates[{name!r}] = day[0]",
                    f"    entry[{name!r}] = day[1]",
                ]
            elif kind == _RID:
                body = [
                    "try:",
                    "    rid = parse_id(text)",
                    "except ResidentIdError as exc:",
                    f"    findings.append(Finding({column!r}, 'resident-id', "
                    f"{column!r} + ': ' + exc.message))",
                    "else:",
                    f"    entry[{name!r}] = rid.value",
                ]
            else:  # pragma: no cover - the mapping format allows no other type
                raise AssertionError(spec.kind)
            src += ["        " + line for line in body]
        src += ["    return entry, findings, rid, dates", ""]
        exec(compile("\n".join(src), f"<mapping {self.name}>", "exec"), ns)
        mapper: Callable[..., Any] = ns["_map"]
        return mapper

    def _finish_row(
        self,
        entry: dict[str, Any],
        findings: list[Finding],
        rid: resident_id.ResidentId | None,
        dates: dict[str, dt.date],
    ) -> tuple[dict[str, Any] | None, list[Finding]]:
        """The checks across fields (ID, age, schema, province) of a mapped row."""
        sex = entry.get("sex")
        if rid is not None and not (
            # (most rows: the dates are equal, so are their ISO forms — no mismatch)
            dates.get("birth_date") == rid.birth_date and (sex == rid.sex or sex not in ("1", "2"))
        ):
            for fname, _msg in resident_id.mismatches(
                rid, birth_date=entry.get("birth_date"), sex=entry.get("sex")
            ):
                fspec = self.fields.get(fname)
                column = fspec.column if fspec else fname
                findings.append(
                    Finding(
                        column,
                        "id-mismatch",
                        ID_MISMATCH.get(fname, ID_MISMATCH_OTHER).format(
                            column=column, field=fname.replace("_", " "), id=rid.masked
                        ),
                    )
                )
        birth = dates.get("birth_date") or (rid.birth_date if rid else None)
        designated = dates.get("designation_date")
        if birth is not None and designated is not None:
            age = (
                designated.year
                - birth.year
                - ((designated.month, designated.day) < (birth.month, birth.day))
            )
            if age >= 18:
                bcol = self._column("birth_date")
                findings.append(
                    Finding(
                        bcol,
                        "age",
                        OVER_AGE.format(column=bcol, age=age),
                        requirement="R-3.1-01",
                    )
                )
        if findings and any(f.severity == "error" for f in findings):
            return None, findings
        if not self._fast_valid(entry):
            findings += self._schema_findings(entry)
            if findings:
                return None, findings
        if self.province is not None:
            pname, prefix = self.province
            inside = (
                pname in entry.get("household_registration", "")
                or pname in entry.get("home_address", "")
                or (rid is not None and rid.division.startswith(prefix))
            )
            if not inside:
                findings.append(
                    Finding(
                        self._column("home_address"),
                        "outside-province",
                        OUTSIDE_PROVINCE.format(province=pname),
                        severity="warning",
                        requirement="R-5.1-01",
                    )
                )
        return entry, findings

    def _column(self, fname: str) -> str:
        spec = self.fields.get(fname)
        return spec.column if spec else fname

    def _fast_valid(self, entry: dict[str, Any]) -> bool:
        if self._fast is None:
            self._fast = compile_check(self.entry_schema)
        return self._fast(entry)

    def validator(self) -> jsonschema.Draft202012Validator:
        if self._validator is None:
            import jsonschema

            self._validator = jsonschema.Draft202012Validator(self.entry_schema)
        return self._validator

    def _schema_findings(self, entry: dict[str, Any]) -> list[Finding]:
        out = []
        for err in self.validator().iter_errors(entry):
            fname = str(err.absolute_path[0]) if err.absolute_path else ""
            if err.validator == "required":
                fname = err.message.split("'")[1] if "'" in err.message else fname
            column = self._column(fname) if fname else "(row)"
            out.append(
                Finding(
                    column,
                    "schema",
                    SCHEMA_RULE.format(column=column, rule=err.validator),
                )
            )
        return out
