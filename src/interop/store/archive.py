"""The archive: SQLite file by default, PostgreSQL by URL (SQLAlchemy Core) — 一人一档.

:class:`Archive` is the one handle the rest of the program holds: it opens
the database (:mod:`interop.store.connect`, :mod:`interop.store.migrate`) and
gives each concept's queries a connection or a transaction. The queries live
in the store module of their concept: sync runs (:mod:`~interop.store.runs`),
the children of the list (:mod:`~interop.store.children`), one batch of a
sync (:mod:`~interop.store.batches`), cases and case records
(:mod:`~interop.store.cases`). The names other modules import from here are
re-exported for them.
"""

from __future__ import annotations

import uuid
from collections.abc import Container, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from interop._errors import StoreError as StoreError
from interop.store import batches, cases, children, runs, snapshot
from interop.store.batches import Batch as Batch
from interop.store.batches import ChangedChild as ChangedChild
from interop.store.batches import NewChild as NewChild
from interop.store.batches import QuarantinedRow as QuarantinedRow
from interop.store.batches import with_case_number as with_case_number
from interop.store.cases import Deadline
from interop.store.checkpoints import Checkpoints
from interop.store.children import Guardian as Guardian
from interop.store.children import Known as Known
from interop.store.children import entry_guardians as entry_guardians
from interop.store.connect import describe_url as describe_url
from interop.store.connect import make_engine
from interop.store.jsontext import digest as digest
from interop.store.jsontext import dumpb as dumpb
from interop.store.jsontext import dumps as dumps
from interop.store.location import ENV_DB as ENV_DB
from interop.store.location import default_data_dir as default_data_dir
from interop.store.location import resolve_url, sqlite_path
from interop.store.migrate import missing_archive as missing_archive
from interop.store.migrate import prepare
from interop.store.peek import Listed as Listed
from interop.store.records import merge_list_fields as merge_list_fields
from interop.store.stamps import now_iso as now_iso


class Archive:
    """The embedded archive. Open with :meth:`open`; close with :meth:`close`."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._checkpoints: Checkpoints | None = None

    # -- opening ------------------------------------------------------------

    @classmethod
    def create(cls, url: str | None = None) -> Archive:
        """Open the archive at ``url``, making it first when there is none (``interop init``;
        idempotent: an existing archive is opened as it is, migrated if older)."""
        return cls.open(url, create=True)

    @classmethod
    def open(cls, url: str | None = None, *, create: bool = False) -> Archive:
        """Open an existing archive; only with ``create`` (:meth:`create`) is one made.

        Without it a SQLite file that does not exist is not created, and a database
        without the interop schema is refused (E520, E521: the message says how to make one).
        """
        full = resolve_url(url)
        engine = make_engine(full, create=create)
        try:
            with engine.begin() as conn:
                prepare(conn, create=create, where=describe_url(full))
        except sa.exc.SQLAlchemyError as exc:
            engine.dispose()
            orig = getattr(exc, "orig", None)
            reason = str(orig).strip().splitlines()[0] if orig else type(exc).__name__
            raise StoreError(
                f"cannot open the archive at {describe_url(full)}: {reason}", code="E502"
            ) from None
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def checkpoints_behind(self) -> Iterator[None]:
        """While a long sync writes: its commits reach the archive file in a thread of
        their own (:mod:`interop.store.checkpoints`). SQLite files only."""
        path = sqlite_path(self.engine.url.render_as_string(hide_password=False))
        if path is None or self._checkpoints is not None:
            yield
            return
        self._checkpoints = Checkpoints(path)
        try:
            yield
        finally:
            checkpoints, self._checkpoints = self._checkpoints, None
            checkpoints.close()

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"archive write failed: {type(exc).__name__}", code="E510") from exc

    # -- runs (:mod:`interop.store.runs`) -----------------------------------

    def begin_run(
        self,
        source: str,
        mapping: str,
        *,
        partner: str | None,
        full: bool,
        actor: str = runs.UNATTENDED,
    ) -> str:
        """A new run of ``actor``; a run still ``running`` was left by a killed process: now
        ``interrupted``."""
        run_id = uuid.uuid4().hex
        with self.transaction() as conn:
            runs.begin(conn, run_id, source, mapping, partner=partner, full=full)
            runs.name_actor(conn, run_id, actor)
        return run_id

    def finish_run(
        self,
        run_id: str,
        *,
        status: str,
        full: bool,
        message: str | None = None,
        seen: Container[int] = (),
        rows: int = 0,
        unchanged: int = 0,
    ) -> int:
        """:func:`interop.store.runs.finish`: close a run (and delist, with ``full``)."""
        with self.transaction() as conn:
            return runs.finish(
                conn,
                run_id,
                status=status,
                full=full,
                message=message,
                seen=seen,
                rows=rows,
                unchanged=unchanged,
            )

    def delisting(self, seen: Container[int]) -> tuple[int, int]:
        """:func:`interop.store.runs.delisting` (nothing written)."""
        with self.engine.connect() as conn:
            return runs.delisting(conn, seen)

    def recent_runs(self, limit: int = 10) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return runs.recent(conn, limit)

    def run(self, run_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return runs.get(conn, run_id)

    def quarantined(self, run_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return runs.quarantined(conn, run_id)

    # -- children of the list (:mod:`interop.store.children`) ----------------

    def cursor(self, partner: str) -> str | None:
        with self.engine.connect() as conn:
            return children.cursor(conn, partner)

    def max_child_id(self) -> int:
        with self.engine.connect() as conn:
            return children.max_child_id(conn)

    def lookup(self, keys: Sequence[str]) -> dict[str, Known]:
        """Known children by match key, with their current entries and deadlines."""
        if not keys:
            return {}
        with self.engine.connect() as conn:
            return children.lookup(conn, keys)

    def count_children(self) -> int:
        with self.engine.connect() as conn:
            return children.count_children(conn)

    def listed_digests(self) -> Listed:
        """:func:`interop.store.children.listed_digests`, in one read."""
        with self.engine.connect() as conn:
            return children.listed_digests(conn)

    # -- one batch of a sync (:mod:`interop.store.batches`) -------------------

    def apply_batch(self, run_id: str, batch: Batch, *, case_prefix: str) -> None:
        """Write one batch in one transaction, with the run's counters (and cursor)."""
        with self.transaction() as conn:
            batches.apply_batch(conn, run_id, batch, case_prefix=case_prefix, stamp=now_iso())
        if self._checkpoints is not None:
            self._checkpoints.nudge()

    # -- cases (:mod:`interop.store.cases`) ----------------------------------

    def case_deadline(self, case_number: str) -> Deadline | None:
        with self.engine.connect() as conn:
            return cases.case_deadline(conn, case_number)

    def waiting_cases(self, *, until: str | None = None) -> list[dict[str, Any]]:
        """Cases in the waiting state (listed, §3.1) with a deadline, earliest first."""
        with self.engine.connect() as conn:
            return cases.waiting_cases(conn, until=until)

    def import_record(
        self,
        case_number: str,
        body: dict[str, Any],
        *,
        state: str,
        risk_level: str | None,
        resident_id: str | None,
        deadline: Deadline | None,
        received: str | None,
    ) -> str:
        """Store a case record as a new version where it changed: ``new|changed|unchanged``."""
        with self.transaction() as conn:
            return cases.import_record(
                conn,
                case_number,
                body,
                state=state,
                risk_level=risk_level,
                resident_id=resident_id,
                deadline=deadline,
                received=received,
                stamp=now_iso(),
            )

    def case_versions(self, case_number: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return cases.case_versions(conn, case_number)

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Archive content without run ids and timestamps (tests compare runs by it)."""
        with self.engine.connect() as conn:
            return snapshot.snapshot(conn)
