"""The archive: SQLite file by default, PostgreSQL by URL (SQLAlchemy Core).

The sync engine (:mod:`interop.inbound.sync`) hands over one batch at a
time; each batch is one transaction, so a run killed midway leaves every
committed batch whole and nothing of the batch in flight.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from interop._errors import StoreError as StoreError
from interop.store import peek, runs
from interop.store import schema as t
from interop.store.checkpoints import Checkpoints
from interop.store.jsontext import digest as digest
from interop.store.jsontext import dumpb as dumpb
from interop.store.jsontext import dumps as dumps
from interop.store.location import ENV_DB as ENV_DB
from interop.store.location import NO_ARCHIVE, resolve_url, sqlite_path
from interop.store.location import default_data_dir as default_data_dir
from interop.store.peek import LISTED_DIGESTS_SQL, Found, StoredRow
from interop.store.records import merge_list_fields as merge_list_fields

log = logging.getLogger(__name__)


def missing_archive(url: str, code: str) -> str:
    """Why an archive cannot be opened without creating it, and how to create it."""
    return NO_ARCHIVE[code].format(where=describe_url(url))


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def describe_url(url: str) -> str:
    """The URL without a password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable database URL)"


# ---------------------------------------------------------------------------
# What the sync engine reads and writes
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class Known:
    """What the archive knows of a child, enough to decide new / changed / unchanged."""

    child_id: int
    case_number: str
    status: str
    version: int
    raw_digest: str
    entry_digest: str


@dataclass(slots=True)
class Stored:
    """What a change of a known child reads from the archive (:data:`peek.CHANGE_STATES_SQL`):
    a large sync's workers read it ahead, with the rows they found changed."""

    known: Known
    entry: dict[str, Any]  # the current list entry
    deadline: tuple[str, str, str, bool] | None  # the case's start deadline, if any
    latest: tuple[int, str, str] | None  # the latest case record: version, body, digest

    @classmethod
    def of(cls, row: StoredRow, *, entry: bool = True) -> Stored:
        """``entry=False``: leave the entry out (``{}``), for a change decided already."""
        rule, start, due, prov, version, body, digest_ = row[7:14]
        return cls(
            Known(*row[:6]),
            orjson.loads(row[6]) if entry else {},
            None if rule is None else (rule, start, due, bool(prov)),
            None if version is None else (version, body, digest_),
        )


#: A guardian as the list names them: (name, relationship, phone).
Guardian = tuple[str, str | None, str | None]


@dataclass(slots=True)
class NewChild:
    match_key: str
    resident_id: str | None
    entry_json: bytes  # canonical JSON of the list entry (see :func:`dumpb`)
    entry_digest: str
    raw_digest: str
    risk_level: str | None
    received: str
    deadline: tuple[str, str, str, bool] | None  # rule, start, due, provisional
    record_json: bytes  # canonical JSON of the case record, its case number "" (filled in here)


@dataclass(slots=True)
class ChangedChild:
    known: Known
    entry_json: bytes
    raw_digest: str
    changed: list[str]
    risk_level: str | None
    deadline: tuple[str, str, str, bool] | None
    merge: dict[str, Any] | None  # list-owned parts of the case record (merge_list_fields)
    latest: tuple[int, str, str] | None = None  # the latest case record, if read ahead
    #: the new case record merged from ``latest`` already (body, digest), by a worker
    record: tuple[str, str] | None = None


@dataclass(slots=True)
class QuarantinedRow:
    row: int
    field: str
    code: str
    message: str
    raw: dict[str, Any]


@dataclass(slots=True)
class Batch:
    new: list[NewChild] = field(default_factory=list)
    changed: list[ChangedChild] = field(default_factory=list)
    retouched: list[tuple[int, str]] = field(default_factory=list)  # (child_id, raw_digest)
    quarantined: list[QuarantinedRow] = field(default_factory=list)
    rows: int = 0
    unchanged: int = 0
    cursor: tuple[str, str] | None = None  # (partner, cursor) advanced with this batch


_NO_NUMBER = b'"case_number":""'
_NO_DEADLINE = (None, None, None, False)


def with_case_number(record: bytes, number: str) -> bytes:
    """The canonical JSON of a case record whose ``case.case_number`` was "", with ``number``.

    Equal to :func:`dumpb` of the record with the number in it: keys are sorted by
    name, not value, and only JSON structure (never a string's inside, where
    quotes are escaped) can read ``"case_number":""``.
    """
    if _NO_NUMBER not in record:
        raise ValueError("the case record has no empty case number to fill in")
    return record.replace(_NO_NUMBER, b'"case_number":' + orjson.dumps(number), 1)


def entry_guardians(entry: dict[str, Any]) -> list[Guardian]:
    """The guardians a list entry names (the list layout has one)."""
    name = entry.get("guardian_name")
    if not name:
        return []
    return [(name, entry.get("guardian_relationship"), entry.get("guardian_phone"))]


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
        try:
            parsed = make_url(full)
        except Exception:
            raise StoreError("the database URL cannot be parsed", code="E501") from None
        kwargs: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite":
            db = parsed.database
            if db and db != ":memory:":
                if create:
                    Path(db).parent.mkdir(parents=True, exist_ok=True)
                elif not Path(db).is_file():
                    raise StoreError(missing_archive(full, "E520"), code="E520")
        elif parsed.get_backend_name() == "postgresql":
            kwargs["connect_args"] = {"connect_timeout": 10}
        else:
            raise StoreError(
                f"unsupported database '{parsed.get_backend_name()}': use sqlite or postgresql",
                code="E501",
            )
        try:
            engine = sa.create_engine(full, **kwargs)
        except Exception as exc:
            raise StoreError(
                f"cannot use database {describe_url(full)}: {exc}", code="E501"
            ) from None
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        archive = cls(engine)
        try:
            archive._prepare(create=create)
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
        return archive

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _prepare(self, *, create: bool) -> None:
        with self.engine.begin() as conn:
            insp = sa.inspect(conn)
            tables = set(insp.get_table_names())
            if t.meta.name not in tables:
                if tables & set(t.metadata.tables):
                    raise StoreError(
                        "the database holds tables of another program or of a damaged "
                        "archive (no schema version): use an empty database",
                        code="E503",
                    )
                if not create:
                    raise StoreError(missing_archive(self.url, "E521"), code="E521")
                t.create(conn)
                conn.execute(
                    t.meta.insert(), [{"key": "schema_version", "value": str(t.SCHEMA_VERSION)}]
                )
                log.info("created archive schema version %d", t.SCHEMA_VERSION)
                return
            row = conn.execute(
                sa.select(t.meta.c.value).where(t.meta.c.key == "schema_version")
            ).scalar_one_or_none()
            version = int(row) if row is not None and row.isdigit() else -1
            if version == t.SCHEMA_VERSION:
                return
            if version > t.SCHEMA_VERSION:
                raise StoreError(
                    f"the archive has schema version {version}, newer than this program "
                    f"understands ({t.SCHEMA_VERSION}): upgrade interop",
                    code="E505",
                )
            while version < t.SCHEMA_VERSION:
                step = t.MIGRATIONS.get(version)
                if step is None:
                    raise StoreError(
                        f"the archive has schema version {version}, older than this program's "
                        f"({t.SCHEMA_VERSION}), and no migration from it exists: open it with "
                        "the interop release that wrote it and export the case records",
                        code="E506",
                    )
                step(conn)
                version += 1
                log.info("migrated archive schema to version %d", version)
            conn.execute(
                t.meta.update()
                .where(t.meta.c.key == "schema_version")
                .values(value=str(t.SCHEMA_VERSION))
            )

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=False)

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

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # -- runs ---------------------------------------------------------------

    def begin_run(self, source: str, mapping: str, *, partner: str | None, full: bool) -> str:
        """A new run; a run still ``running`` was left by a killed process: now ``interrupted``."""
        run_id = uuid.uuid4().hex
        with self.transaction() as conn:
            runs.mark_interrupted(conn, stamp=now_iso(), message=runs.LEFT_RUNNING)
            conn.execute(
                t.sync_runs.insert(),
                [
                    {
                        "run_id": run_id,
                        "source": source,
                        "mapping": mapping,
                        "partner": partner,
                        "full_list": full,
                        "status": "running",
                        "started_at": runs.started_now(),
                        "rows": 0,
                        "new": 0,
                        "changed": 0,
                        "unchanged": 0,
                        "delisted": 0,
                        "quarantined": 0,
                    }
                ],
            )
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
        """Close a run; with ``full``, mark listed children not in ``seen`` delisted.

        ``seen`` holds the ids of the known children the list named; children
        added by this run are on it by definition. ``rows`` and ``unchanged``
        are added to the run's counters (rows the batches did not carry).
        """
        delisted = 0
        with self.transaction() as conn:
            if full and status == "completed":
                c = t.children.c
                gone = [
                    (child_id, version)
                    for child_id, version in conn.execute(
                        sa.select(c.id, c.version).where(
                            c.status == "listed", c.first_run != run_id
                        )
                    )
                    if child_id not in seen
                ]
                stamp = now_iso()
                for i in range(0, len(gone), 500):
                    chunk = gone[i : i + 500]
                    conn.execute(
                        t.children.update()
                        .where(c.id == sa.bindparam("cid"))
                        .values(status="delisted", version=sa.bindparam("v"), changed_run=run_id),
                        [{"cid": cid, "v": v + 1} for cid, v in chunk],
                    )
                    _copy_versions(conn, run_id, stamp, [(cid, v, v + 1) for cid, v in chunk])
                delisted = len(gone)
            r = t.sync_runs.c
            conn.execute(
                t.sync_runs.update()
                .where(r.run_id == run_id)
                .values(
                    status=status,
                    finished_at=now_iso(),
                    delisted=delisted,
                    message=message,
                    rows=r.rows + rows,
                    unchanged=r.unchanged + unchanged,
                )
            )
        return delisted

    def delisting(self, seen: Container[int]) -> tuple[int, int]:
        """:func:`interop.store.runs.delisting` (nothing written)."""
        with self.engine.connect() as conn:
            return runs.delisting(conn, seen)

    def recent_runs(self, limit: int = 10) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return runs.recent(conn, limit)

    def run(self, run_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(t.sync_runs).where(t.sync_runs.c.run_id == run_id))
                .mappings()
                .first()
            )
        return dict(row) if row else None

    def quarantined(self, run_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.quarantine)
                .where(t.quarantine.c.run_id == run_id)
                .order_by(t.quarantine.c.row, t.quarantine.c.id)
            ).mappings()
            return [dict(r) for r in rows]

    # -- cursors ------------------------------------------------------------

    def cursor(self, partner: str) -> str | None:
        with self.engine.connect() as conn:
            value: str | None = conn.execute(
                sa.select(t.cursors.c.cursor).where(t.cursors.c.partner == partner)
            ).scalar_one_or_none()
            return value

    # -- children -----------------------------------------------------------

    def max_child_id(self) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(sa.func.max(t.children.c.id))).scalar()
        return int(value or 0)

    def lookup(self, keys: Sequence[str]) -> dict[str, Known]:
        """Known children by match key (one query per 500 keys)."""
        out: dict[str, Known] = {}
        if not keys:
            return out
        with self.engine.connect() as conn:
            for i in range(0, len(keys), 500):
                for row in _select_in(conn, _LOOKUP, keys[i : i + 500]):
                    out[row[0]] = Known(row[1], row[2], row[3], row[4], row[5], row[6])
        return out

    def count_children(self) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(sa.func.count()).select_from(t.children)).scalar()
        return int(value or 0)

    def listed_digests(self) -> dict[str, Found]:
        """Every child's ``(child id, raw digest)`` by match key, in one read; the digest
        is None for a child no longer listed (half the objects of a status column)."""
        with self.engine.connect() as conn:
            dbapi: Any = conn.connection.dbapi_connection
            if conn.dialect.name == "sqlite":
                return peek.listed_digests(dbapi)  # (as a first pass started early reads them)
            cursor = dbapi.cursor()
            try:
                cursor.execute(LISTED_DIGESTS_SQL)  # plain SQL: workers run it on their own
                return {key: (cid, raw) for key, cid, raw in cursor.fetchall()}
            finally:
                cursor.close()

    def digests(self, keys: Sequence[str]) -> dict[str, tuple[int, str | None]]:
        """:meth:`listed_digests` of the children with these match keys, by key: what the
        first pass of a sync needs, lighter than :meth:`lookup` (a re-sync asks for every key).
        """
        out: dict[str, tuple[int, str | None]] = {}
        if not keys:
            return out
        with self.engine.connect() as conn:
            for i in range(0, len(keys), 500):
                for key, cid, raw in _select_in(conn, _DIGESTS, keys[i : i + 500]):
                    out[key] = (cid, raw)
        return out

    def entries(self, known: Iterable[Known]) -> dict[int, dict[str, Any]]:
        """The current list entry of known children, by child id."""
        current = {k.child_id: k.version for k in known}
        ids = list(current)
        out: dict[int, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                for cid, version, entry in _select_in(
                    conn, _ENTRIES, ids[i : i + 500], t.child_versions.c.child_id
                ):
                    if current[cid] == version:
                        out[cid] = orjson.loads(entry)
        return out

    def apply_batch(self, run_id: str, batch: Batch, *, case_prefix: str) -> None:
        """Write one batch in one transaction, with the run's counters (and cursor)."""
        stamp = now_iso()
        with self.transaction() as conn:
            if batch.new:
                self._insert_new(conn, run_id, batch.new, case_prefix, stamp)
            if batch.changed:
                self._apply_changes(conn, run_id, batch.changed, stamp)
            c = t.children.c
            _run_many(
                conn,
                "children-retouched",
                lambda: (
                    t.children.update()
                    .where(c.id == sa.bindparam("cid"))
                    .values(raw_digest=sa.bindparam("rd"))
                ),
                [{"cid": cid, "rd": rd} for cid, rd in batch.retouched],
            )
            if batch.quarantined:
                _insert_rows(
                    conn,
                    t.quarantine,
                    ("run_id", "row", "field", "code", "message", "raw"),
                    [
                        (run_id, q.row, q.field, q.code, q.message, dumps(q.raw))
                        for q in batch.quarantined
                    ],
                )
            r = t.sync_runs.c
            conn.execute(
                t.sync_runs.update()
                .where(r.run_id == run_id)
                .values(
                    rows=r.rows + batch.rows,
                    new=r.new + len(batch.new),
                    changed=r.changed + len(batch.changed),
                    unchanged=r.unchanged + batch.unchanged,
                    quarantined=r.quarantined + len({q.row for q in batch.quarantined}),
                )
            )
            if batch.cursor is not None:
                partner, cur = batch.cursor
                values = {"cursor": cur, "run_id": run_id, "updated_at": stamp}
                done = conn.execute(
                    t.cursors.update().where(t.cursors.c.partner == partner).values(**values)
                )
                if done.rowcount == 0:
                    conn.execute(t.cursors.insert(), [{"partner": partner, **values}])
        if self._checkpoints is not None:
            self._checkpoints.nudge()

    def _next_numbers(self, conn: sa.Connection, name: str, n: int) -> int:
        """Reserve ``n`` numbers of sequence ``name``; returns the first."""
        s = t.sequences.c
        current = conn.execute(
            sa.select(s.value).where(s.name == name).with_for_update()
        ).scalar_one_or_none()
        if current is None:
            conn.execute(t.sequences.insert(), [{"name": name, "value": n}])
            return 1
        conn.execute(t.sequences.update().where(s.name == name).values(value=current + n))
        return int(current) + 1

    def _insert_new(
        self, conn: sa.Connection, run_id: str, new: list[NewChild], prefix: str, stamp: str
    ) -> None:
        """Four plain inserts per batch (executemany), ids and case numbers reserved up front.

        Each table's rows are built by one comprehension over the batch (no
        per-row appends to four lists: this is the writer's hot path).
        """
        by_year: dict[str, list[NewChild]] = {}
        for n in new:
            by_year.setdefault(n.received[:4], []).append(n)
        items: list[NewChild] = []
        numbers: list[str] = []
        for year, group in by_year.items():
            first = self._next_numbers(conn, f"case:{prefix}:{year}", len(group))
            items += group
            numbers += [f"{prefix}-{year}-{i:05d}" for i in range(first, first + len(group))]
        first_id = self._next_numbers(conn, "child", len(items))
        rows = list(zip(range(first_id, first_id + len(items)), numbers, items, strict=True))
        _insert_rows(
            conn,
            t.children,
            _CHILD_COLUMNS,
            [
                (
                    cid,
                    n.match_key,
                    n.resident_id,
                    num,
                    "listed",
                    1,
                    n.raw_digest,
                    n.entry_digest,
                    run_id,
                    run_id,
                )
                for cid, num, n in rows
            ],
        )
        _insert_rows(
            conn,
            t.child_versions,
            _VERSION_COLUMNS,
            [(cid, 1, run_id, "listed", n.entry_json, "[]", stamp) for cid, _, n in rows],
        )
        _insert_rows(
            conn,
            t.cases,
            _CASE_COLUMNS,
            [
                (
                    num,
                    cid,
                    "listed",
                    n.risk_level,
                    n.received,
                    *(n.deadline or _NO_DEADLINE),
                    1,
                    stamp,
                )
                for cid, num, n in rows
            ],
        )
        bodies = [with_case_number(n.record_json, num) for _, num, n in rows]
        _insert_rows(
            conn,
            t.case_records,
            _RECORD_COLUMNS,
            [
                (num, 1, digest(body), body, "sync", run_id, stamp)
                for (_, num, _), body in zip(rows, bodies, strict=True)
            ],
        )

    def _apply_changes(
        self, conn: sa.Connection, run_id: str, changes: list[ChangedChild], stamp: str
    ) -> None:
        """A new version of each changed child, set-based: a few statements per batch."""
        c = t.children.c
        _run_many(
            conn,
            "children-changed",
            lambda: (
                t.children.update()
                .where(c.id == sa.bindparam("cid"))
                .values(
                    status=sa.bindparam("st"),
                    version=sa.bindparam("v"),
                    raw_digest=sa.bindparam("rd"),
                    entry_digest=sa.bindparam("ed"),
                    changed_run=sa.bindparam("run"),
                )
            ),
            [
                {
                    "st": "listed",
                    "cid": ch.known.child_id,
                    "v": ch.known.version + 1,
                    "rd": ch.raw_digest,
                    "ed": digest(ch.entry_json),
                    "run": run_id,
                }
                for ch in changes
            ],
        )
        _insert_rows(
            conn,
            t.child_versions,
            _VERSION_COLUMNS,
            [
                (
                    ch.known.child_id,
                    ch.known.version + 1,
                    run_id,
                    "listed",
                    ch.entry_json,
                    dumps(ch.changed),
                    stamp,
                )
                for ch in changes
            ],
        )
        numbers = [ch.known.case_number for ch in changes if ch.latest is None]
        latest = {ch.known.case_number: ch.latest for ch in changes if ch.latest is not None}
        for i in range(0, len(numbers), 500):
            for number, version, body, d in _select_in(
                conn, _RECORDS, numbers[i : i + 500], t.case_records.c.case_number
            ):
                if number not in latest or latest[number][0] < version:
                    latest[number] = (version, body, d)
        records = []
        for ch in changes:
            found = latest.get(ch.known.case_number)
            if found is None:
                continue
            version, old_body, old_digest = found
            if ch.record is not None and found is ch.latest:  # (merged from this very record)
                body, new_digest = ch.record
            else:
                assert ch.merge is not None, "a change without its record merges its parts"
                body = dumps(merge_list_fields(orjson.loads(old_body), ch.merge))
                new_digest = digest(body)
            if new_digest != old_digest:
                records.append(
                    (ch.known.case_number, version + 1, new_digest, body, "sync", run_id, stamp)
                )
        _insert_rows(conn, t.case_records, _RECORD_COLUMNS, records)
        k = t.cases.c
        # the case row holds the risk (and the deadline it sets): touched only when the
        # risk changed — a new address or phone number leaves it as it is
        plain = [ch for ch in changes if ch.deadline is None and "risk_level" in ch.changed]
        timed = [ch for ch in changes if ch.deadline is not None]
        _run_many(
            conn,
            "cases-risk",
            lambda: (
                t.cases.update()
                .where(k.case_number == sa.bindparam("cn"), k.state == sa.bindparam("st"))
                .values(risk_level=sa.bindparam("rl"), updated_at=sa.bindparam("at"))
            ),
            [
                {"cn": ch.known.case_number, "st": "listed", "rl": ch.risk_level, "at": stamp}
                for ch in plain
            ],
        )
        _run_many(
            conn,
            "cases-risk-deadline",
            lambda: (
                t.cases.update()
                .where(k.case_number == sa.bindparam("cn"), k.state == sa.bindparam("st"))
                .values(
                    risk_level=sa.bindparam("rl"),
                    updated_at=sa.bindparam("at"),
                    deadline_rule=sa.bindparam("dr"),
                    deadline_start=sa.bindparam("ds"),
                    deadline_due=sa.bindparam("dd"),
                    provisional=sa.bindparam("dp"),
                )
            ),
            [
                {
                    "cn": ch.known.case_number,
                    "st": "listed",
                    "rl": ch.risk_level,
                    "at": stamp,
                    "dr": ch.deadline[0],
                    "ds": ch.deadline[1],
                    "dd": ch.deadline[2],
                    "dp": ch.deadline[3],
                }
                for ch in timed
                if ch.deadline is not None
            ],
        )

    def case_deadlines(self, case_numbers: Sequence[str]) -> dict[str, tuple[str, str, str, bool]]:
        """The start deadline of each case that has one."""
        out: dict[str, tuple[str, str, str, bool]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(case_numbers), 500):
                for number, rule, start, due, prov in _select_in(
                    conn, _DEADLINES, case_numbers[i : i + 500], t.cases.c.case_number
                ):
                    if rule is not None:
                        out[number] = (rule, start, due, bool(prov))
        return out

    # -- cases --------------------------------------------------------------

    def case_deadline(self, case_number: str) -> tuple[str, str, str, bool] | None:
        c = t.cases.c
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(c.deadline_rule, c.deadline_start, c.deadline_due, c.provisional).where(
                    c.case_number == case_number
                )
            ).first()
        if row is None or row[0] is None:
            return None
        return (row[0], row[1], row[2], bool(row[3]))

    def waiting_cases(self, *, until: str | None = None) -> list[dict[str, Any]]:
        """Cases in the waiting state (listed, §3.1) with a deadline, earliest first."""
        c = t.cases.c
        q = (
            sa.select(
                c.case_number,
                c.risk_level,
                c.deadline_rule,
                c.deadline_start,
                c.deadline_due,
                c.provisional,
                c.received,
            )
            .where(c.state == "listed", c.deadline_due.is_not(None))
            .order_by(c.deadline_due, c.case_number)
        )
        if until is not None:
            q = q.where(c.deadline_due <= until)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def import_record(
        self,
        case_number: str,
        body: dict[str, Any],
        *,
        state: str,
        risk_level: str | None,
        resident_id: str | None,
        deadline: tuple[str, str, str, bool] | None,
        received: str | None,
    ) -> str:
        """Store a case record as a new version where it changed: ``new|changed|unchanged``."""
        text = dumps(body)
        d = digest(text)
        stamp = now_iso()
        cr = t.case_records.c
        with self.transaction() as conn:
            latest = conn.execute(
                sa.select(cr.version, cr.digest)
                .where(cr.case_number == case_number)
                .order_by(cr.version.desc())
                .limit(1)
            ).first()
            if latest is not None and latest[1] == d:
                return "unchanged"
            version = 1 if latest is None else latest[0] + 1
            conn.execute(
                t.case_records.insert(),
                [
                    {
                        "case_number": case_number,
                        "version": version,
                        "digest": d,
                        "body": text,
                        "source": "import",
                        "run_id": None,
                        "created_at": stamp,
                    }
                ],
            )
            child_id = _child_by_resident_id(conn, resident_id) if resident_id else None
            rule, start, due, prov = deadline or (None, None, None, False)
            values = {
                "state": state,
                "risk_level": risk_level,
                "received": received,
                "deadline_rule": rule,
                "deadline_start": start,
                "deadline_due": due,
                "provisional": prov,
                "version": version,
                "updated_at": stamp,
            }
            done = conn.execute(
                t.cases.update().where(t.cases.c.case_number == case_number).values(**values)
            )
            if done.rowcount == 0:
                conn.execute(
                    t.cases.insert(),
                    [{"case_number": case_number, "child_id": child_id, **values}],
                )
            _link_case_staff(conn, case_number, body)
        return "new" if latest is None else "changed"

    def case_versions(self, case_number: str) -> list[dict[str, Any]]:
        cr = t.case_records.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(cr.version, cr.body, cr.source)
                .where(cr.case_number == case_number)
                .order_by(cr.version)
            )
            return [{"version": v, "body": orjson.loads(b), "source": s} for v, b, s in rows]

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Archive content without run ids and timestamps (tests compare runs by it)."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        with self.engine.connect() as conn:
            ch = t.children.c
            out["children"] = [
                tuple(r)
                for r in conn.execute(
                    sa.select(
                        ch.match_key, ch.case_number, ch.status, ch.version, ch.entry_digest
                    ).order_by(ch.match_key)
                )
            ]
            v = t.child_versions.c
            out["child_versions"] = [
                tuple(r)
                for r in conn.execute(
                    sa.select(ch.match_key, v.version, v.status, v.entry, v.changed)
                    .join(t.children, ch.id == v.child_id)
                    .order_by(ch.match_key, v.version)
                )
            ]
            c = t.cases.c
            out["cases"] = [
                tuple(r)
                for r in conn.execute(
                    sa.select(
                        c.case_number, c.state, c.risk_level, c.deadline_rule, c.deadline_due
                    ).order_by(c.case_number)
                )
            ]
            cr = t.case_records.c
            out["case_records"] = [
                tuple(r)
                for r in conn.execute(
                    sa.select(cr.case_number, cr.version, cr.digest).order_by(
                        cr.case_number, cr.version
                    )
                )
            ]
            # The current guardians are those named by the current entry.
            out["guardians"] = [
                (key, i, name, rel, phone)
                for key, entry in conn.execute(
                    sa.select(ch.match_key, v.entry)
                    .join(t.children, sa.and_(ch.id == v.child_id, ch.version == v.version))
                    .order_by(ch.match_key)
                )
                for i, (name, rel, phone) in enumerate(entry_guardians(orjson.loads(entry)))
            ]
        return out


_CHILD_COLUMNS = (
    "id",
    "match_key",
    "resident_id",
    "case_number",
    "status",
    "version",
    "raw_digest",
    "entry_digest",
    "first_run",
    "changed_run",
)
_VERSION_COLUMNS = ("child_id", "version", "run_id", "status", "entry", "changed", "created_at")
_CASE_COLUMNS = (
    "case_number",
    "child_id",
    "state",
    "risk_level",
    "received",
    "deadline_rule",
    "deadline_start",
    "deadline_due",
    "provisional",
    "version",
    "updated_at",
)
_RECORD_COLUMNS = ("case_number", "version", "digest", "body", "source", "run_id", "created_at")

#: Statements of the sync's hot path, compiled once per dialect: SQL text and, for a
#: positional paramstyle, the parameter names in order.
_COMPILED: dict[tuple[Any, ...], tuple[str, tuple[str, ...] | None]] = {}


def _compiled(
    conn: sa.Connection, key: tuple[Any, ...], build: Callable[[], sa.Insert | sa.Update]
) -> tuple[str, tuple[str, ...] | None]:
    found = _COMPILED.get((conn.dialect.name, *key))
    if found is None:
        c = build().compile(dialect=conn.dialect)
        found = (c.string, tuple(c.positiontup or ()) if c.positional else None)
        _COMPILED[(conn.dialect.name, *key)] = found
    return found


#: Text columns that may be given UTF-8 bytes (the JSON of entries and case records).
_UTF8_COLUMNS = frozenset({"entry", "body"})


def _insert_rows(
    conn: sa.Connection, table: sa.Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """executemany straight on the driver: the hot path of a sync writes ~5 rows per child.

    The statement is compiled once per dialect, table and column list; the
    values are plain str/int/bool/None, which every supported driver takes as
    they are (tuples for a positional paramstyle, dicts otherwise). The JSON
    columns (``_UTF8_COLUMNS``) also take UTF-8 bytes: SQLite reads them as
    text with ``CAST(? AS TEXT)`` — no decoding into Python strings and
    encoding back, which costs more than the write itself for a large list;
    other databases get them decoded.
    """
    if not rows:
        return
    sqlite = conn.dialect.name == "sqlite"
    sql, names = _compiled(
        conn,
        ("insert", table.name, columns),
        lambda: table.insert().values(
            {
                col: sa.cast(sa.bindparam(col), sa.Text)
                if sqlite and col in _UTF8_COLUMNS
                else sa.bindparam(col)
                for col in columns
            }
        ),
    )
    order = None if names is None else tuple(columns.index(name) for name in names)
    if not sqlite and not _UTF8_COLUMNS.isdisjoint(columns):
        rows = [tuple(v.decode() if type(v) is bytes else v for v in r) for r in rows]
    params: list[Any]
    if order is None:
        params = [dict(zip(columns, r, strict=True)) for r in rows]
    elif order == tuple(range(len(columns))):
        params = rows
    else:
        params = [tuple(r[i] for i in order) for r in rows]
    conn.exec_driver_sql(sql, params)


def _run_many(
    conn: sa.Connection,
    name: str,
    build: Callable[[], sa.Update],
    params: list[dict[str, Any]],
) -> None:
    """executemany of a statement compiled once per dialect (``name`` keys the cache).

    For the sync's per-batch updates: SQLAlchemy would compile the statement
    again on each call of a new run and walk every parameter set; the
    values are plain str/int/bool/None, which the drivers take as they are.
    """
    if not params:
        return
    sql, names = _compiled(conn, (name,), build)
    rows: list[Any] = params if names is None else [tuple(p[n] for n in names) for p in params]
    conn.exec_driver_sql(sql, rows)


def _copy_versions(
    conn: sa.Connection, run_id: str, stamp: str, moves: list[tuple[int, int, int]]
) -> None:
    """For (child, from version, to version): a delisting version with the same entry."""
    if not moves:
        return
    v = t.child_versions.c
    entries = dict(
        conn.execute(
            sa.select(v.child_id, v.entry).where(
                sa.tuple_(v.child_id, v.version).in_([(cid, old) for cid, old, _ in moves])
            )
        ).all()
    )
    _insert_rows(
        conn,
        t.child_versions,
        _VERSION_COLUMNS,
        [
            (cid, new, run_id, "delisted", entries[cid], '["status"]', stamp)
            for cid, _old, new in moves
        ],
    )


_LOOKUP = sa.select(
    t.children.c.match_key,
    t.children.c.id,
    t.children.c.case_number,
    t.children.c.status,
    t.children.c.version,
    t.children.c.raw_digest,
    t.children.c.entry_digest,
)
# the columns of LISTED_DIGESTS_SQL (the status test as a literal: no bound parameter)
_DIGESTS = sa.select(
    t.children.c.match_key,
    t.children.c.id,
    sa.case(
        (t.children.c.status == sa.literal_column("'listed'"), t.children.c.raw_digest),
        else_=None,
    ),
)
_ENTRIES = sa.select(
    t.child_versions.c.child_id, t.child_versions.c.version, t.child_versions.c.entry
)
_RECORDS = sa.select(
    t.case_records.c.case_number,
    t.case_records.c.version,
    t.case_records.c.body,
    t.case_records.c.digest,
)
_DEADLINES = sa.select(
    t.cases.c.case_number,
    t.cases.c.deadline_rule,
    t.cases.c.deadline_start,
    t.cases.c.deadline_due,
    t.cases.c.provisional,
)
_SELECTS: dict[tuple[str, int, int], str] = {}


def _link_case_staff(conn: sa.Connection, case_number: str, body: dict[str, Any]) -> None:
    """Who is staff on the case now (``case_staff``: a worker's lists are one query)."""
    conn.execute(t.case_staff.delete().where(t.case_staff.c.case_number == case_number))
    links = {
        str(s["id"]): str(s.get("role") or "")
        for s in body.get("staff") or ()
        if isinstance(s, dict) and s.get("id")
    }
    if links:
        conn.execute(
            t.case_staff.insert(),
            [{"case_number": case_number, "staff_id": i, "role": r} for i, r in links.items()],
        )


def _child_by_resident_id(conn: sa.Connection, resident_id: str) -> int | None:
    """The child with this resident ID: by its match key where the key says the ID (the
    unique index), else by the index of the others (schema v4)."""
    c = t.children.c
    for found in (
        sa.select(c.id).where(c.match_key == "k:" + resident_id, c.resident_id == resident_id),
        sa.select(c.id).where(c.resident_id == resident_id, t.ID_NOT_IN_KEY),
    ):
        child_id: int | None = conn.execute(found).scalar_one_or_none()
        if child_id is not None:
            return child_id
    return None


def _select_in(
    conn: sa.Connection,
    stmt: sa.Select[Any],
    keys: Sequence[Any],
    column: sa.ColumnElement[Any] = t.children.c.match_key,
) -> list[Any]:
    """``stmt WHERE column IN (keys)``: the SQL compiled once per size, run on the driver.

    The rows are the driver's own tuples (a re-sync looks up every key of the list).
    """
    cache_key = (conn.dialect.name, id(stmt), len(keys))
    sql = _SELECTS.get(cache_key)
    if sql is None:
        params: list[sa.BindParameter[Any]] = [
            sa.bindparam(f"k{i}", type_=column.type) for i in range(len(keys))
        ]
        sql = stmt.where(column.in_(params)).compile(dialect=conn.dialect).string
        _SELECTS[cache_key] = sql
    cursor = conn.connection.cursor()
    try:
        if conn.dialect.paramstyle in ("qmark", "numeric", "format"):
            cursor.execute(sql, tuple(keys))
        else:
            cursor.execute(sql, {f"k{i}": k for i, k in enumerate(keys)})
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # 8 KiB pages for a new archive (no effect on an existing one). A re-sync rewrites
    # pages here and there (a changed child's row, its case, index entries): half the
    # bytes of 16 KiB pages. A first sync pays a little for it; it runs once, the
    # re-sync again and again (the trade-off as measured: D-19).
    cur.execute("PRAGMA page_size=8192")
    cur.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL is crash-consistent: a killed process loses nothing committed, a power
    # cut at worst the last batches — never part of one.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA cache_size=-65536")  # 64 MiB: index upkeep of large syncs
    cur.execute("PRAGMA wal_autocheckpoint=4096")  # fewer checkpoint fsyncs in big syncs
    cur.close()
