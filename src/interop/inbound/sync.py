"""Reconciliation of a civil-affairs child list with the archive (T-01, R-7.1.1-01).

Each row is new, changed (which fields) or unchanged; a bad row goes to
quarantine with its reason and never blocks the good rows; with a full list,
children absent from it are marked delisted for review, never deleted.

How the work is shaped (issue 3, Performance):

- duplicates of the key in one list are found first, in a pass that keeps
  only the keys, in a temporary SQLite file (memory does not grow with the
  list);
- rows then go in batches; a batch is one transaction (crash safety);
- a row whose mapped cells hash to what the archive already holds is
  unchanged without being mapped again (the cost of a re-sync grows with
  the number of changes, not with the size of the list);
- the record schema is checked by a compiled predicate equivalent to
  jsonschema (:mod:`interop.inbound.fastschema`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import signal
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from interop.core.deadlines import Deadline, earliest, start_deadline
from interop.core.masking import mask_id
from interop.core.workdays import WorkCalendar
from interop.fhir.canonical import cs
from interop.inbound.mapping import CodeLookup, Finding, InboundMapping
from interop.inbound.readers import RawRow
from interop.store.archive import (
    Archive,
    Batch,
    ChangedChild,
    Known,
    NewChild,
    QuarantinedRow,
)

log = logging.getLogger(__name__)

#: Rows per transaction (override with $INTEROP_SYNC_BATCH_SIZE).
BATCH_SIZE = 2000
#: Test hook: SIGKILL the process after this many committed batches.
CRASH_ENV = "INTEROP_SYNC_CRASH_AFTER"

#: Entry fields whose change re-computes the start deadline of a waiting case.
_RELATIONSHIP = cs("family-relationship")


@dataclass(slots=True)
class SyncOptions:
    received: dt.date
    full: bool = False
    agreement_date: dt.date | None = None
    case_prefix: str = "ORG"
    contractor_id: str = "contractor"
    contractor_name: str = "承接机构"
    batch_size: int = 0

    def effective_batch_size(self) -> int:
        if self.batch_size:
            return self.batch_size
        env = os.environ.get("INTEROP_SYNC_BATCH_SIZE", "")
        return int(env) if env.isdigit() and int(env) > 0 else BATCH_SIZE


@dataclass(slots=True)
class SyncReport:
    run_id: str
    source: str
    mapping: str
    status: str = "running"
    rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    delisted: int = 0
    quarantined: int = 0
    message: str | None = None
    issues: list[dict[str, Any]] = field(default_factory=list)
    changes: dict[str, list[str]] = field(default_factory=dict)  # case number → fields

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "source": self.source,
            "mapping": self.mapping,
            "status": self.status,
            "rows": self.rows,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "delisted": self.delisted,
            "quarantined": self.quarantined,
            "message": self.message,
            "changes": self.changes,
            "issues": self.issues,
        }


def find_duplicates(
    rows: Iterable[RawRow], mapping: InboundMapping
) -> tuple[dict[int, list[int]], int]:
    """Rows whose key is also on other rows: ``{row: [other rows]}``, and the row count.

    Keys go to a temporary SQLite file, so memory stays flat for any list size.
    """
    count = 0
    with tempfile.TemporaryDirectory(prefix="interop-dups-") as tmp:
        db = sqlite3.connect(os.path.join(tmp, "keys.sqlite3"))
        try:
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            db.execute("CREATE TABLE k (h INTEGER NOT NULL, row INTEGER NOT NULL)")

            def keys() -> Iterator[tuple[int, int]]:
                nonlocal count
                for r in rows:
                    count += 1
                    if r.problem is not None:
                        continue
                    key, _ = mapping.key_of(r.values)
                    if key is not None:
                        h = int.from_bytes(
                            hashlib.blake2b(key.encode(), digest_size=8).digest(),
                            "big",
                            signed=True,
                        )
                        yield h, r.number

            db.executemany("INSERT INTO k VALUES (?, ?)", keys())
            found: dict[int, list[int]] = {}
            for (group,) in db.execute(
                "SELECT group_concat(row) FROM k GROUP BY h HAVING count(*) > 1"
            ):
                numbers = sorted(int(x) for x in str(group).split(","))
                for n in numbers:
                    found[n] = [m for m in numbers if m != n]
        finally:
            db.close()
    return found, count


def build_parts(
    entry: dict[str, Any],
    mapping: InboundMapping,
    options: SyncOptions,
    terms: CodeLookup,
) -> dict[str, Any]:
    """The list-owned parts of a case record (child, case, guardian, organisations)."""
    child: dict[str, Any] = {
        "name": entry["name"],
        "sex": entry["sex"],
        "ethnicity": entry["ethnicity"],
        "birth_date": entry["birth_date"],
        "home_address": {"text": entry["home_address"]},
        "household_registration": {"text": entry["household_registration"]},
    }
    if "resident_id" in entry:
        child["resident_id"] = entry["resident_id"]
    if entry.get("difficulty_categories"):
        child["difficulty_categories"] = entry["difficulty_categories"]
    orgs = [{"id": options.contractor_id, "kind": "contractor", "name": options.contractor_name}]
    stage = entry.get("school_stage")
    if entry.get("school") or stage:
        school: dict[str, Any] = {"enrolled": stage != "not-applicable"}
        if stage:
            school["stage"] = stage
        if entry.get("school"):
            sid = "school-" + hashlib.blake2b(entry["school"].encode(), digest_size=5).hexdigest()
            orgs.append({"id": sid, "kind": "school", "name": entry["school"]})
            school["school"] = sid
        child["school"] = school
    case: dict[str, Any] = {
        "risk_level": entry["risk_level"],
        "designation_date": entry["designation_date"],
    }
    if mapping.inclusion_basis:
        case["inclusion_basis"] = mapping.inclusion_basis
    if entry.get("designating_org"):
        oid = "ca-" + hashlib.blake2b(entry["designating_org"].encode(), digest_size=5).hexdigest()
        orgs.append({"id": oid, "kind": "civil-affairs", "name": entry["designating_org"]})
        case["designating_org"] = oid
    adults = []
    if entry.get("guardian_name"):
        adult: dict[str, Any] = {
            "id": "guardian-list",
            "name": entry["guardian_name"],
            "roles": ["guardian"],
        }
        rel = entry.get("guardian_relationship")
        code = terms.code_for_text(_RELATIONSHIP, rel) if rel else None
        if code:
            adult["relationship"] = code
        if entry.get("guardian_phone"):
            adult["phone"] = entry["guardian_phone"]
        adults.append(adult)
    return {"child": child, "case": case, "adults": adults, "organisations": orgs}


def new_record(parts: dict[str, Any], options: SyncOptions) -> dict[str, Any]:
    """A complete case record (LISTED, T-01) from the list-owned parts."""
    case = {
        "case_number": "",
        "state": "listed",
        **parts["case"],
        "list_received_date": options.received.isoformat(),
        "contractor": options.contractor_id,
    }
    return {
        "format_version": "1.0",
        "case": case,
        "child": parts["child"],
        "adults": parts["adults"],
        "organisations": parts["organisations"],
    }


def _guardians(entry: dict[str, Any]) -> list[dict[str, Any]]:
    if not entry.get("guardian_name"):
        return []
    return [
        {
            "name": entry["guardian_name"],
            "relationship": entry.get("guardian_relationship"),
            "phone": entry.get("guardian_phone"),
        }
    ]


def _dl(d: Deadline | None) -> tuple[str, str, str, bool] | None:
    return None if d is None else (d.rule, d.start.isoformat(), d.due.isoformat(), d.provisional)


class Reconciler:
    """One sync run: feed it batches of rows; it decides and writes each batch."""

    def __init__(
        self,
        archive: Archive,
        mapping: InboundMapping,
        terms: CodeLookup,
        calendar: WorkCalendar,
        options: SyncOptions,
        *,
        source: str,
        partner: str | None = None,
    ) -> None:
        self.archive = archive
        self.mapping = mapping
        self.terms = terms
        self.calendar = calendar
        self.options = options
        self.partner = partner
        self.known_columns = mapping.columns
        self.reported_columns: set[str] = set()
        self.duplicates: dict[int, list[int]] = {}
        self.batches = 0
        run_id = archive.begin_run(source, mapping.name, partner=partner, full=options.full)
        self.report = SyncReport(run_id=run_id, source=source, mapping=mapping.name)
        crash = os.environ.get(CRASH_ENV, "")
        self.crash_after = int(crash) if crash.isdigit() else None

    # -- issues -------------------------------------------------------------

    def _issue(self, row: int, f: Finding) -> None:
        item = {"row": row, "field": f.field, "code": f.code, "message": f.message}
        item["severity"] = f.severity
        if f.requirement:
            item["requirement"] = f.requirement
        self.report.issues.append(item)

    def _quarantine(self, batch: Batch, row: RawRow, findings: list[Finding]) -> None:
        for f in findings:
            self._issue(row.number, f)
            batch.quarantined.append(
                QuarantinedRow(row.number, f.field, f.code, f.message, dict(row.values))
            )
        self.report.quarantined += 1

    def _check_columns(self, values: dict[str, str]) -> None:
        extra = values.keys() - self.known_columns
        if extra and not extra <= self.reported_columns:
            for col in sorted(extra - self.reported_columns):
                self.report.issues.append(
                    {
                        "row": 1,
                        "field": col,
                        "code": "extra-column",
                        "message": f"{col}: not a column of mapping {self.mapping.name}; ignored",
                        "severity": "information",
                    }
                )
            self.reported_columns |= extra

    # -- the work -----------------------------------------------------------

    def process(self, rows: list[RawRow], cursor: tuple[str, str] | None = None) -> None:
        """Decide and write one batch (one transaction)."""
        m = self.mapping
        batch = Batch(rows=len(rows), cursor=cursor)
        pending: list[tuple[RawRow, str, str | None, str]] = []
        for row in rows:
            if row.problem is not None:
                code, msg = row.problem
                self._quarantine(batch, row, [Finding("(row)", code, msg)])
                continue
            self._check_columns(row.values)
            key, rid = m.key_of(row.values)
            if key is None:
                cols = "/".join(m.fields[k].column for k in m.key)
                self._quarantine(
                    batch,
                    row,
                    [
                        Finding(
                            cols, "missing-field", f"{cols}: required to match the child, but empty"
                        )
                    ],
                )
                continue
            others = self.duplicates.get(row.number)
            if others:
                col = m.fields[m.key[0]].column
                where = ", ".join(str(n) for n in others[:10])
                self._quarantine(
                    batch,
                    row,
                    [
                        Finding(
                            col,
                            "duplicate",
                            f"{col}: the same {'resident ID ' + mask_id(rid) if rid else 'key'} "
                            f"is also on row {where}",
                        )
                    ],
                )
                pending.append((row, key, rid, ""))  # still marks a known child as seen
                continue
            pending.append((row, key, rid, m.raw_digest(row.values)))
        known = self.archive.lookup([k for _, k, _, _ in pending])
        compare: list[tuple[RawRow, Known, dict[str, Any], str]] = []
        for row, key, _rid, raw_digest in pending:
            k = known.get(key)
            if not raw_digest:  # quarantined duplicate: the child is still on the list
                if k is not None:
                    batch.seen.append(k.child_id)
                continue
            if k is not None and k.raw_digest == raw_digest and k.status == "listed":
                batch.seen.append(k.child_id)
                batch.unchanged += 1
                continue
            entry, findings = m.map_row(row.values, self.terms, self.options.received)
            if entry is None:
                self._quarantine(batch, row, findings)
                if k is not None:
                    batch.seen.append(k.child_id)
                continue
            for f in findings:
                self._issue(row.number, f)
            if k is None:
                parts = build_parts(entry, m, self.options, self.terms)
                deadline = start_deadline(
                    entry.get("risk_level"),
                    self.options.received,
                    self.calendar,
                    agreement_date=self.options.agreement_date,
                )
                batch.new.append(
                    NewChild(
                        match_key=key,
                        resident_id=entry.get("resident_id"),
                        entry=entry,
                        raw_digest=raw_digest,
                        guardians=_guardians(entry),
                        risk_level=entry.get("risk_level"),
                        received=self.options.received.isoformat(),
                        deadline=_dl(deadline),
                        record=new_record(parts, self.options),
                    )
                )
            else:
                compare.append((row, k, entry, raw_digest))
        if compare:
            stored = self.archive.entries(k.child_id for _, k, _, _ in compare)
            for _row, k, entry, raw_digest in compare:
                old = stored.get(k.child_id, {})
                changed = sorted(f for f in entry.keys() | old.keys() if entry.get(f) != old.get(f))
                if k.status != "listed":
                    changed.append("status")
                if not changed:
                    batch.retouched.append((k.child_id, raw_digest))
                    batch.unchanged += 1
                    continue
                deadline = None
                if "risk_level" in changed:
                    fresh = start_deadline(
                        entry.get("risk_level"),
                        self.options.received,
                        self.calendar,
                        agreement_date=self.options.agreement_date,
                    )
                    old_dl = self.archive.case_deadline(k.case_number)
                    previous = (
                        Deadline(
                            old_dl[0],
                            dt.date.fromisoformat(old_dl[1]),
                            dt.date.fromisoformat(old_dl[2]),
                            old_dl[3],
                        )
                        if old_dl
                        else None
                    )
                    deadline = earliest(previous, fresh)  # G-06
                batch.changed.append(
                    ChangedChild(
                        known=k,
                        entry=entry,
                        raw_digest=raw_digest,
                        changed=changed,
                        guardians=_guardians(entry),
                        risk_level=entry.get("risk_level"),
                        deadline=_dl(deadline),
                        merge=build_parts(entry, m, self.options, self.terms),
                    )
                )
                self.report.changes[k.case_number] = changed
        self.archive.apply_batch(self.report.run_id, batch, case_prefix=self.options.case_prefix)
        self.report.rows += batch.rows
        self.report.new += len(batch.new)
        self.report.changed += len(batch.changed)
        self.report.unchanged += batch.unchanged
        self.batches += 1
        if self.crash_after is not None and self.batches >= self.crash_after:
            log.error("test hook %s: killing the process after %d batches", CRASH_ENV, self.batches)
            sys.stderr.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    def finish(self, *, status: str = "completed", message: str | None = None) -> SyncReport:
        full = self.options.full and status == "completed"
        self.report.delisted = self.archive.finish_run(
            self.report.run_id, status=status, full=full, message=message
        )
        self.report.status = status
        self.report.message = message
        return self.report


def duplicates_in(rows: Iterable[RawRow], mapping: InboundMapping) -> dict[int, list[int]]:
    """Duplicate keys within a small set of rows (one page of a feed), in memory."""
    by_key: dict[str, list[int]] = {}
    for r in rows:
        if r.problem is None:
            key, _ = mapping.key_of(r.values)
            if key is not None:
                by_key.setdefault(key, []).append(r.number)
    return {n: [m for m in ns if m != n] for ns in by_key.values() if len(ns) > 1 for n in ns}


def batched(rows: Iterable[RawRow], size: int) -> Iterator[list[RawRow]]:
    batch: list[RawRow] = []
    for r in rows:
        batch.append(r)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def sync_file_rows(
    archive: Archive,
    rows: Iterable[RawRow],
    mapping: InboundMapping,
    terms: CodeLookup,
    calendar: WorkCalendar,
    options: SyncOptions,
    *,
    source: str,
    progress: Callable[[int, int], Any] | None = None,
) -> SyncReport:
    """Sync a re-iterable source of rows (a list file) into the archive."""
    duplicates, total = find_duplicates(rows, mapping)
    rec = Reconciler(archive, mapping, terms, calendar, options, source=source)
    rec.duplicates = duplicates
    try:
        for batch in batched(rows, options.effective_batch_size()):
            rec.process(batch)
            if progress is not None:
                progress(len(batch), total)
    except BaseException as exc:
        rec.finish(status="failed", message=type(exc).__name__)
        raise
    return rec.finish()
