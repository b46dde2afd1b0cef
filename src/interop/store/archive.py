"""The archive: SQLite file by default, PostgreSQL by URL (SQLAlchemy Core).

The sync engine (:mod:`interop.inbound.sync`) hands over one batch at a
time; each batch is one transaction, so a run killed midway leaves every
committed batch whole and nothing of the batch in flight.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import sys
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from interop._errors import InteropError
from interop.store import schema as t

log = logging.getLogger(__name__)

ENV_DB = "INTEROP_DB"


class StoreError(InteropError):
    """The archive cannot be opened or written (exit 1: the run could not complete)."""

    code = "E500"
    exit_code = 1


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def dumps(obj: Any) -> str:
    """Canonical JSON text (sorted keys) — equal data gives equal text and digest."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode()


def digest(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def default_data_dir() -> Path:
    """A per-user data folder: ``$XDG_DATA_HOME/interop`` or the platform's equivalent."""
    if sys.platform == "win32":  # pragma: no cover
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":  # pragma: no cover
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "interop"


def resolve_url(url: str | None = None) -> str:
    """``--db``, else ``$INTEROP_DB``, else the SQLite file in the user data folder.

    ``postgresql://`` is driven by psycopg 3; a bare path means a SQLite file.
    """
    url = url or os.environ.get(ENV_DB) or ""
    if not url:
        folder = default_data_dir()
        return f"sqlite:///{folder / 'archive.sqlite3'}"
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


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
class NewChild:
    match_key: str
    resident_id: str | None
    entry: dict[str, Any]
    raw_digest: str
    guardians: list[dict[str, Any]]
    risk_level: str | None
    received: str
    deadline: tuple[str, str, str, bool] | None  # rule, start, due, provisional
    record: dict[str, Any]  # case record; ``case.case_number`` is filled in here


@dataclass(slots=True)
class ChangedChild:
    known: Known
    entry: dict[str, Any]
    raw_digest: str
    changed: list[str]
    guardians: list[dict[str, Any]]
    risk_level: str | None
    deadline: tuple[str, str, str, bool] | None
    merge: dict[str, Any]  # list-owned parts of the case record (see merge_list_fields)


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
    seen: list[int] = field(default_factory=list)
    quarantined: list[QuarantinedRow] = field(default_factory=list)
    rows: int = 0
    unchanged: int = 0
    cursor: tuple[str, str] | None = None  # (partner, cursor) advanced with this batch


def merge_list_fields(body: dict[str, Any], merge: dict[str, Any]) -> dict[str, Any]:
    """The case record with the list-owned parts replaced (the rest is kept as is)."""
    out: dict[str, Any] = orjson.loads(orjson.dumps(body))
    out["child"] = {**out.get("child", {}), **merge["child"]}
    for k, v in merge["case"].items():
        out["case"][k] = v
    adults = [a for a in out.get("adults", []) if a.get("id") != "guardian-list"]
    out["adults"] = adults + merge["adults"]
    orgs = {o["id"]: o for o in out.get("organisations", [])}
    for o in merge["organisations"]:
        orgs[o["id"]] = o
    out["organisations"] = list(orgs.values())
    return out


class Archive:
    """The embedded archive. Open with :meth:`open`; close with :meth:`close`."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    # -- opening ------------------------------------------------------------

    @classmethod
    def open(cls, url: str | None = None, *, create: bool = True) -> Archive:
        full = resolve_url(url)
        try:
            parsed = make_url(full)
        except Exception:
            raise StoreError("the database URL cannot be parsed", code="E501") from None
        kwargs: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite":
            db = parsed.database
            if db and db != ":memory:":
                Path(db).parent.mkdir(parents=True, exist_ok=True)
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
                    raise StoreError("the archive does not exist yet", code="E504")
                t.metadata.create_all(conn)
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
        run_id = uuid.uuid4().hex
        with self.transaction() as conn:
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
                        "started_at": now_iso(),
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
        self, run_id: str, *, status: str, full: bool, message: str | None = None
    ) -> int:
        """Close a run; with ``full``, mark listed children not seen in it delisted."""
        delisted = 0
        with self.transaction() as conn:
            if full and status == "completed":
                ids = (
                    conn.execute(
                        sa.select(t.children.c.id, t.children.c.version, t.children.c.entry).where(
                            t.children.c.status == "listed", t.children.c.seen_run != run_id
                        )
                    )
                ).all()
                stamp = now_iso()
                for child_id, version, entry in ids:
                    conn.execute(
                        t.children.update()
                        .where(t.children.c.id == child_id)
                        .values(status="delisted", version=version + 1, changed_run=run_id)
                    )
                    conn.execute(
                        t.child_versions.insert(),
                        [
                            {
                                "child_id": child_id,
                                "version": version + 1,
                                "run_id": run_id,
                                "status": "delisted",
                                "entry": entry,
                                "changed": '["status"]',
                                "created_at": stamp,
                            }
                        ],
                    )
                delisted = len(ids)
            conn.execute(
                t.sync_runs.update()
                .where(t.sync_runs.c.run_id == run_id)
                .values(
                    status=status,
                    finished_at=now_iso(),
                    delisted=delisted,
                    message=message,
                )
            )
        return delisted

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

    def lookup(self, keys: Sequence[str]) -> dict[str, Known]:
        """Known children by match key (one query per 500 keys)."""
        out: dict[str, Known] = {}
        c = t.children.c
        with self.engine.connect() as conn:
            for i in range(0, len(keys), 500):
                chunk = list(keys[i : i + 500])
                for row in conn.execute(
                    sa.select(
                        c.match_key,
                        c.id,
                        c.case_number,
                        c.status,
                        c.version,
                        c.raw_digest,
                        c.entry_digest,
                    ).where(c.match_key.in_(chunk))
                ):
                    out[row[0]] = Known(row[1], row[2], row[3], row[4], row[5], row[6])
        return out

    def entries(self, child_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        ids = list(child_ids)
        out: dict[int, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                for cid, entry in conn.execute(
                    sa.select(t.children.c.id, t.children.c.entry).where(
                        t.children.c.id.in_(ids[i : i + 500])
                    )
                ):
                    out[cid] = orjson.loads(entry)
        return out

    def apply_batch(self, run_id: str, batch: Batch, *, case_prefix: str) -> None:
        """Write one batch in one transaction, with the run's counters (and cursor)."""
        stamp = now_iso()
        with self.transaction() as conn:
            if batch.new:
                self._insert_new(conn, run_id, batch.new, case_prefix, stamp)
            for ch in batch.changed:
                self._apply_change(conn, run_id, ch, stamp)
            c = t.children.c
            if batch.retouched:
                conn.execute(
                    t.children.update()
                    .where(c.id == sa.bindparam("cid"))
                    .values(raw_digest=sa.bindparam("rd"), seen_run=run_id),
                    [{"cid": cid, "rd": rd} for cid, rd in batch.retouched],
                )
            seen = batch.seen
            for i in range(0, len(seen), 500):
                conn.execute(
                    t.children.update().where(c.id.in_(seen[i : i + 500])).values(seen_run=run_id)
                )
            if batch.quarantined:
                conn.execute(
                    t.quarantine.insert(),
                    [
                        {
                            "run_id": run_id,
                            "row": q.row,
                            "field": q.field,
                            "code": q.code,
                            "message": q.message,
                            "raw": dumps(q.raw),
                        }
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
        by_year: dict[str, list[NewChild]] = {}
        for n in new:
            by_year.setdefault(n.received[:4], []).append(n)
        numbered: list[tuple[str, NewChild]] = []
        for year, items in by_year.items():
            first = self._next_numbers(conn, f"case:{prefix}:{year}", len(items))
            numbered += [(f"{prefix}-{year}-{first + i:05d}", n) for i, n in enumerate(items)]
        child_rows = []
        for number, n in numbered:
            entry_text = dumps(n.entry)
            child_rows.append(
                {
                    "match_key": n.match_key,
                    "resident_id": n.resident_id,
                    "case_number": number,
                    "status": "listed",
                    "version": 1,
                    "raw_digest": n.raw_digest,
                    "entry_digest": digest(entry_text),
                    "entry": entry_text,
                    "first_run": run_id,
                    "changed_run": run_id,
                    "seen_run": run_id,
                }
            )
        _bulk_insert(conn, t.children, child_rows)
        c = t.children.c
        ids: dict[str, int] = {}
        keys = [n.match_key for n in new]
        for i in range(0, len(keys), 500):
            for key, cid in conn.execute(
                sa.select(c.match_key, c.id).where(c.match_key.in_(keys[i : i + 500]))
            ):
                ids[key] = cid
        versions, guards, case_rows, records = [], [], [], []
        for (number, n), crow in zip(numbered, child_rows, strict=True):
            cid = ids[n.match_key]
            versions.append(
                {
                    "child_id": cid,
                    "version": 1,
                    "run_id": run_id,
                    "status": "listed",
                    "entry": crow["entry"],
                    "changed": "[]",
                    "created_at": stamp,
                }
            )
            guards += [{"child_id": cid, "position": i, **g} for i, g in enumerate(n.guardians)]
            rule, start, due, prov = n.deadline or (None, None, None, False)
            case_rows.append(
                {
                    "case_number": number,
                    "child_id": cid,
                    "state": "listed",
                    "risk_level": n.risk_level,
                    "received": n.received,
                    "deadline_rule": rule,
                    "deadline_start": start,
                    "deadline_due": due,
                    "provisional": prov,
                    "version": 1,
                    "updated_at": stamp,
                }
            )
            n.record["case"]["case_number"] = number
            body = dumps(n.record)
            records.append(
                {
                    "case_number": number,
                    "version": 1,
                    "digest": digest(body),
                    "body": body,
                    "source": "sync",
                    "run_id": run_id,
                    "created_at": stamp,
                }
            )
        _bulk_insert(conn, t.child_versions, versions)
        _bulk_insert(conn, t.guardians, guards)
        _bulk_insert(conn, t.cases, case_rows)
        _bulk_insert(conn, t.case_records, records)

    def _apply_change(self, conn: sa.Connection, run_id: str, ch: ChangedChild, stamp: str) -> None:
        k = ch.known
        entry_text = dumps(ch.entry)
        version = k.version + 1
        conn.execute(
            t.children.update()
            .where(t.children.c.id == k.child_id)
            .values(
                status="listed",
                version=version,
                raw_digest=ch.raw_digest,
                entry_digest=digest(entry_text),
                entry=entry_text,
                changed_run=run_id,
                seen_run=run_id,
            )
        )
        conn.execute(
            t.child_versions.insert(),
            [
                {
                    "child_id": k.child_id,
                    "version": version,
                    "run_id": run_id,
                    "status": "listed",
                    "entry": entry_text,
                    "changed": dumps(ch.changed),
                    "created_at": stamp,
                }
            ],
        )
        conn.execute(t.guardians.delete().where(t.guardians.c.child_id == k.child_id))
        if ch.guardians:
            conn.execute(
                t.guardians.insert(),
                [{"child_id": k.child_id, "position": i, **g} for i, g in enumerate(ch.guardians)],
            )
        cr = t.case_records.c
        latest = conn.execute(
            sa.select(cr.version, cr.body)
            .where(cr.case_number == k.case_number)
            .order_by(cr.version.desc())
            .limit(1)
        ).first()
        if latest is not None:
            body = dumps(merge_list_fields(orjson.loads(latest[1]), ch.merge))
            new_digest = digest(body)
            if (
                new_digest
                != conn.execute(
                    sa.select(cr.digest).where(
                        cr.case_number == k.case_number, cr.version == latest[0]
                    )
                ).scalar_one()
            ):
                conn.execute(
                    t.case_records.insert(),
                    [
                        {
                            "case_number": k.case_number,
                            "version": latest[0] + 1,
                            "digest": new_digest,
                            "body": body,
                            "source": "sync",
                            "run_id": run_id,
                            "created_at": stamp,
                        }
                    ],
                )
        values: dict[str, Any] = {"risk_level": ch.risk_level, "updated_at": stamp}
        if ch.deadline is not None:
            rule, start, due, prov = ch.deadline
            values.update(
                deadline_rule=rule, deadline_start=start, deadline_due=due, provisional=prov
            )
        conn.execute(
            t.cases.update()
            .where(t.cases.c.case_number == k.case_number, t.cases.c.state == "listed")
            .values(**values)
        )

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
            child_id = None
            if resident_id:
                child_id = conn.execute(
                    sa.select(t.children.c.id).where(t.children.c.resident_id == resident_id)
                ).scalar_one_or_none()
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
            g = t.guardians.c
            out["guardians"] = [
                tuple(r)
                for r in conn.execute(
                    sa.select(ch.match_key, g.position, g.name, g.relationship, g.phone)
                    .join(t.children, ch.id == g.child_id)
                    .order_by(ch.match_key, g.position)
                )
            ]
        return out


def _bulk_insert(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """executemany straight on the driver: the hot path of a sync writes ~5 rows per child.

    The statement is compiled once per dialect and table; the values are plain
    str/int/bool/None, which every supported driver takes as they are.
    """
    if not rows:
        return
    key = (conn.dialect.name, table.name, tuple(rows[0]))
    compiled = _INSERTS.get(key)
    if compiled is None:
        stmt = table.insert().values({c: sa.bindparam(c) for c in rows[0]})
        c = stmt.compile(dialect=conn.dialect)
        order = tuple(c.positiontup or ()) if c.positional else ()
        compiled = (c.string, order)
        _INSERTS[key] = compiled
    sql, order = compiled
    params: list[Any] = [tuple(r[k] for k in order) for r in rows] if order else rows
    conn.exec_driver_sql(sql, params)


_INSERTS: dict[tuple[str, str, tuple[str, ...]], tuple[str, tuple[str, ...]]] = {}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA cache_size=-65536")  # 64 MiB: index upkeep of large syncs
    cur.execute("PRAGMA wal_autocheckpoint=16384")  # fewer checkpoint fsyncs in big syncs
    cur.close()
