"""The case parts of the archive: each step as a new version, caseloads, the step log.

A step writes, in one transaction: the new version of the case record
(``case_records``, source ``case``; nothing overwritten, 9.4.3), the case's state
and risk (``cases``), its care manager (``case_work``, for the caseload limit
CL-04 across the organisation) and a row of ``case_steps`` with the transitions
taken and the rules broken. A step made on a version that is no longer the latest
is refused (E256): someone else recorded a step in between.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from interop.store import case_warnings
from interop.store import schema as t
from interop.store.archive import Archive, StoreError, now_iso
from interop.store.cases import latest_record, link_case_staff
from interop.store.jsontext import digest, dumps

#: States in which a care manager carries a case (G-09): INTAKE … CLOSING, PAUSED included.
CASELOAD_STATES = (
    "intake",
    "feasibility-assessed",
    "org-reviewed",
    "agreement-signed",
    "plan-drafted",
    "ready",
    "in-service",
    "midterm",
    "paused",
    "closing",
)


#: More to write in a step's transaction: ``also(conn, version, stamp)`` (an audit event, a
#: note that the version holds a hospital's outcome); raising undoes the whole step.
Also = Callable[[sa.Connection, int, str], None]


@dataclass(frozen=True, slots=True)
class StepRow:
    """What one step (or import) of a case wrote."""

    case_number: str
    body: dict[str, Any]
    action: str
    from_state: str | None
    to_state: str
    transitions: Sequence[str]
    findings: Sequence[dict[str, str]]
    care_manager: str | None
    risk_level: str | None
    due: Sequence[dict[str, Any]] | None = None  # the version's own open deadlines
    author: str | None = None  # staff id of the person who recorded the step


class CaseWork:
    """The case tables of an open :class:`~interop.store.archive.Archive`."""

    def __init__(self, archive: Archive) -> None:
        self.engine = archive.engine
        self.archive = archive

    def latest(self, case_number: str) -> tuple[int, dict[str, Any]] | None:
        """The latest version of a case record and its body, or None."""
        with self.engine.connect() as conn:
            return latest_record(conn, case_number)

    def open_cases(self, worker: str) -> set[str]:
        """The cases ``worker`` carries as care manager (CL-04; a CaseloadSource)."""
        w = t.case_work.c
        q = sa.select(w.case_number).where(w.care_manager == worker, w.state.in_(CASELOAD_STATES))
        with self.engine.connect() as conn:
            return {r[0] for r in conn.execute(q)}

    def caseloads(self) -> dict[str, int]:
        """Open cases per care manager (R-10.1.1-01)."""
        w = t.case_work.c
        q = (
            sa.select(w.care_manager, sa.func.count())
            .where(w.care_manager.is_not(None), w.state.in_(CASELOAD_STATES))
            .group_by(w.care_manager)
        )
        with self.engine.connect() as conn:
            return {r[0]: int(r[1]) for r in conn.execute(q)}

    def record_step(
        self,
        step: StepRow,
        expected_version: int,
        also: Also | None = None,
    ) -> int:
        """Write a step as the version after ``expected_version``; the new version.

        Its warnings stay open (``case_warnings``) until a supervisor signs them off; who
        is staff on the case (``case_staff``) follows the new version; ``also`` (the audit
        event) is written in the same transaction with the version and the stamp.
        """
        text = dumps(step.body)
        stamp = now_iso()
        cr = t.case_records.c
        with self.archive.transaction() as conn:
            latest = conn.execute(
                sa.select(sa.func.max(cr.version)).where(cr.case_number == step.case_number)
            ).scalar()
            if latest != expected_version:
                raise StoreError(
                    f"case {step.case_number} changed while this step was being checked "
                    f"(version {latest}, expected {expected_version}): run the step again",
                    code="E256",
                )
            version = expected_version + 1
            conn.execute(
                t.case_records.insert(),
                [
                    {
                        "case_number": step.case_number,
                        "version": version,
                        "digest": digest(text),
                        "body": text,
                        "source": "case",
                        "run_id": None,
                        "created_at": stamp,
                    }
                ],
            )
            conn.execute(
                t.cases.update()
                .where(t.cases.c.case_number == step.case_number)
                .values(
                    state=step.to_state,
                    risk_level=step.risk_level,
                    version=version,
                    updated_at=stamp,
                )
            )
            self._note(conn, step, version, stamp)
            link_case_staff(conn, step.case_number, step.body)
            case_warnings.add(
                conn,
                step.case_number,
                version,
                step.action,
                step.findings,
                step.author,
                stamp,
            )
            if also is not None:
                also(conn, version, stamp)
        return version

    def note_import(self, step: StepRow, version: int) -> None:
        """After ``Archive.import_record``: the caseload row and the import's issues."""
        with self.archive.transaction() as conn:
            self._note(conn, step, version, now_iso())

    def _note(self, conn: sa.Connection, step: StepRow, version: int, stamp: str) -> None:
        values = {
            "care_manager": step.care_manager,
            "state": step.to_state,
            "risk_level": step.risk_level,
            "updated_at": stamp,
            "due": None if step.due is None else json.dumps(list(step.due), ensure_ascii=False),
            "due_version": None if step.due is None else version,
        }
        done = conn.execute(
            t.case_work.update().where(t.case_work.c.case_number == step.case_number),
            values,
        )
        if done.rowcount == 0:
            conn.execute(t.case_work.insert(), [{"case_number": step.case_number, **values}])
        conn.execute(
            t.case_steps.insert(),
            [
                {
                    "case_number": step.case_number,
                    "version": version,
                    "action": step.action,
                    "from_state": step.from_state,
                    "to_state": step.to_state,
                    "transitions": ",".join(step.transitions),
                    "findings": json.dumps(list(step.findings), ensure_ascii=False),
                    "at": stamp,
                }
            ],
        )

    def listing(self, cases: Sequence[str] | None = None, limit: int = 300) -> list[dict[str, Any]]:
        """Cases with their state, risk and care manager (the console's 个案 list)."""
        c, w = t.cases.c, t.case_work.c
        q = (
            sa.select(c.case_number, c.state, c.risk_level, w.care_manager)
            .select_from(t.cases.outerjoin(t.case_work, w.case_number == c.case_number))
            .order_by(c.case_number)
        )
        if cases is not None:
            q = q.where(c.case_number.in_(list(cases)))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q.limit(limit)).mappings()]

    def steps(self, case_number: str) -> list[dict[str, Any]]:
        """The step log of a case, oldest first."""
        s = t.case_steps.c
        q = (
            sa.select(
                s.version, s.action, s.from_state, s.to_state, s.transitions, s.findings, s.at
            )
            .where(s.case_number == case_number)
            .order_by(s.id)
        )
        with self.engine.connect() as conn:
            return [
                {
                    "version": v,
                    "action": a,
                    "from": f,
                    "to": to,
                    "transitions": [x for x in tr.split(",") if x],
                    "findings": json.loads(fi),
                    "at": at,
                }
                for v, a, f, to, tr, fi, at in conn.execute(q)
            ]

    def due_rows(self) -> Iterator[tuple[str, str, bool, list[dict[str, Any]] | None]]:
        """Each case: number, state, whether its stored deadlines are of its latest
        version, and those deadlines (None where none were stored)."""
        c, w = t.cases.c, t.case_work.c
        q = (
            sa.select(c.case_number, c.state, c.version, w.due_version, w.due)
            .select_from(t.cases.outerjoin(t.case_work, w.case_number == c.case_number))
            .order_by(c.case_number)
        )
        with self.engine.connect() as conn:
            for number, state, version, due_version, due in conn.execution_options(
                yield_per=2000
            ).execute(q):
                stored = orjson.loads(due) if due is not None else None
                yield number, state, due_version == version, stored

    def latest_records(self, batch: int = 2000) -> Iterator[dict[str, Any]]:
        """The latest version of every case record (for due lists and reports)."""
        c, cr = t.cases.c, t.case_records.c
        q = (
            sa.select(cr.body)
            .join(t.cases, sa.and_(c.case_number == cr.case_number, c.version == cr.version))
            .order_by(c.case_number)
        )
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=batch).execute(q)
            for (body,) in result:
                yield orjson.loads(body)

    def step_findings(self, since: str, until: str) -> list[tuple[str, str, list[Any]]]:
        """(case, action, findings) of the steps recorded in [since, until] (reports)."""
        s = t.case_steps.c
        q = sa.select(s.case_number, s.action, s.findings).where(
            s.at >= since, s.at <= until + "T23:59:59+99:99"
        )
        with self.engine.connect() as conn:
            return [(c, a, json.loads(f)) for c, a, f in conn.execute(q)]

    def referral_rows(self) -> list[dict[str, Any]]:
        """Each referral's case, trigger, state and clock dates (DL-07, DL-10, DL-17)."""
        r = t.referrals.c
        q = sa.select(
            r.id,
            r.case_number,
            r.trigger,
            r.state,
            r.created_at,
            r.sent_at,
            r.accepted_at,
            r.finished_at,
            r.follow_up,
        )
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(q).mappings()]
