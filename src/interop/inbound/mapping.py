"""Declarative inbound mappings (名单映射): one partner's list layout → list entries.

A JSON file under ``mappings/inbound/`` names each field's column, date formats, code
systems, value maps and the record key: another county's layout is a new file, not code.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import jsonschema_rs

from interop._errors import DataFileError, InputError, ResidentIdError
from interop.core import resident_id
from interop.datafile import read_data_file
from interop.fhir.canonical import cs
from interop.i18n import N_

#: Bump when the mapping engine changes what it makes of the same row.
ENGINE_VERSION = "1"
DEFAULT_MAPPING = "civil-affairs-default"
#: Entries per converter cache (cell text → result); a full cache starts again.
CACHE_LIMIT = 1 << 16

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
OVER_AGE = N_(
    "{column}: the child was {age} on the designation date; the programme serves children under 18"
)
OUTSIDE_PROVINCE = N_(
    "neither household registration nor residence is in {province}; kept, needs a "
    "designation to proceed"
)
SCHEMA_RULE = N_("{column}: breaks the '{rule}' rule of the list record schema")


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
    """One entry field (名单字段): the columns that feed it and how it is read."""

    name: str
    columns: tuple[str, ...]
    kind: str  # text, code, codes, date or resident-id
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


def cell_of(values: dict[str, str], spec: FieldSpec) -> str:
    """A field's cell, stripped: the first of its columns the row has."""
    for c in spec.columns:  # (a loop, not a generator: a re-sync keys every row with it)
        if (v := values.get(c)) is not None:
            return v.strip()
    return ""


@functools.cache
def _mapping_format() -> Any:
    """The validator of the mapping file format (名单映射文件格式)."""
    from interop.resources import mappings_dir

    path = mappings_dir() / "inbound" / "schemas" / "inbound-mapping.schema.json"
    return jsonschema_rs.validator_for(json.loads(path.read_text("utf-8")))


def _date_pattern(fmt: str) -> re.Pattern[str]:
    """A date format such as ``YYYY/M/D`` as a pattern with groups y, m and d."""
    tokens = {"YYYY": r"(?P<y>\d{4})", "MM": r"(?P<m>\d{2})", "M": r"(?P<m>\d{1,2})",
              "DD": r"(?P<d>\d{2})", "D": r"(?P<d>\d{1,2})"}  # fmt: skip
    parts = re.split("(YYYY|MM|M|DD|D)", fmt)
    return re.compile("^" + "".join(tokens.get(p) or re.escape(p) for p in parts) + "$")


#: A field's converter: cell text → (entry value, findings, the date or resident ID read).
Converted = tuple[Any, tuple[Finding, ...], Any]
Converter = Callable[[str], Converted]
Mapped = tuple[dict[str, Any] | None, list[Finding]]  # an entry (None: quarantined), findings
#: A field as mapped: spec, its one column (else None), missing finding, converter (None: text).
Step = tuple[FieldSpec, str | None, Finding | None, Converter | None]


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
    _validator: Any = None  # the record schema's (jsonschema-rs)
    #: each field's step, made on first use for the code lookup and receiving date of a run
    _plan: tuple[Any, list[Step]] = (None, [])

    @classmethod
    def load(cls, name_or_path: str | Path | None = None) -> InboundMapping:
        """Load by name (``mappings/inbound/<name>.json``) or by path."""
        from interop.resources import mappings_dir

        path = Path(ref := str(name_or_path or DEFAULT_MAPPING))
        if not (path.suffix == ".json" and path.is_file()):
            path = mappings_dir() / "inbound" / f"{ref}.json"
            if not path.is_file():
                known = ", ".join(sorted(p.stem for p in path.parent.glob("*.json"))) or "none"
                raise InputError(f"no inbound mapping named '{ref}' (known: {known})", code="E140")
        return cls.from_file(path)

    @classmethod
    def from_file(cls, path: Path) -> InboundMapping:
        name = str(path)
        text, data = read_data_file(path)

        def where(entry: str, key: str) -> str:  # the entry, and the line its key is first on
            pos = text.find(f'"{key}"')
            return f"{entry} (line {text.count(chr(10), 0, pos) + 1})" if pos >= 0 else entry

        if errors := list(_mapping_format().iter_errors(data)):
            parts = [str(p) for p in errors[0].instance_path]
            at = where(".".join(parts), parts[-1]) if parts else "(top)"
            raise DataFileError(name, at, f"breaks the mapping format ({errors[0].kind.name})")
        try:
            entry_schema = json.loads((path.parent / data["schema"]).read_text("utf-8"))
            validator = jsonschema_rs.validator_for(entry_schema)
        except (OSError, ValueError):  # (jsonschema-rs: a ValueError for a schema that is not one)
            msg = f"cannot load the record schema {data['schema']}"
            raise DataFileError(name, where("schema", "schema"), msg) from None
        known_fields = set(entry_schema.get("properties", {}))
        fields: dict[str, FieldSpec] = {}
        for fname, spec in data["fields"].items():
            at, get = where(f"fields.{fname}", fname), spec.get
            if known_fields and fname not in known_fields:
                raise DataFileError(name, at, "not a field of the record schema")
            kind, system, cols = get("type", "text"), get("system"), spec["column"]
            if kind in ("code", "codes") and not system:
                raise DataFileError(name, at, "a coded field needs a 'system'")
            fields[fname] = FieldSpec(
                name=fname, columns=tuple([cols] if isinstance(cols, str) else cols), kind=kind,
                system=cs(system[3:]) if system and system.startswith("cs:") else system,
                label=get("label", fname.replace("_", " ")), values=dict(get("values", {})),
                required=bool(get("required")), past=bool(get("past")),
                separators=get("separators", "、，,;；/"), fill_down=bool(get("fill_down")),
                synonyms=tuple(get("synonyms", ())), controls=str(get("controls", "remove")),
            )  # fmt: skip
        for keyname in ("key", "alternate_key"):
            if unknown := [f for f in data.get(keyname, []) if f not in fields]:
                raise DataFileError(name, where(keyname, keyname), f"'{unknown[0]}' is not a field")
        prov = data.get("province")
        fingerprint = ENGINE_VERSION + text + json.dumps(entry_schema, sort_keys=True)
        return cls(
            name=data["name"], file=name, fields=fields, entry_schema=entry_schema,
            fingerprint=hashlib.blake2b(fingerprint.encode(), digest_size=8).hexdigest(),
            key=tuple(data["key"]), alternate_key=tuple(data.get("alternate_key", ())) or None,
            inclusion_basis=data.get("inclusion_basis"),
            province=(prov["name"], prov["division_prefix"]) if prov else None,
            date_patterns=tuple(map(_date_pattern, data.get("date_formats", ["YYYY-MM-DD"]))),
            options={k: data[k] for k in ("csv", "xlsx", "xml", "json") if k in data},
            _validator=validator,
        )  # fmt: skip

    def reader_options(self, fmt: str) -> dict[str, Any]:
        return dict(self.options.get("json" if fmt == "ndjson" else fmt, {}))

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(c for f in self.fields.values() for c in f.columns)

    def _converter(self, spec: FieldSpec, terms: CodeLookup, received: dt.date) -> Converter | None:
        """One field's converter, its findings made once; codes and dates cached by cell text
        (a resident ID is not: each is another child's)."""
        col, values, system, kind = spec.column, spec.values, spec.system or "", spec.kind
        if kind == "text":
            return None
        if kind == "resident-id":

            def convert(text: str) -> Converted:
                try:
                    rid = resident_id.parse(text)
                except ResidentIdError as exc:
                    return None, (Finding(col, "resident-id", f"{col}: {exc.message}"),), None
                return rid.value, (), rid

            return convert
        if kind == "date":
            bad = (Finding(col, "bad-date", BAD_DATE.format(column=col)),)
            future = (Finding(col, "future-date", FUTURE_DATE.format(column=col)),)

            def convert(text: str) -> Converted:
                m = next(filter(None, (rx.match(text) for rx in self.date_patterns)), None)
                try:  # (the first format that matches decides)
                    day = dt.date(int(m["y"]), int(m["m"]), int(m["d"]))  # type: ignore[index]
                except (TypeError, ValueError, IndexError):
                    return None, bad, None
                if spec.past and day > received:
                    return None, future, None
                return day.isoformat(), (), day

        else:  # code, or codes: a cell of several, split at the separators
            template = UNKNOWN_CODE if kind == "code" else UNKNOWN_PART
            unknown = Finding(col, "unknown-code", template.format(column=col, label=spec.label))
            split = re.compile(f"[{re.escape(spec.separators)}]").split

            def convert(text: str) -> Converted:
                parts = [text] if kind == "code" else [p for p in map(str.strip, split(text)) if p]
                lookup = terms.code_for_text  # (after the mapping's own value map)
                codes = [values[p] if p in values else lookup(system, p) for p in parts]
                if kind == "code":
                    return (None, (unknown,), None) if codes[0] is None else (codes[0], (), None)
                found = tuple(dict.fromkeys(c for c in codes if c is not None))
                return found or None, (unknown,) * codes.count(None), None

        return cast(Converter, functools.lru_cache(CACHE_LIMIT)(convert))

    def map_row(self, values: dict[str, str], terms: CodeLookup, received: dt.date) -> Mapped:
        """The list entry of a row, or None with the findings that quarantine it."""
        made_for = self._plan[0]
        if made_for is None or made_for[0] is not terms or made_for[1] != received:
            plan = []
            for f in self.fields.values():
                empty = Finding(f.column, "missing-field", REQUIRED.format(column=f.column))
                one = f.column if len(f.columns) == 1 else None
                convert = self._converter(f, terms, received)
                plan.append((f, one, empty if f.required else None, convert))
            self._plan = ((terms, received), plan)
        entry: dict[str, Any] = {}
        findings: list[Finding] = []
        rid, dates = None, {}
        for spec, column, missing, convert in self._plan[1]:
            text = cell_of(values, spec) if column is None else (values.get(column) or "").strip()
            if not text:
                if missing is not None:
                    findings.append(missing)
                continue
            if convert is None:  # (a text field: the cell as it is)
                entry[spec.name] = text
                continue
            value, found, read = convert(text)
            findings += found
            if value is not None:
                entry[spec.name] = list(value) if type(value) is tuple else value  # (a copy)
            if type(read) is dt.date:
                dates[spec.name] = read
            elif read is not None:
                rid = read
        return self._finish_row(entry, findings, rid, dates)

    def _finish_row(
        self, entry: dict[str, Any], findings: list[Finding], rid: Any, dates: dict[str, dt.date]
    ) -> Mapped:
        """The checks across fields (ID, age, schema, province) of a mapped row."""
        sex, birth = entry.get("sex"), dates.get("birth_date")
        # (most rows: the dates are equal, so are their ISO forms — no mismatch)
        if rid is not None and not (
            birth == rid.birth_date and (sex == rid.sex or sex not in ("1", "2"))
        ):
            mismatched = resident_id.mismatches(rid, birth_date=entry.get("birth_date"), sex=sex)
            for fname, _ in mismatched:
                col = self._column(fname)
                msg = ID_MISMATCH[fname].format(column=col, id=rid.masked)
                findings.append(Finding(col, "id-mismatch", msg))
        birth = birth or (rid.birth_date if rid else None)
        if birth is not None and (designated := dates.get("designation_date")) is not None:
            age = designated.year - birth.year
            age -= (designated.month, designated.day) < (birth.month, birth.day)
            if age >= 18:
                col = self._column("birth_date")
                msg = OVER_AGE.format(column=col, age=age)
                findings.append(Finding(col, "age", msg, requirement="R-3.1-01"))
        if findings and any(f.severity == "error" for f in findings):
            return None, findings
        if not self._validator.is_valid(entry):
            for err in self._validator.iter_errors(entry):
                rule, path = err.kind.name, err.instance_path
                fname = err.kind.property if rule == "required" else path[0] if path else ""
                col = self._column(str(fname)) if fname != "" else "(row)"
                findings.append(Finding(col, "schema", SCHEMA_RULE.format(column=col, rule=rule)))
            return None, findings
        if self.province is not None:
            pname, prefix = self.province
            home, lives = entry.get("household_registration", ""), entry.get("home_address", "")
            if not (pname in home or pname in lives or (rid and rid.division.startswith(prefix))):
                col, msg = self._column("home_address"), OUTSIDE_PROVINCE.format(province=pname)
                findings.append(Finding(col, "outside-province", msg, "warning", "R-5.1-01"))
        return entry, findings

    def _column(self, fname: str) -> str:
        return spec.column if (spec := self.fields.get(fname)) else fname
