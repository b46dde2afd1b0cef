"""Reconcile (对账入库): each prepared row decided against the archive and written.

A row is new, changed (which fields) or unchanged; a bad one is quarantined with its
reason and never blocks the good; a batch is a transaction (a run killed midway keeps
what it committed). A full list delists the listed children it does not name — never
deleted, listed again when named — in the run that records who ran it (T-01, R-7.1.1-01).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
from collections.abc import Callable, Container, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

from interop import faults
from interop._errors import InteropError
from interop.core.deadlines import Deadline, earliest, start_deadline
from interop.core.delisting import DelistRefused
from interop.core.listed import changed_fields
from interop.core.workdays import WorkCalendar
from interop.i18n import N_
from interop.inbound.mapping import Finding
from interop.inbound.prepare import DRY_RUN, Prepared, Preparer
from interop.store import runs
from interop.store.archive import Archive, Batch, ChangedChild, Known, NewChild, QuarantinedRow

EXTRA_COLUMN = N_("{column}: not a column of mapping {mapping}; ignored")
WOULD_STOP = N_("a real run would stop: {reason}")
INTERRUPTED = N_("interrupted (Ctrl-C)")

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SyncReport:
    """What a run did (its ``--json``: the layout first, the issues last)."""

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
    actor: str = runs.UNATTENDED  # who ran it (delistings are theirs)
    changes: dict[str, list[str]] = field(default_factory=dict)  # case number → fields
    issues: list[dict[str, Any]] = field(default_factory=list)
    layout: dict[str, Any] | None = None  # what stage 1 found (a list file)

    def to_json(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {"layout": out.pop("layout")} | out


def _stored(d: Deadline | None) -> tuple[str, str, str, bool] | None:
    return None if d is None else (d.rule, d.start.isoformat(), d.due.isoformat(), d.provisional)


class Reconciler:
    """One sync run: feed it batches of prepared rows; it decides and writes each."""

    def __init__(
        self,
        archive: Archive,
        preparer: Preparer,
        calendar: WorkCalendar,
        *,
        source: str,
        partner: str | None = None,
        on_issue: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        mapping, options = preparer.mapping, preparer.options
        self.archive, self.mapping, self.parts = archive, mapping, preparer.parts
        self.preparer = preparer
        self.options, self.on_issue = options, on_issue
        if options.token:  # (the person of an API token runs it; a bad token stops it)
            from interop.staff.accounts import Accounts

            options.actor = Accounts(archive).by_token(options.token).staff_id
        self.reported_columns: set[str] = set()
        self.seen: Container[int] = ()
        self.scanned_rows = self.scanned_unchanged = self.batches = self.would_delist = 0
        # (the start deadline a list sets for a child of a risk level is the same all run)
        self._start = functools.cache(
            lambda risk: start_deadline(
                risk, options.received, calendar, agreement_date=options.agreement_date
            )
        )
        self._stored = functools.cache(lambda risk: _stored(self._start(risk)))
        actor, full = options.actor or runs.UNATTENDED, options.full
        run_id = DRY_RUN
        if not options.dry_run:
            run_id = archive.begin_run(
                source, mapping.name, partner=partner, full=full, actor=actor
            )
        self.report = SyncReport(run_id=run_id, source=source, mapping=mapping.name, actor=actor)

    def _issue(self, row: int, f: Finding) -> None:
        item = {"row": row} | {k: v for k in f.__slots__ if (v := getattr(f, k)) is not None}
        self.report.issues.append(item)
        if self.on_issue is not None:
            self.on_issue(item)

    def check_columns(self, columns: Iterable[str]) -> None:
        """Note once each column that is not the mapping's (it is ignored)."""
        for col in sorted(set(columns) - self.mapping.columns - self.reported_columns):
            msg = EXTRA_COLUMN.format(column=col, mapping=self.mapping.name)
            self._issue(1, Finding(col, "extra-column", msg, "information"))
            self.reported_columns.add(col)

    def take(self, total: int, unchanged: int, seen: Container[int]) -> None:
        """What classifying found; a ``--full`` list that would delist more than allowed
        stops here, before the first write (:mod:`interop.core.delisting`)."""
        self.scanned_rows, self.scanned_unchanged, self.seen = total, unchanged, seen
        if self.options.full:
            self.would_delist, listed = self.archive.delisting(seen)
            try:
                self.options.delist_limit.check(would=self.would_delist, listed=listed, rows=total)
            except DelistRefused as exc:
                if not self.options.dry_run:
                    raise
                self.report.message = WOULD_STOP.format(reason=exc.message)

    def commit(
        self, items: list[Prepared], cursor: tuple[str, str] | None = None, *, count: bool = True
    ) -> None:
        """Decide and write one batch (one transaction); ``count``: not counted by :meth:`take`."""
        report, options = self.report, self.options
        batch = Batch(rows=len(items) if count else 0, cursor=cursor)
        # (a row whose key was new to the archive comes with its record: nothing to look up)
        known = self.archive.lookup([p.key for p in items if p.key and p.record is None])
        compare: list[tuple[Prepared, Known]] = []
        received = options.received.isoformat()
        for p in items:
            if p.key is None:  # quarantined
                for f in p.findings:
                    self._issue(p.number, f)
                    row = QuarantinedRow(p.number, f.field, f.code, f.message, p.values or {})
                    batch.quarantined.append(row)
                report.quarantined += 1
                continue
            k = known.get(p.key)
            if k is not None and k.raw_digest == p.raw_digest and k.status == "listed":
                batch.unchanged += 1
                continue
            for f in p.findings:
                self._issue(p.number, f)
            if k is not None:
                compare.append((p, k))
                continue
            record = p.record or self.parts.new_record(orjson.loads(p.entry_json))
            batch.new.append(  # (NewChild's fields in order)
                NewChild(p.key, p.resident_id, p.entry_json, p.entry_digest, p.raw_digest,
                         p.risk, received, self._stored(p.risk), record)
            )  # fmt: skip
        if compare:
            self._changes(batch, compare)
        if not options.dry_run:
            self.archive.apply_batch(report.run_id, batch, case_prefix=options.case_prefix)
        report.rows += batch.rows
        report.new += len(batch.new)
        report.changed += len(batch.changed)
        report.unchanged += batch.unchanged
        self.batches += 1
        faults.reached("sync.batch-written", self.batches)

    def _changes(self, batch: Batch, compare: list[tuple[Prepared, Known]]) -> None:
        """Known children's rows: which fields changed (a new risk level moves the start
        deadline only earlier: G-06)."""
        for p, k in compare:
            entry = orjson.loads(p.entry_json)
            changed = changed_fields(entry, orjson.loads(k.entry or b"{}"), k.status)
            if not changed:
                batch.retouched.append((k.child_id, p.raw_digest))
                batch.unchanged += 1
                continue
            deadline = None
            if "risk_level" in changed:
                previous = None
                if was := k.deadline:
                    start, due = (dt.date.fromisoformat(d) for d in was[1:3])
                    previous = Deadline(was[0], start, due, was[3])
                deadline = earliest(previous, self._start(p.risk))
            batch.changed.append(  # (ChangedChild's fields in order)
                ChangedChild(k, p.entry_json, p.raw_digest, changed, p.risk, _stored(deadline),
                             self.parts.of(entry))
            )  # fmt: skip
            self.report.changes[k.case_number] = changed

    @contextmanager
    def recording(self, *, say_why: bool = False) -> Iterator[None]:
        """Close the run however the work ends: refused, interrupted, failed (re-raised;
        ``say_why``: an error's own message recorded, not only its kind)."""
        try:
            yield
        except DelistRefused as exc:
            self.finish(status="refused", message=exc.message)
            raise
        except KeyboardInterrupt:
            # Ctrl-C ends with exit 130 whatever happens here: a run that cannot be
            # recorded now stays "running" and the next run marks it interrupted.
            try:
                self.finish(status="interrupted", message=INTERRUPTED)
            except Exception as exc:
                log.warning("the interrupted run could not be recorded (%s)", type(exc).__name__)
            raise
        except BaseException as exc:
            why = exc.message if say_why and isinstance(exc, InteropError) else None
            self.finish(status="failed", message=why or type(exc).__name__)
            raise

    def finish(self, *, status: str = "completed", message: str | None = None) -> SyncReport:
        """Close the run (a completed full list delists the listed children it did not name)."""
        report = self.report
        report.rows += self.scanned_rows
        report.unchanged += self.scanned_unchanged
        # (a full list of no rows delists nobody: it was not understood)
        full = self.options.full and status == "completed" and report.rows > 0
        if self.options.dry_run:  # (nothing written: what a real run would have done)
            report.delisted = self.would_delist if full else 0
            report.status = DRY_RUN if status == "completed" else status
            report.message = message or report.message
            return report
        report.delisted = self.archive.finish_run(
            report.run_id,
            status=status,
            full=full,
            message=message,
            seen=self.seen,
            rows=self.scanned_rows,
            unchanged=self.scanned_unchanged,
        )
        report.status, report.message = status, message
        return report
