"""Recording a step of a case: read the latest version, apply the step, check, store.

:mod:`interop.casework.case_steps` (for the CLI, the console and the API) makes one
call here, :func:`record_step`, with the step to apply (a function of a
:class:`~interop.casework.stepper.Stepper`), its author and the audit to write with it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema

from interop._errors import CaseNotFound as CaseNotFound
from interop._errors import InputError
from interop._errors import StoredRecordUnusable as StoredRecordUnusable
from interop.caserecord import build_part, check_case_record, record_to_dict, schema_issues
from interop.casework.forms import parse_form, read_form_file
from interop.casework.stepper import Context, Step, Stepper
from interop.core.casechecks import state_issues
from interop.core.casedeadlines import CaseDeadlines
from interop.core.people import Staff
from interop.core.record import CaseRecord
from interop.core.schema import _object_schema
from interop.core.workdays import WorkCalendar
from interop.fhir.terminology import Terminology
from interop.store import Archive
from interop.store.casework import Also, CaseWork, StepRow

if TYPE_CHECKING:
    pass


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a recorded step did."""

    case_number: str
    version: int
    action: str
    from_state: str
    state: str
    transitions: list[str]
    warnings: list[dict[str, str]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case_number,
            "version": self.version,
            "action": self.action,
            "from": self.from_state,
            "state": self.state,
            "transitions": self.transitions,
            "warnings": self.warnings,
        }


def read_form(path: str, form: str) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """A form file (JSON or TOML) checked against its schema: content and extras."""
    return parse_form(form, read_form_file(Path(path)), path)


def read_staff(path: str) -> list[Staff]:
    """The staff of a staff-list file (``staff = [...]`` in JSON, ``[[staff]]`` in TOML)."""
    data = read_form_file(Path(path))
    issues = schema_issues(data, _staff_validator())
    if issues:
        where = "; ".join(f"{i.path}: {i.message}" for i in issues[:10])
        raise InputError(f"{path}: the staff list is not valid: {where}", code="E252")
    return [build_part(Staff, e) for e in data["staff"]]


@functools.cache
def _staff_validator() -> jsonschema.Draft202012Validator:
    items = _object_schema(Staff)  # the case record's Staff (no nested parts)
    return jsonschema.Draft202012Validator(
        {
            "type": "object",
            "properties": {"staff": {"type": "array", "minItems": 1, "items": items}},
            "required": ["staff"],
            "additionalProperties": False,
        }
    )


def load_record(work: CaseWork, case_number: str, terms: Terminology) -> tuple[int, CaseRecord]:
    """The latest version of a case and its typed record, fully checked."""
    version, body = _latest(work, case_number)
    checked = check_case_record(body, terms)
    errors = [i for i in checked.issues if i.severity == "error"]
    if checked.record is None or errors:
        where = "; ".join(f"{i.path}: {i.message}" for i in errors[:10])
        raise StoredRecordUnusable(
            f"case {case_number} version {version} cannot be worked on: {where}"
        )
    return version, checked.record


def _latest(work: CaseWork, case_number: str) -> tuple[int, dict[str, Any]]:
    found = work.latest(case_number)
    if found is None:
        raise CaseNotFound(f"no case {case_number} in the archive")
    return found


def _typed(case_number: str, version: int, body: dict[str, Any]) -> CaseRecord:
    """The typed record of a stored version (it was checked when it was stored; the
    record after the step is checked whole before it is written)."""
    try:
        rec: CaseRecord = build_part(CaseRecord, body)
    except (TypeError, KeyError, AttributeError):
        raise StoredRecordUnusable(
            f"case {case_number} version {version} is not a whole case record: "
            "check it with interop import"
        ) from None
    return rec


@contextlib.contextmanager
def opened(db: str | Archive | None) -> Iterator[Archive]:
    """The archive given, or the one of the URL (opened here and closed after)."""
    if isinstance(db, Archive):
        yield db
        return
    with Archive.open(db) as archive:
        yield archive


def record_step(
    db: str | Archive | None,
    case_number: str,
    action: str,
    apply: Callable[[Stepper], Step],
    *,
    calendar: WorkCalendar | None = None,
    terminology: Terminology | None = None,
    today: dt.date | None = None,
    author: str | None = None,
    also: Also | None = None,
) -> Outcome:
    """Apply one step to the latest version of a case and store the new version.

    Raises :class:`~interop.core.casestates.IllegalTransition` (E250) or
    :class:`~interop.casework.stepper.StepRefused` (E251) without writing anything.
    ``author`` (who recorded it) goes with its warnings; ``also`` writes the audit event
    in the same transaction.
    """
    terms = terminology or Terminology.load()
    cal = calendar or WorkCalendar.load()
    with opened(db) as archive:
        work = CaseWork(archive)
        version, body_before = _latest(work, case_number)
        record = _typed(case_number, version, body_before)
        ctx = Context(work.open_cases, cal, today or dt.date.today())
        stepper = Stepper(record, action, ctx)
        step = apply(stepper)
        body = record_to_dict(step.record)
        after = check_case_record(body, terms)
        bad = [i for i in after.issues if i.severity == "error"]
        if bad:
            where = "; ".join(f"{i.path}: {i.message}" for i in bad[:10])
            raise InputError(
                f"case {case_number}: the record after this step is not usable: {where}",
                code="E252",
            )
        row = StepRow(
            case_number,
            body,
            action,
            stepper.before,
            step.state,
            [t.id for t in step.transitions],
            [f.as_dict() for f in step.findings],
            step.record.case.care_manager,
            step.record.case.risk_level,
            own_deadlines(step.record, cal),
            author,
        )
        new_version = work.record_step(row, version, also)
    return Outcome(
        case_number,
        new_version,
        action,
        stepper.before,
        step.state,
        [t.id for t in step.transitions],
        [f.as_dict() for f in step.findings],
    )


def own_deadlines(record: CaseRecord, calendar: WorkCalendar) -> list[dict[str, Any]]:
    """The open deadlines the record alone shows, stored with its version."""
    return [d.to_json() for d in CaseDeadlines(calendar).items(record)]


def note_import(
    archive: Archive, record: CaseRecord, body: dict[str, Any], calendar: WorkCalendar
) -> list[dict[str, str]]:
    """After an import: keep the caseload row and record where state and content disagree."""
    work = CaseWork(archive)
    found = work.latest(record.case.case_number)
    version = found[0] if found else 1
    issues = [f.as_dict() for f in state_issues(record)]
    work.note_import(
        StepRow(
            record.case.case_number,
            body,
            "import",
            None,
            record.case.state,
            [],
            issues,
            record.case.care_manager,
            record.case.risk_level,
            own_deadlines(record, calendar),
        ),
        version,
    )
    return issues
