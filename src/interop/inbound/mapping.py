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
import functools
import hashlib
import json
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from interop._errors import DataFileError, InputError, ResidentIdError
from interop.core import resident_id
from interop.fhir.canonical import cs
from interop.inbound.fastschema import (
    Check,
    Unsupported,
    compile_schema,
    compile_split,
    is_valid_schema,
)
from interop.inbound.normalise import id_key

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
_RID_CHECK = "10X98765432"
_RID_OFFSET = 48 * sum((7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2))


def _fast_resident_id(text: str) -> resident_id.ResidentId:
    """:func:`resident_id.parse` for the common case (18 ASCII characters, all right).

    Anything else — and every error, for its message — goes to ``parse`` itself.
    """
    s = text.upper()
    if len(s) == 18 and s.isascii() and s[:17].isdigit() and (s[17] == "X" or s[17].isdigit()):
        b = s.encode()
        total = (
            b[0] * 7 + b[1] * 9 + b[2] * 10 + b[3] * 5 + b[4] * 8 + b[5] * 4 + b[6] * 2
            + b[7] + b[8] * 6 + b[9] * 3 + b[10] * 7 + b[11] * 9 + b[12] * 10 + b[13] * 5
            + b[14] * 8 + b[15] * 4 + b[16] * 2
        ) - _RID_OFFSET  # fmt: skip
        if _RID_CHECK[total % 11] == s[17]:
            birth = _birth_dates.get(s[6:14])
            if birth is None:
                try:
                    birth = dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
                except ValueError:
                    return resident_id.parse(text)  # (for its message)
                _remember(_birth_dates, s[6:14], birth)
            sex = "1" if b[16] % 2 == 1 else "2"  # ASCII digits: parity of the code
            return resident_id.ResidentId(s, s[:6], birth, sex)
    return resident_id.parse(text)


#: Birth dates by their eight digits, as :func:`_fast_resident_id` read them (a list's
#: children share a few thousand birth dates).
_birth_dates: dict[str, dt.date] = {}


def _remember(cache: dict[str, Any], key: str, value: Any) -> None:
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    cache[key] = value


class CodeLookup(Protocol):
    """What the mapping needs of :class:`interop.fhir.terminology.Terminology`."""

    def code_for_text(self, system: str, text: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem of a row: which column, what kind, why; never the value."""

    field: str
    code: str
    message: str
    severity: str = "error"
    requirement: str | None = None


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    columns: tuple[str, ...]
    kind: str
    required: bool
    system: str | None
    label: str
    values: dict[str, str]
    separators: str
    past: bool
    synonyms: tuple[str, ...] = ()  # other header names of the column (stage 1)
    fill_down: bool = False  # an empty cell under a merged one takes the value above
    controls: str = "remove"  # control/bidi characters: "remove" them or "quarantine" the row

    @property
    def column(self) -> str:
        return self.columns[0]


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
    _fast: Callable[[Any], bool] | None = None
    _validator: jsonschema.Draft202012Validator | None = None
    _code_cache: dict[tuple[str, str], str | None] = field(default_factory=dict)
    _columns_in_order: list[tuple[str, ...]] = field(default_factory=list)
    _cells: Callable[[dict[str, str]], Any] | None = None
    _rid_column: str | None = None
    _mapper: Callable[..., Any] | None = None
    _rest: Callable[[Any], bool] | None = None  # see _split_schema
    _plan: list[tuple[str, str, bool, int, bool, FieldSpec, dict[str, Any]]] = field(
        default_factory=list
    )

    def __post_init__(self) -> None:
        self._columns_in_order = [spec.columns for spec in self.fields.values()]
        if len(self._columns_in_order) > 1 and all(len(c) == 1 for c in self._columns_in_order):
            self._cells = operator.itemgetter(*(c[0] for c in self._columns_in_order))
        rid = self.fields.get("resident_id")
        if self.key == ("resident_id",) and rid is not None and len(rid.columns) == 1:
            self._rid_column = rid.column
        # one converter per field, with a cache of cell text → result where that pays
        self._plan = [
            (
                spec.name,
                spec.column,
                len(spec.columns) == 1,
                _KINDS.get(spec.kind, -1),
                spec.required,
                spec,
                {},
            )
            for spec in self.fields.values()
        ]

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
        if not _mapping_format()(data):
            err = next(iter(_meta_validator().iter_errors(data)))
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
            if not is_valid_schema(entry_schema):  # not one the fast check knows: ask jsonschema
                import jsonschema

                try:
                    jsonschema.Draft202012Validator.check_schema(entry_schema)
                except jsonschema.SchemaError:
                    raise ValueError("not a JSON Schema") from None
        except (OSError, ValueError):
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
            options={k: data[k] for k in ("csv", "xlsx", "xml", "json") if k in data},
        )

    def reader_options(self, fmt: str) -> dict[str, Any]:
        if fmt == "ndjson":
            fmt = "json"
        return dict(self.options.get(fmt, {}))

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(c for f in self.fields.values() for c in f.columns)

    # -- keys and digests ---------------------------------------------------

    def _raw(self, values: dict[str, str], spec: FieldSpec) -> str:
        if len(spec.columns) == 1:
            return (values.get(spec.columns[0]) or "").strip()
        for col in spec.columns:
            v = values.get(col)
            if v is not None:
                return v.strip()
        return ""

    def key_of(self, values: dict[str, str]) -> tuple[str | None, str | None]:
        """``(match_key, resident_id_text)`` from raw values; key None when missing."""
        if self._rid_column is not None:  # the usual key: the resident ID, when present
            v = values.get(self._rid_column)
            rid = id_key(v) if v else ""
            if rid and len(rid) <= 60:
                return "k:" + rid, rid
        return self._key_of(values)

    def _key_of(self, values: dict[str, str]) -> tuple[str | None, str | None]:
        rid_spec = self.fields.get("resident_id")
        rid = id_key(self._raw(values, rid_spec)) if rid_spec else ""
        for prefix, names in (("k", self.key), ("a", self.alternate_key)):
            if not names:
                continue
            parts = [self._raw(values, self.fields[n]) for n in names]
            if names == ("resident_id",):
                parts = [rid]
            if all(parts):
                if len(parts) == 1 and len(parts[0]) <= 60:
                    return f"{prefix}:{parts[0].upper()}", rid or None
                joined = "\x1f".join(parts).encode()
                return (
                    f"{prefix}#{hashlib.blake2b(joined, digest_size=16).hexdigest()}",
                    rid or None,
                )
        return None, rid or None

    def raw_digest(self, values: dict[str, str]) -> str:
        """Digest of the mapped raw cells: equal digest ⇒ the same entry (skip re-mapping)."""
        if self._cells is not None:
            try:
                found = self._cells(values)
            except KeyError:  # a column is absent: read cell by cell below
                pass
            else:
                return _digest_cells(self.fingerprint, found)
        get = values.get
        cells = [
            get(cols[0], "")
            if len(cols) == 1
            else next((get(c) or "" for c in cols if c in values), "")
            for cols in self._columns_in_order
        ]
        return _digest_cells(self.fingerprint, cells)

    def shape(self, header: list[str]) -> RowShape:
        """Key and digest of rows given as cell lists under ``header`` (a CSV file's rows)."""
        return RowShape(self, header)

    # -- mapping a row ------------------------------------------------------

    def _code(self, terms: CodeLookup, spec: FieldSpec, text: str) -> str | None:
        mapped = spec.values.get(text)
        if mapped is not None:
            return mapped
        assert spec.system is not None
        key = (spec.system, text)
        try:
            return self._code_cache[key]
        except KeyError:
            found = terms.code_for_text(spec.system, text)
            if len(self._code_cache) >= CACHE_LIMIT:
                self._code_cache.clear()
            self._code_cache[key] = found
            return found

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

        The same result as :meth:`map_row_reference` (a test holds them
        together), by a function generated for this mapping (:meth:`_fields`):
        one straight run of code per field, its findings built once, and the
        converters' results cached by cell text (bounded) — codes, dates and
        multi-valued cells repeat a lot in a list.
        """
        if self._mapper is None:
            self._mapper = self._fields()
        entry, findings, rid, dates, checked = self._mapper(values, terms, received)
        return self._finish_row(entry, findings, rid, dates, checked)

    def _fields(self) -> Callable[..., Any]:
        """Generate the field-by-field part of :meth:`map_row` for this mapping.

        Only column names, field names and numbers reach the source (as
        ``repr`` literals); every other value is bound by name.

        The record schema's check of a coded or date field's value is made
        when the converter's result is cached, once per distinct cell text,
        not once per row (:meth:`_split_schema`): the function returns
        whether those values passed, and :meth:`_finish_row` checks the rest.
        """
        apart = self._split_schema()
        ns: dict[str, Any] = {
            "_MISSING": _MISSING,
            "_remember": _remember,
            "_fast_resident_id": _fast_resident_id,
            "ResidentIdError": ResidentIdError,
            "Finding": Finding,
            "m": self,
        }
        src = ["def _map(values, terms, received):", "    entry = {}", "    findings = []"]
        src += ["    rid = None", "    dates = {}", "    get = values.get", "    checked = True"]
        for i, (name, column, single, kind, required, spec, cache) in enumerate(self._plan):
            ns[f"spec{i}"], ns[f"cache{i}"] = spec, cache
            check = apart.get(name)
            if check is not None and kind in (_CODE, _CODES, _DATE):
                # cached: (converter result, whether the value passes the schema)
                ns[f"check{i}"] = check
                ok = f"check{i}"
            else:
                ok = None
            ns[f"missing{i}"] = Finding(column, "missing-field", f"{column}: required, but empty")
            ns[f"unknown{i}"] = Finding(
                column, "unknown-code", f"{column}: the value is not a known {spec.label}"
            )
            ns[f"unknown_part{i}"] = Finding(
                column, "unknown-code", f"{column}: a value is not a known {spec.label}"
            )
            ns[f"bad_date{i}"] = Finding(
                column,
                "bad-date",
                f"{column}: not a date in a known format "
                "(YYYY-MM-DD, YYYY/M/D, YYYYMMDD, YYYY年M月D日)",
            )
            ns[f"future{i}"] = Finding(
                column, "future-date", f"{column}: the date lies after the list was received"
            )
            if single:
                src += [f"    v = get({column!r})", '    text = v.strip() if v else ""']
            else:
                src += [f"    text = m._raw(values, spec{i})"]
            src += ["    if not text:"]
            src += [f"        findings.append(missing{i})" if required else "        pass"]
            src += ["    else:"]
            if kind == _TEXT:
                body = [f"entry[{name!r}] = text"]
            elif kind == _CODE and ok is not None:
                body = [
                    f"hit = cache{i}.get(text)",
                    "if hit is None:",
                    f"    code = m._code(terms, spec{i}, text)",
                    f"    hit = (code, code is None or {ok}(code))",
                    f"    _remember(cache{i}, text, hit)",
                    "code = hit[0]",
                    "if code is None:",
                    f"    findings.append(unknown{i})",
                    "else:",
                    f"    entry[{name!r}] = code",
                    "    if not hit[1]:",
                    "        checked = False",
                ]
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
                fill = (
                    [
                        "    found, unknown = known",
                        f"    known = (found, unknown, not found or {ok}(list(found)))",
                    ]
                    if ok is not None
                    else []
                )
                body = [
                    f"known = cache{i}.get(text)",
                    "if known is None:",
                    f"    known = m._codes(terms, spec{i}, text)",
                    *fill,
                    f"    _remember(cache{i}, text, known)",
                    "found, unknown = known[0], known[1]",
                    "if unknown:",
                    f"    findings.extend([unknown_part{i}] * unknown)",
                    "if found:",
                    f"    entry[{name!r}] = list(found)",
                    *(["    if not known[2]:", "        checked = False"] if ok else []),
                ]
            elif kind == _DATE:
                past = (
                    ["elif day[0] > received:", f"    findings.append(future{i})"]
                    if spec.past
                    else []
                )
                iso = "found.isoformat()"
                body = [
                    f"day = cache{i}.get(text, _MISSING)",
                    "if day is _MISSING:",
                    "    found = m._date(text)",
                    (
                        f"    day = None if found is None else (found, {iso}, {ok}({iso}))"
                        if ok is not None
                        else f"    day = None if found is None else (found, {iso})"
                    ),
                    f"    _remember(cache{i}, text, day)",
                    "if day is None:",
                    f"    findings.append(bad_date{i})",
                    *past,
                    "else:",
                    f"    dates[{name!r}] = day[0]",
                    f"    entry[{name!r}] = day[1]",
                    *(["    if not day[2]:", "        checked = False"] if ok is not None else []),
                ]
            elif kind == _RID:
                body = [
                    "try:",
                    "    rid = _fast_resident_id(text)",
                    "except ResidentIdError as exc:",
                    f"    findings.append(Finding({column!r}, 'resident-id', "
                    f"{column!r} + ': ' + exc.message))",
                    "else:",
                    f"    entry[{name!r}] = rid.value",
                ]
            else:  # pragma: no cover - the mapping format allows no other type
                raise AssertionError(spec.kind)
            src += ["        " + line for line in body]
        src += ["    return entry, findings, rid, dates, checked", ""]
        exec(compile("\n".join(src), f"<mapping {self.name}>", "exec"), ns)
        mapper: Callable[..., Any] = ns["_map"]
        return mapper

    def map_row_reference(
        self, values: dict[str, str], terms: CodeLookup, received: dt.date
    ) -> tuple[dict[str, Any] | None, list[Finding]]:
        """:meth:`map_row` written plainly, field by field (the reference of the tests)."""
        entry: dict[str, Any] = {}
        findings: list[Finding] = []
        rid: resident_id.ResidentId | None = None
        dates: dict[str, dt.date] = {}
        for spec in self.fields.values():
            text = self._raw(values, spec)
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
                code = self._code(terms, spec, text)
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
                    code = self._code(terms, spec, part)
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
                day = self._date(text)
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
        return self._finish_row(entry, findings, rid, dates, None)

    def _finish_row(
        self,
        entry: dict[str, Any],
        findings: list[Finding],
        rid: resident_id.ResidentId | None,
        dates: dict[str, dt.date],
        checked: bool | None,
    ) -> tuple[dict[str, Any] | None, list[Finding]]:
        """The checks across fields (ID, age, schema, province) of a mapped row.

        ``checked``: whether the values the generated mapper checked already
        passed (:meth:`_fields`; the rest of the record schema is checked
        here); None: check the whole record here.
        """
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
                        f"{column}: does not match the {fname.replace('_', ' ')} encoded in "
                        f"the resident ID {rid.masked}",
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
                        f"{bcol}: the child was {age} on the "
                        "designation date; the programme serves children under 18",
                        requirement="R-3.1-01",
                    )
                )
        if findings and any(f.severity == "error" for f in findings):
            return None, findings
        if checked is None or self._rest is None:
            valid = self._fast_valid(entry)
        else:
            valid = checked and self._rest(entry)
        if not valid:
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
                        f"neither household registration nor residence is in {pname}; "
                        "kept, needs a designation to proceed",
                        severity="warning",
                        requirement="R-5.1-01",
                    )
                )
        return entry, findings

    def _column(self, fname: str) -> str:
        spec = self.fields.get(fname)
        return spec.column if spec else fname

    def _split_schema(self) -> dict[str, Check]:
        """The record schema's checks of the coded and date fields' values, each alone, and
        (as :attr:`_rest`) the check of the rest (:func:`compile_split`); none when the schema
        cannot be split."""
        names = [n for n, spec in self.fields.items() if spec.kind in ("code", "codes", "date")]
        try:
            split = compile_split(self.entry_schema, names)
        except Unsupported:
            split = None
        if split is None:
            self._rest = self._fast_valid
            return {}
        self._rest, apart = split
        return apart

    def _fast_valid(self, entry: dict[str, Any]) -> bool:
        if self._fast is None:
            try:
                self._fast = compile_schema(self.entry_schema)
            except Unsupported:
                v = self.validator()
                self._fast = v.is_valid
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
                    f"{column}: breaks the '{err.validator}' rule of the list record schema",
                )
            )
        return out


@functools.lru_cache(maxsize=64)
def _digest_start(fingerprint: str) -> Any:
    """A blake2b state that has read the fingerprint (copied per row: half the cost)."""
    return hashlib.blake2b((fingerprint + "\x1f").encode(), digest_size=16)


def _digest_cells(fingerprint: str, cells: Iterable[str]) -> str:
    """blake2b-128 of the fingerprint and the cells, separated by U+001F."""
    h = _digest_start(fingerprint).copy()
    h.update("\x1f".join(cells).encode())
    return str(h.hexdigest())


class RowShape:
    """:meth:`InboundMapping.key_of` and :meth:`~InboundMapping.raw_digest` of cell lists.

    A CSV file's rows share one header, so where each mapped column sits is
    worked out once; the key and digest of a row are then read from its
    cells without building a dict. They equal what the dict-based methods
    give for ``dict(zip(header, cells))`` (a test holds them together) — the
    archive stores one digest, whichever way the row was read.
    """

    def __init__(self, mapping: InboundMapping, header: list[str]) -> None:
        self.mapping = mapping
        self.header = header
        # the last of equal column names wins, as in dict(zip(header, cells))
        where = {name: i for i, name in enumerate(header)}
        picks: list[int | None] = []
        for cols in mapping._columns_in_order:
            picks.append(next((where[c] for c in cols if c in where), None))
        pick: Callable[[list[str]], tuple[str, ...]] = (
            operator.itemgetter(*picks)
            if len(picks) > 1 and None not in picks
            else lambda cells: tuple("" if i is None else cells[i] for i in picks)
        )
        rid = mapping._rid_column
        at = where.get(rid) if rid is not None else None
        start, join, key_of = _digest_start(mapping.fingerprint), "\x1f".join, mapping.key_of

        # closures, not methods: the first pass of a re-sync calls these for every row
        def digest(cells: list[str]) -> str:
            h = start.copy()
            h.update(join(pick(cells)).encode())
            return str(h.hexdigest())

        def key(cells: list[str]) -> tuple[str | None, str | None]:
            if at is not None:
                v = cells[at]
                rid = id_key(v) if v else ""
                if rid and len(rid) <= 60:
                    return "k:" + rid, rid
            return key_of(dict(zip(header, cells, strict=False)))

        self.digest: Callable[[list[str]], str] = digest
        self.key: Callable[[list[str]], tuple[str | None, str | None]] = key
        # the header is the mapping's columns in the mapping's order (its own layout)
        self._own_layout = picks == list(range(len(header)))
        self._start, self._at = start, at

    def lines(
        self, delimiter: str
    ) -> tuple[Callable[[str], str | None], Callable[[str], str]] | None:
        """The key and raw digest of a whole line, read without splitting it into cells,
        for a header in the mapping's own layout (else None).

        For a line with exactly the header's number of cells they equal :attr:`key`
        and :attr:`digest` of its cells: the digest joins the cells with U+001F,
        which is the line with each delimiter replaced by it.
        """
        if not self._own_layout:
            return None
        start, at, key = self._start, self._at, self.key

        def line_digest(line: str) -> str:
            h = start.copy()
            h.update(line.replace(delimiter, "\x1f").encode())
            return str(h.hexdigest())

        def line_key(line: str) -> str | None:
            if at is not None:
                v = line.split(delimiter, at + 1)[at]
                rid = id_key(v) if v else ""
                if rid and len(rid) <= 60:
                    return "k:" + rid
            return key(line.split(delimiter))[0]

        return line_key, line_digest

    def byte_lines(
        self, delimiter: str
    ) -> tuple[Callable[[bytes], str | None], Callable[[bytes], str]] | None:
        """:meth:`lines` of a line as UTF-8 bytes (an ASCII ``delimiter``): the same key and
        digest. Only the key's cell is decoded (its spaces and case are Unicode's)."""
        found = self.lines(delimiter)
        if found is None or not delimiter.isascii():
            return None
        line_key = found[0]
        start, at, sep = self._start, self._at, delimiter.encode()

        def digest(line: bytes) -> str:
            h = start.copy()
            h.update(line.replace(sep, b"\x1f"))
            return str(h.hexdigest())

        def key(line: bytes) -> str | None:
            if at is not None:
                v = line.split(sep, at + 1)[at].decode()
                rid = id_key(v) if v else ""
                if rid and len(rid) <= 60:
                    return "k:" + rid
            return line_key(line.decode())

        return key, digest


def _mapping_schema() -> Any:
    from interop.resources import mappings_dir

    path = mappings_dir() / "inbound" / "schemas" / "inbound-mapping.schema.json"
    return json.loads(path.read_text("utf-8"))


@functools.cache
def _mapping_format() -> Check:
    """The mapping format's check, compiled (:mod:`interop.inbound.fastschema`)."""
    return compile_schema(_mapping_schema())


@functools.cache
def _meta_validator() -> jsonschema.Draft202012Validator:
    """The same check by ``jsonschema``, for its messages when a mapping file breaks it."""
    import jsonschema

    return jsonschema.Draft202012Validator(_mapping_schema())
