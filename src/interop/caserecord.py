"""Reading a case-record file (一人一档, one JSON document per child).

Three layers of checks, each reported as :class:`~interop.issues.Issue`
with the record path of the field: the JSON Schema that ships with the
project; codes against the programme's ValueSets; and the resident ID
number (GB 11643 check character, birth date and sex it encodes).
References between records (staff, adults, organisations) must resolve.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from interop._errors import InputError, ResidentIdError
from interop.core import resident_id
from interop.core.record import CaseRecord
from interop.core.schema import hints, unwrap_optional
from interop.fhir.canonical import vs
from interop.fhir.terminology import Terminology
from interop.issues import Issue
from interop.resources import schemas_dir


@dataclass(slots=True)
class CheckedCase:
    """A case record and what was found wrong with it (``record`` is None if unusable)."""

    record: CaseRecord | None
    issues: list[Issue]

    @property
    def ok(self) -> bool:
        return self.record is not None and not any(i.severity == "error" for i in self.issues)


def read_case_file(path: Path | str) -> dict[str, Any]:
    """Read a case-record file; :class:`InputError` (exit 2) when unreadable."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p}: cannot read the file ({exc.strerror})", code="E101") from None
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        raise InputError(f"{p}: not UTF-8 text", code="E102") from None
    except json.JSONDecodeError as exc:
        where = f" at line {exc.lineno}, column {exc.colno}"
        raise InputError(f"{p}: not valid JSON{where}", code="E102") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: a case record must be a JSON object", code="E103")
    return data


@functools.cache
def _schema_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((schemas_dir() / "case-record.schema.json").read_text("utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _json_path(parts: typing.Iterable[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(record)"


def _leaf_errors(err: jsonschema.ValidationError) -> typing.Iterator[jsonschema.ValidationError]:
    """The errors that say what is wrong, looking inside ``X | None`` (anyOf) fields."""
    if err.validator == "anyOf" and err.context:
        # The null branch only ever says "not null"; report the object branch.
        inner = [
            e for e in err.context if not (e.validator == "type" and e.validator_value == "null")
        ]
        if inner:
            for e in inner:
                yield from _leaf_errors(e)
            return
    yield err


def _schema_issues(
    data: dict[str, Any], validator: jsonschema.Draft202012Validator | None = None
) -> list[Issue]:
    issues = []
    checker = validator or _schema_validator()
    errors = [e for top in checker.iter_errors(data) for e in _leaf_errors(top)]
    for err in errors:
        path = _json_path(err.absolute_path)
        if err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else "a field"
            path = f"{path}.{missing}" if path != "(record)" else missing
            msg = "required field is missing"
        elif err.validator == "additionalProperties":
            msg = "unknown field (not in the case-record format)"
        elif err.validator == "pattern":
            msg = "wrong format (dates are YYYY-MM-DD, times YYYY-MM-DDThh:mm:ss+08:00)"
        elif err.validator in ("type", "anyOf"):
            msg = "wrong type of value"
        else:
            # jsonschema's own messages can echo values: keep only the rule name.
            msg = f"value breaks the '{err.validator}' rule of the case-record format"
        issues.append(Issue("error", path, msg, "schema"))
    return issues


def schema_issues(data: dict[str, Any], validator: jsonschema.Draft202012Validator) -> list[Issue]:
    """What breaks ``validator``'s schema in ``data`` (a form file's, for instance)."""
    return _schema_issues(data, validator)


def build_part(cls: type, data: Any) -> Any:
    """A typed record part (a form's content) from schema-valid JSON."""
    return _build(cls, data)


def _build(cls: type, data: Any) -> Any:
    """Turn schema-valid JSON into the typed records (recursively)."""
    kwargs = {}
    for name, convert in _fields_of(cls):
        value = data.get(name)
        if value is None:
            continue
        kwargs[name] = value if convert is None else convert(value)
    return cls(**kwargs)


Converter = typing.Callable[[Any], Any]


@functools.cache
def _fields_of(cls: type) -> tuple[tuple[str, Converter | None], ...]:
    """Each field of a record class and how its JSON value becomes the typed value.

    Worked out once per class (the type hints are not looked at again for every
    value: `cases due` builds every case record of the archive).
    """
    th = hints(cls)
    return tuple((f.name, _converter(th[f.name])) for f in dataclasses.fields(cls))


def _converter(tp: Any) -> Converter | None:
    """None where the JSON value is the typed value as it is."""
    inner, _ = unwrap_optional(tp)
    if typing.get_origin(inner) is list:
        (item,) = typing.get_args(inner)
        each = _converter(item)
        if each is None:
            return list
        return lambda values: [each(v) for v in values]
    if dataclasses.is_dataclass(inner) and isinstance(inner, type):
        part: type = inner
        return lambda value: _build(part, value)
    if inner is float:
        return lambda value: float(value) if isinstance(value, int) else value
    return None


def _walk_codes(obj: Any, path: str) -> typing.Iterator[tuple[str, str, str, str | None]]:
    """Yield ``(path, valueset, code, requirement)`` for every coded value."""
    for f in dataclasses.fields(obj):
        vsname = f.metadata.get("valueset")
        value = getattr(obj, f.name)
        fpath = f"{path}.{f.name}" if path else f.name
        if value is None:
            continue
        if vsname:
            if isinstance(value, list):
                for i, v in enumerate(value):
                    yield f"{fpath}[{i}]", vsname, v, f.metadata.get("req")
            else:
                yield fpath, vsname, value, f.metadata.get("req")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                if dataclasses.is_dataclass(v):
                    yield from _walk_codes(v, f"{fpath}[{i}]")
        elif dataclasses.is_dataclass(value):
            yield from _walk_codes(value, fpath)


def _code_issues(record: CaseRecord, terminology: Terminology) -> list[Issue]:
    out = []
    for path, vsname, code, req in _walk_codes(record, ""):
        if not terminology.in_valueset(vs(vsname), None, code):
            out.append(
                Issue(
                    "error",
                    path,
                    f"unknown code '{code}' (not in ValueSet {vsname})",
                    "binding",
                    req,
                )
            )
    return out


def _id_issues(record: CaseRecord) -> list[Issue]:
    child = record.child
    if not child.resident_id:
        return []
    try:
        rid = resident_id.parse(child.resident_id)
    except ResidentIdError as exc:
        return [Issue("error", "child.resident_id", exc.message, "resident-id")]
    out = []
    for field, _ in resident_id.mismatches(rid, birth_date=child.birth_date, sex=child.sex):
        other = "child.birth_date" if field == "birth_date" else "child.sex"
        out.append(
            Issue(
                "error",
                other,
                f"{other} does not match the {field.replace('_', ' ')} encoded in "
                f"child.resident_id {rid.masked}",
                "resident-id",
            )
        )
    return out


def _reference_issues(record: CaseRecord) -> list[Issue]:
    staff = {s.id for s in record.staff}
    adults = {a.id for a in record.adults}
    orgs = {o.id for o in record.organisations}
    out: list[Issue] = []

    def need(path: str, value: str | None, pool: set[str], what: str) -> None:
        if value is not None and value not in pool:
            out.append(Issue("error", path, f"refers to an unknown {what} '{value}'", "reference"))

    c = record.case
    need("case.contractor", c.contractor, orgs, "organisation")
    need("case.commissioner", c.commissioner, orgs, "organisation")
    need("case.designating_org", c.designating_org, orgs, "organisation")
    need("case.care_manager", c.care_manager, staff, "staff member")
    need("case.supervisor", c.supervisor, staff, "staff member")
    if record.child.school is not None:
        need("child.school.school", record.child.school.school, orgs, "organisation")
    for i, member in enumerate(record.staff):
        need(f"staff[{i}].organisation", member.organisation, orgs, "organisation")
    if record.intake is not None:
        need("intake.assessor", record.intake.assessor, staff, "staff member")
        need("intake.emergency_contact", record.intake.emergency_contact, adults, "adult")
    for i, a in enumerate(record.assessments):
        need(f"assessments[{i}].performer", a.performer, staff, "staff member")
    for i, s in enumerate(record.sessions):
        for j, st in enumerate(s.staff):
            need(f"sessions[{i}].staff[{j}]", st, staff, "staff member")
        if s.guardian_notified is not None:
            need(f"sessions[{i}].guardian_notified.by", s.guardian_notified.by, staff, "staff")
    signer_pool = staff | adults | orgs | {"child"}
    for i, k in enumerate(record.consents):
        need(f"consents[{i}].grantor", k.grantor, adults | {"child"}, "adult")
    for i, cr in enumerate(record.crises):
        need(f"crises[{i}].detected_by", cr.detected_by, staff, "staff member")
        need(f"crises[{i}].reliable_carer", cr.reliable_carer, adults, "adult")
    forms: list[tuple[str, Any]] = [("intake", record.intake), ("closure", record.closure)]
    forms += [(f"plans[{i}]", p) for i, p in enumerate(record.plans)]
    for prefix, form in forms:
        if form is None:
            continue
        for f in dataclasses.fields(form):
            sig = getattr(form, f.name)
            if sig is not None and f.name.endswith(("confirmation", "attestation", "approval")):
                need(f"{prefix}.{f.name}.signer", sig.signer, signer_pool, "signer")
    return out


def check_case_record(data: dict[str, Any], terminology: Terminology) -> CheckedCase:
    """Check a parsed case-record document and build the typed record."""
    issues = _schema_issues(data)
    if issues:
        return CheckedCase(None, issues)
    record: CaseRecord = _build(CaseRecord, data)
    issues = _code_issues(record, terminology) + _id_issues(record) + _reference_issues(record)
    return CheckedCase(record, issues)


def load_case_file(path: Path | str, terminology: Terminology) -> CheckedCase:
    return check_case_record(read_case_file(path), terminology)


def record_to_dict(record: CaseRecord) -> dict[str, Any]:
    """The case record as the JSON document of its file (None fields dropped)."""

    def clean(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {
                f.name: clean(getattr(value, f.name))
                for f in dataclasses.fields(value)
                if getattr(value, f.name) is not None
            }
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    out: dict[str, Any] = clean(record)
    return out
