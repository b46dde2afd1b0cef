"""Prepare (映射与校验): the part of a list row's work that needs no archive.

:class:`Preparer` maps a row, checks it, and — when its key is new — builds
its whole case record; the result is a :class:`Prepared` row that only
needs deciding against the archive and writing. Nothing here loads the
database library: a large sync's worker processes run it
(:mod:`interop.inbound.executor`). :class:`SyncOptions` holds every setting
and tuning knob of a run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, NamedTuple

from interop.core.masking import mask_id
from interop.fhir.canonical import cs
from interop.i18n import N_
from interop.inbound.guard import DEFAULT_LIMIT, DelistLimit
from interop.inbound.mapping import CACHE_LIMIT, CodeLookup, Finding, InboundMapping
from interop.inbound.normalise import Normaliser
from interop.inbound.rows import RowKeys
from interop.inbound.source import RawRow
from interop.store.jsontext import digest, dumpb

#: Rows per transaction (override with $INTEROP_SYNC_BATCH_SIZE).
BATCH_SIZE = 5000
#: Bytes per part of a large CSV list: about 7,000 rows of the default layout.
PART_BYTES = 1 << 20
#: Rows needing work kept per part from classifying (a re-sync's few changes are not read
#: again); a part with more is read again by the workers.
KEEP_ROWS = 1000
_RELATIONSHIP = cs("family-relationship")


#: The run id and status of a preview (``--dry-run``): no run is recorded.
DRY_RUN = "dry-run"

# Why a row is quarantined before it is mapped (no key to match the child, a key twice).
NO_KEY = N_("{columns}: required to match the child, but empty")
SAME_ID = N_("{column}: the same resident ID {id} is also on row {rows}")
SAME_KEY = N_("{column}: the same key is also on row {rows}")
WHOLE_ROW = N_("(row)")


@dataclass(slots=True)
class SyncOptions:
    received: dt.date
    full: bool = False
    agreement_date: dt.date | None = None
    case_prefix: str = "ORG"
    contractor_id: str = "contractor"
    contractor_name: str = "承接机构"
    batch_size: int = 0  # 0: BATCH_SIZE (settings: INTEROP_SYNC_BATCH_SIZE)
    workers: int | None = None  # None: one per core (settings: INTEROP_SYNC_WORKERS)
    parallel_min: int | None = None  # rows from which workers are used (…_PARALLEL_MIN)
    delist_limit: DelistLimit = DEFAULT_LIMIT  # the --full guard (interop.inbound.guard)
    dry_run: bool = False  # decide every row, write nothing (a preview)
    actor: str | None = None  # who runs it (a staff id); None: unattended
    token: str | None = None  # the person's API token ($INTEROP_TOKEN), resolved to ``actor``
    part_bytes: int = PART_BYTES  # bytes of a CSV list per part (a worker's unit of work)
    keep_rows: int = KEEP_ROWS  # rows needing work a part keeps for the writing (else re-read)

    def effective_batch_size(self) -> int:
        return self.batch_size if self.batch_size > 0 else BATCH_SIZE


class Prepared(NamedTuple):
    """A row after :meth:`Preparer.prepare`: what the writer needs, and nothing else.

    A quarantined row has no key and keeps its raw cells (stored, never
    printed); a mapped row carries its canonical entry JSON and, when its key
    is new to the archive, its whole case record JSON — as UTF-8 bytes, which
    cross from a worker process as they are.
    """

    number: int
    values: dict[str, str] | None  # the raw row, when quarantined
    findings: list[Finding]  # why it is quarantined, or warnings
    key: str | None = None
    raw_digest: str = ""
    entry_json: bytes = b""
    entry_digest: str = ""
    resident_id: str | None = None
    risk: str | None = None
    record: bytes | None = None  # the case record's JSON, when the key is new

    @classmethod
    def quarantine(cls, row: RawRow, findings: list[Finding]) -> Prepared:
        return cls(row.number, dict(row.values), findings)


def changed_fields(entry: dict[str, Any], old: dict[str, Any], status: str) -> list[str]:
    """The fields of a list entry that differ from the stored one's, by name; and
    ``status`` when the child is no longer listed (a delisted child named again)."""
    changed = sorted(f for f in entry.keys() | old.keys() if entry.get(f) != old.get(f))
    if status != "listed":
        changed.append("status")
    return changed


def _org_id(prefix: str, name: str) -> str:
    """A stable id for a named school or office."""
    return prefix + hashlib.blake2b(name.encode(), digest_size=5).hexdigest()


class ListParts:
    """The list-owned parts of a case record (child, case, guardian, organisations), and the
    whole record of a newly listed child (LISTED, T-01).

    Built once per row that needs it, so the things a list repeats are
    worked out once per run: each named school and civil-affairs office (its
    id and its organisation entry) and each guardian relationship's code. The
    organisation entries are shared between records: nothing changes them
    after they are built (they are written out, or copied into a merged
    record by :func:`interop.store.records.merge_list_fields`). Bounded, like
    the mapping's converter caches: a list names few schools and offices.
    """

    def __init__(self, mapping: InboundMapping, options: SyncOptions, terms: CodeLookup) -> None:
        self.inclusion_basis = mapping.inclusion_basis
        self.options = options
        self.terms = terms
        self.received = options.received.isoformat()
        self.contractor = {
            "id": options.contractor_id,
            "kind": "contractor",
            "name": options.contractor_name,
        }
        self._orgs: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
        self._relationships: dict[str, str | None] = {}

    def _org(self, prefix: str, kind: str, name: str) -> tuple[str, dict[str, str]]:
        try:
            return self._orgs[(kind, name)]
        except KeyError:
            if len(self._orgs) >= CACHE_LIMIT:
                self._orgs.clear()
            oid = _org_id(prefix, name)
            found = self._orgs[(kind, name)] = (oid, {"id": oid, "kind": kind, "name": name})
            return found

    def _relationship(self, text: str) -> str | None:
        try:
            return self._relationships[text]
        except KeyError:
            if len(self._relationships) >= CACHE_LIMIT:
                self._relationships.clear()
            code = self._relationships[text] = self.terms.code_for_text(_RELATIONSHIP, text)
            return code

    def of(self, entry: dict[str, Any]) -> dict[str, Any]:
        """The list-owned parts of a case record, from a list entry."""
        get = entry.get
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
        categories = get("difficulty_categories")
        if categories:
            child["difficulty_categories"] = categories
        orgs = [self.contractor]
        stage, name = get("school_stage"), get("school")
        if name or stage:
            school: dict[str, Any] = {"enrolled": stage != "not-applicable"}
            if stage:
                school["stage"] = stage
            if name:
                sid, org = self._org("school-", "school", name)
                orgs.append(org)
                school["school"] = sid
            child["school"] = school
        case: dict[str, Any] = {
            "risk_level": entry["risk_level"],
            "designation_date": entry["designation_date"],
        }
        if self.inclusion_basis:
            case["inclusion_basis"] = self.inclusion_basis
        name = get("designating_org")
        if name:
            oid, org = self._org("ca-", "civil-affairs", name)
            orgs.append(org)
            case["designating_org"] = oid
        adults = []
        name = get("guardian_name")
        if name:
            adult: dict[str, Any] = {"id": "guardian-list", "name": name, "roles": ["guardian"]}
            rel = get("guardian_relationship")
            code = self._relationship(rel) if rel else None
            if code:
                adult["relationship"] = code
            phone = get("guardian_phone")
            if phone:
                adult["phone"] = phone
            adults.append(adult)
        return {"child": child, "case": case, "adults": adults, "organisations": orgs}

    def new_record(self, entry: dict[str, Any]) -> bytes:
        """The canonical JSON of the complete case record of a newly listed child (LISTED,
        T-01), its case number "" (the writer fills it in)."""
        parts = self.of(entry)
        case = parts["case"]  # (built here, for this record alone)
        case["case_number"] = ""
        case["state"] = "listed"
        case["list_received_date"] = self.received
        case["contractor"] = self.options.contractor_id
        parts["format_version"] = "1.0"
        return dumpb(parts)


class Preparer:
    """Maps and checks rows of one list (see :meth:`prepare`)."""

    def __init__(self, mapping: InboundMapping, terms: CodeLookup, options: SyncOptions) -> None:
        self.mapping = mapping
        self.terms = terms
        self.options = options
        #: Row → the other rows with its key (found by classifying).
        self.duplicates: dict[int, list[int]] = {}
        self.parts = ListParts(mapping, options, terms)
        self.normalise = Normaliser(mapping)
        self.keys = RowKeys(mapping)

    def prepare(self, row: RawRow, *, fresh: bool) -> Prepared:
        """The part of a row's work that needs no archive: mapped, or why it is quarantined.

        Pure (no report, no database), so worker processes can run it; ``fresh``:
        whether the archive lacks the row's key (then its whole case record is built).
        """
        m = self.mapping
        if row.problem is not None:
            code, msg = row.problem[0], row.problem[1]
            where = row.problem[2] if len(row.problem) > 2 else WHOLE_ROW
            return Prepared.quarantine(row, [Finding(where, code, msg)])
        values, notes = self.normalise(row.values)
        if notes and any(f.severity == "error" for f in notes):
            return Prepared.quarantine(row, [f for f in notes if f.severity == "error"])
        key, rid = self.keys.key(values)
        if key is None:
            cols = "/".join(m.fields[k].column for k in m.key)
            msg = NO_KEY.format(columns=cols)
            return Prepared.quarantine(row, [Finding(cols, "missing-field", msg)])
        others = self.duplicates.get(row.number)
        if others:
            col = m.fields[m.key[0]].column
            where = ", ".join(str(n) for n in others[:10])
            msg = (
                SAME_ID.format(column=col, id=mask_id(rid), rows=where)
                if rid
                else SAME_KEY.format(column=col, rows=where)
            )
            return Prepared.quarantine(row, [Finding(col, "duplicate", msg)])
        entry, findings = m.map_row(values, self.terms, self.options.received)
        if entry is None:
            return Prepared.quarantine(row, findings)
        if notes:
            findings = notes + findings
        entry_json = dumpb(entry)
        return Prepared(
            row.number,
            None,
            findings,
            key,
            self.keys.digest(row.values),
            entry_json,
            digest(entry_json),
            entry.get("resident_id"),
            entry.get("risk_level"),
            self.parts.new_record(entry) if fresh else None,
        )
