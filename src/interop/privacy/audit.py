"""The disclosure audit log (审计, requirements §4.8): append-only and hash-chained.

Each row holds one FHIR R4 AuditEvent and the hash of the row before it::

    hash(n) = sha256( hash(n-1) ‖ canonical JSON of row n without its hash )

``seq`` runs 1, 2, 3 … without gaps, and the one-row ``audit_head`` table holds
the last seq and hash. :func:`verify` walks the chain and reports the first
broken link: a row edited (its hash no longer matches), deleted (a gap, or the
head points past the end) or reordered (a row's ``prev_hash`` is not its
predecessor's hash). Appends lock the head row, so concurrent writers on
PostgreSQL queue instead of forking the chain.

AuditEvents name people by staff id and resources by their (per-partner)
ids only; reason texts and payloads are never copied into the log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from interop.store import audit_log

if TYPE_CHECKING:
    from interop.store.connect import Connection

__all__ = ["GENESIS", "AuditRow", "Break", "append", "rows", "verify"]

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditRow:
    seq: int
    recorded: str
    case_number: str | None
    action: str
    disclosure_id: str | None
    purpose: str | None
    partner: str | None
    actor: str | None
    event: dict[str, Any]
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "recorded": self.recorded,
            "case": self.case_number,
            "action": self.action,
            "disclosure": self.disclosure_id,
            "purpose": self.purpose,
            "partner": self.partner,
            "actor": self.actor,
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True)
class Break:
    """The first broken link of the chain."""

    seq: int
    problem: str


def _row_hash(prev: str, fields: dict[str, Any]) -> str:
    body = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(prev.encode() + body).hexdigest()


def _hashed_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": row["seq"],
        "recorded": row["recorded"],
        "case_number": row["case_number"],
        "action": row["action"],
        "disclosure_id": row["disclosure_id"],
        "purpose": row["purpose"],
        "partner": row["partner"],
        "actor": row["actor"],
        "event": row["event"],
    }


def append(
    conn: Connection,
    *,
    recorded: str,
    action: str,
    event: dict[str, Any],
    case_number: str | None = None,
    disclosure_id: str | None = None,
    purpose: str | None = None,
    partner: str | None = None,
    actor: str | None = None,
) -> int:
    """Append one AuditEvent inside the caller's transaction; returns its seq."""
    last, prev = audit_log.lock_head(conn, GENESIS)
    seq = last + 1
    row = {
        "seq": seq,
        "recorded": recorded,
        "case_number": case_number,
        "action": action,
        "disclosure_id": disclosure_id,
        "purpose": purpose,
        "partner": partner,
        "actor": actor,
        "event": orjson.dumps(event, option=orjson.OPT_SORT_KEYS).decode(),
    }
    digest = _row_hash(prev, _hashed_fields(row))
    audit_log.add(conn, row, prev_hash=prev, hash_=digest)
    return seq


def rows(
    conn: Connection,
    *,
    case_number: str | None = None,
    action: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[AuditRow]:
    """Audit rows in chain order, optionally for one case, one action or a time span."""
    out = []
    found = audit_log.select(conn, case_number=case_number, action=action, since=since, until=until)
    for r in found:
        out.append(
            AuditRow(
                seq=r["seq"],
                recorded=r["recorded"],
                case_number=r["case_number"],
                action=r["action"],
                disclosure_id=r["disclosure_id"],
                purpose=r["purpose"],
                partner=r["partner"],
                actor=r["actor"],
                event=orjson.loads(r["event"]),
                prev_hash=r["prev_hash"],
                hash=r["hash"],
            )
        )
    return out


def _moment(stamp: Any) -> dt.datetime | None:
    """An ISO 8601 stamp as an aware date-time (naive: UTC), None when unreadable."""
    try:
        moment = dt.datetime.fromisoformat(str(stamp))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def verify(conn: Connection) -> tuple[int, Break | None]:
    """Walk the whole chain: (rows checked, first break or None)."""
    prev = GENESIS
    expected = 1
    count = 0
    last_stamp: dt.datetime | None = None
    for r in audit_log.select(conn):
        count += 1
        if r["seq"] != expected:
            return count, Break(expected, f"row {expected} is missing (next row is {r['seq']})")
        if r["prev_hash"] != prev:
            return count, Break(
                r["seq"], "does not follow the row before it (rows deleted or reordered)"
            )
        if _row_hash(prev, _hashed_fields(r)) != r["hash"]:
            return count, Break(r["seq"], "its content does not match its hash (row edited)")
        # rows are appended in time order: a stamp before the previous one means a clock
        # set back or a time given by hand, which the hash chain alone cannot show
        stamp = _moment(r["recorded"])
        if stamp is None:
            return count, Break(r["seq"], "its time stamp is not a date-time")
        if last_stamp is not None and stamp < last_stamp:
            return count, Break(r["seq"], "is stamped earlier than the row before it")
        last_stamp = stamp
        prev = r["hash"]
        expected += 1
    head = audit_log.head(conn)
    last = expected - 1
    if head is not None and (int(head[0]) != last or str(head[1]) != prev):
        if int(head[0]) > last:
            return count, Break(last + 1, f"rows {last + 1}–{head[0]} are missing at the end")
        return count, Break(last, "the chain head does not match the last row")
    if head is None and last:
        return count, Break(last, "the chain head is missing")
    return count, None
