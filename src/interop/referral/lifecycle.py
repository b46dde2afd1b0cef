"""Referral (转介) as a closed loop with a hospital over FHIR REST (6.2.1, 7.1.2, 7.4.1, 7.6.1).

::

    create ──purpose engine──▶ pending (supervisor review, 9.3, G-16) ──approve──┐
      │  (hosp-referral policy + consent; crisis: break-glass, at once)          │
      └────────────────────── approved ◀─────────────────────────────────────────┘
                                  │ transaction Bundle from the FILTERED Bundle
                                  ▼
                        outbox (durable) ──▶ hospital: Patient, ServiceRequest, Task
                                                         │ the hospital moves the Task
    poll (Task?_id=… or Task?requester=…&_lastUpdated=gt…) ◀┘
      │ state machine (states.py); an illegal move is an anomaly, not applied
      ├─ completed: fetch Task.output, store in the child's file, schedule follow-up (DL-17)
      └─ our side may cancel (PATCH Task: status cancelled) while the Task is open

Nothing here logs a name, an ID number or the reason text: only referral
ids, case numbers, partner names and statuses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson
import sqlalchemy as sa

from interop._errors import InputError, InteropError
from interop._errors import ReferralError as ReferralError
from interop._errors import ReferralNotFound as ReferralNotFound
from interop.core.workdays import CHINA_TZ, WorkCalendar, end_of_day
from interop.exchange.outbox import Outbox, OutboxItem, crash_point
from interop.referral import states
from interop.referral.bundle import (
    TRIGGER_SYSTEM,
    ReferralSpec,
    build_transaction,
    locations,
)
from interop.store import schema as tables
from interop.store.archive import Archive, now_iso

if TYPE_CHECKING:
    from interop.config import Config
    from interop.engine import Engine
    from interop.exchange.plugins import Plugins
    from interop.plugins.hospital_fhir import HospitalFhir
    from interop.privacy.disclosure import Discloser, Disclosure

log = logging.getLogger(__name__)

TRIGGERS = tuple(f"RT-{i:02d}" for i in range(1, 11))
MODES = ("transfer", "concurrent")
#: Outcome resource types we take in from a hospital (inbound minimisation, §4.6).
ACCEPTED_OUTCOMES = frozenset({"DocumentReference", "Encounter", "CarePlan", "Composition"})
#: DL-17: first follow-up within 5 working days of the discharge notice, then monthly × 3.
FOLLOW_UP_FIRST_WD = 5
FOLLOW_UP_MONTHLY = 3


@dataclass(frozen=True, slots=True)
class Referral:
    """One referral as stored (``reason`` is never printed by the CLI without --json)."""

    id: str
    case_number: str
    partner: str
    trigger: str
    mode: str
    reason: str
    requester: str
    break_glass: bool
    state: str
    task_status: str | None
    business_status: str | None
    status_reason: str | None
    disclosure_id: str | None
    outbox_id: str | None
    remote_task: str | None
    remote_service_request: str | None
    remote_patient: str | None
    remote_version: str | None
    remote_updated: str | None
    created_at: str
    sent_at: str | None
    accept_due: str | None
    accept_due_provisional: bool
    accepted_at: str | None
    finished_at: str | None
    follow_up: list[dict[str, Any]]
    updated_at: str

    @classmethod
    def from_row(cls, row: Any) -> Referral:
        data = dict(row._mapping)
        data["follow_up"] = orjson.loads(data["follow_up"]) if data["follow_up"] else []
        data["break_glass"] = bool(data["break_glass"])
        data["accept_due_provisional"] = bool(data["accept_due_provisional"])
        return cls(**data)

    def summary(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__slots__}
        out.pop("reason")
        return out


def _fhir_time(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


class Referrals:
    """Referrals of one archive, with the partners configuration and the purpose engine."""

    def __init__(
        self,
        archive: Archive,
        config: Config,
        *,
        engine: Engine | None = None,
        discloser: Discloser | None = None,
        plugins: Plugins | None = None,
        calendar: WorkCalendar | None = None,
        outbox: Outbox | None = None,
    ) -> None:
        self.archive = archive
        self.config = config
        self._engine = engine
        self._discloser = discloser
        self._plugins = plugins
        self._calendar = calendar
        self.outbox = outbox or Outbox(archive)
        self._partners: dict[str, HospitalFhir] = {}

    # -- collaborators (built when first needed) ------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from interop.engine import Engine

            self._engine = Engine()
        return self._engine

    @property
    def plugins(self) -> Plugins:
        if self._plugins is None:
            from interop.exchange.plugins import Plugins

            self._plugins = Plugins()
        return self._plugins

    @property
    def discloser(self) -> Discloser:
        if self._discloser is None:
            from interop.privacy.disclosure import Discloser

            self._discloser = Discloser(self.archive, self.engine, self.config, self.plugins)
        return self._discloser

    @property
    def calendar(self) -> WorkCalendar:
        if self._calendar is None:
            self._calendar = WorkCalendar.load()
        return self._calendar

    def partner(self, name: str) -> HospitalFhir:
        """The configured hospital ``name`` (ConfigError / ReferralError when unusable)."""
        found = self._partners.get(name)
        if found is not None:
            return found
        from interop.plugins.hospital_fhir import KIND

        partner = self.config.partner(name)
        if partner.kind != KIND:
            raise ReferralError(
                f"partner {name} is of kind '{partner.kind}'; referrals go to kind '{KIND}'",
                code="E702",
            )
        factory = self.plugins.partner_kinds().get(KIND)
        if factory is None:
            raise ReferralError(f"no plugin handles partner kind '{KIND}'", code="E702")
        made: HospitalFhir = factory(name, dict(partner.settings))
        self._partners[name] = made
        return made

    def close(self) -> None:
        for p in self._partners.values():
            p.close()
        self._partners.clear()

    def __enter__(self) -> Referrals:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ----------------------------------------------------------------

    def get(self, referral_id: str) -> Referral:
        with self.archive.engine.connect() as conn:
            row = conn.execute(
                sa.select(tables.referrals).where(tables.referrals.c.id == referral_id)
            ).first()
        if row is None:
            raise ReferralNotFound(f"no referral {referral_id}")
        return Referral.from_row(row)

    def find(
        self,
        *,
        case_number: str | None = None,
        partner: str | None = None,
        state: str | None = None,
    ) -> list[Referral]:
        r = tables.referrals.c
        q = sa.select(tables.referrals).order_by(r.created_at, r.id)
        if case_number:
            q = q.where(r.case_number == case_number)
        if partner:
            q = q.where(r.partner == partner)
        if state:
            q = q.where(r.state == state)
        with self.archive.engine.connect() as conn:
            return [Referral.from_row(row) for row in conn.execute(q)]

    def events(self, referral_id: str) -> list[dict[str, Any]]:
        e = tables.referral_events.c
        with self.archive.engine.connect() as conn:
            rows = conn.execute(
                sa.select(e.at, e.kind, e.from_status, e.to_status, e.remote_version, e.detail)
                .where(e.referral_id == referral_id)
                .order_by(e.id)
            ).mappings()
            return [dict(x) for x in rows]

    def outcomes(self, referral_id: str) -> list[dict[str, Any]]:
        o = tables.referral_outcomes.c
        with self.archive.engine.connect() as conn:
            rows = conn.execute(
                sa.select(o.reference, o.resource_type, o.version, o.sha256, o.fetched_at, o.body)
                .where(o.referral_id == referral_id)
                .order_by(o.id)
            ).mappings()
            return [{**dict(x), "body": orjson.loads(x["body"])} for x in rows]

    def show(self, referral_id: str) -> dict[str, Any]:
        ref = self.get(referral_id)
        return {
            **ref.summary(),
            "events": self.events(referral_id),
            "outcomes": self.outcomes(referral_id),
            "deliveries": [i.summary() for i in self.outbox.items(ref=referral_id)],
        }

    # -- writing helpers --------------------------------------------------------

    def _event(
        self,
        conn: sa.Connection,
        referral_id: str,
        kind: str,
        *,
        from_status: str | None = None,
        to_status: str | None = None,
        version: str | None = None,
        detail: str | None = None,
    ) -> None:
        conn.execute(
            tables.referral_events.insert(),
            [
                {
                    "referral_id": referral_id,
                    "at": now_iso(),
                    "kind": kind,
                    "from_status": from_status,
                    "to_status": to_status,
                    "remote_version": version,
                    "detail": detail,
                }
            ],
        )

    def _update(self, conn: sa.Connection, referral_id: str, **values: Any) -> None:
        values["updated_at"] = now_iso()
        conn.execute(
            tables.referrals.update().where(tables.referrals.c.id == referral_id).values(**values)
        )

    # -- create -----------------------------------------------------------------

    def crisis_active(self, case_number: str) -> str | None:
        """The type of an active crisis of the case (7.6.1), or None."""
        versions = self.archive.case_versions(case_number)
        if not versions:
            raise InputError(f"no case {case_number} in the archive", code="E703")
        for crisis in versions[-1]["body"].get("crises") or []:
            if crisis.get("status") == "active":
                return str(crisis.get("type") or "other-severe")
        return None

    def create(
        self,
        case_number: str,
        *,
        partner: str,
        trigger: str,
        reason: str,
        requester: str,
        mode: str = "concurrent",
        crisis_type: str | None = None,
    ) -> Referral:
        """Request the disclosure and record the referral; queue it when approved.

        A crisis referral (RT-01, or an active crisis on the case) goes out under
        break-glass at once (4.3, 7.6.1) and is reviewed afterwards; any other
        needs the guardian's hospital-referral consent and, as the policy says,
        a supervisor's review (6.2.1, G-16).
        """
        if trigger not in TRIGGERS:
            raise InputError(
                f"--trigger must be one of RT-01 … RT-10 (requirements §1.9.7), not {trigger!r}",
                code="E704",
            )
        if mode not in MODES:
            raise InputError("--mode must be transfer or concurrent (G-13)", code="E704")
        if not reason.strip():
            raise InputError("--reason must say why the child is referred", code="E704")
        self.partner(partner)  # a misconfigured hospital fails before anything is recorded
        active = self.crisis_active(case_number)
        crisis = trigger == "RT-01" or active is not None
        purpose = "crisis" if crisis else "hosp-referral"
        disc = self.discloser.request(
            case_number,
            purpose=purpose,
            partner=partner,
            requester=requester,
            reason_code=(crisis_type or active or "life-self") if crisis else None,
            reason_text=reason if crisis else None,
        )
        if disc.status in ("refused", "rejected"):
            why = "; ".join(disc.reasons) or disc.status
            raise ReferralError(
                f"the referral of case {case_number} to {partner} was {disc.status} by the "
                f"purpose engine ({purpose}): {why}",
                code="E705",
            )
        referral_id = "REF-" + uuid.uuid4().hex[:12].upper()
        stamp = now_iso()
        row = {
            "id": referral_id,
            "case_number": case_number,
            "partner": partner,
            "trigger": trigger,
            "mode": mode,
            "reason": reason,
            "requester": requester,
            "break_glass": crisis,
            "state": "under-review",
            "disclosure_id": disc.id,
            "created_at": stamp,
            "updated_at": stamp,
            "accept_due_provisional": False,
        }
        with self.archive.transaction() as conn:
            conn.execute(tables.referrals.insert(), [row])
            self._event(
                conn,
                referral_id,
                "created",
                to_status="under-review",
                detail=f"{trigger} {mode} to {partner} by {requester}; purpose {purpose}"
                + (" (break-glass)" if crisis else ""),
            )
            if disc.status == "pending":
                self._event(
                    conn,
                    referral_id,
                    "under-review",
                    detail=f"disclosure {disc.id} waits for supervisor review (9.3, G-16)",
                )
        log.info("referral %s of case %s to %s: disclosure %s", referral_id, case_number,
                 partner, disc.status)  # fmt: skip
        if disc.status == "approved":
            self._queue(referral_id, disc)
        return self.get(referral_id)

    def _queue(self, referral_id: str, disc: Disclosure) -> OutboxItem | None:
        """Build the transaction from the disclosure's filtered Bundle and queue it."""
        ref = self.get(referral_id)
        if ref.state != "under-review":
            return None
        if disc.status != "approved" or disc.bundle is None:
            raise ReferralError(
                f"disclosure {disc.id} is {disc.status}: nothing may leave", code="E706"
            )
        hosp = self.partner(ref.partner)
        terms = self.engine.terminology
        spec = ReferralSpec(
            referral_id=ref.id,
            trigger=ref.trigger,
            trigger_display=terms.display(TRIGGER_SYSTEM, ref.trigger),
            mode=ref.mode,
            reason=ref.reason,
            owner=hosp.owner,
            authored_on=_fhir_time(dt.datetime.now(CHINA_TZ)),
        )
        payload, keys = build_transaction(disc.bundle, spec)
        with self.archive.transaction() as conn:
            item = self.outbox.enqueue(
                partner=ref.partner,
                kind="referral",
                payload=payload,
                idempotency_key=f"referral:{ref.id}:create",
                ref=ref.id,
                max_attempts=hosp.retry.max_attempts,
                conn=conn,
            )
            self._update(conn, ref.id, state="info-prepared", outbox_id=item.id)
            self._event(conn, ref.id, "approved", from_status="under-review",
                        to_status="approved", detail=f"disclosure {disc.id} approved")  # fmt: skip
            self._event(
                conn,
                ref.id,
                "queued",
                from_status="approved",
                to_status="info-prepared",
                detail=f"transaction Bundle ({len(payload)} bytes, keys {sorted(keys)}) "
                f"queued as delivery {item.id}",
            )
        crash_point("after-enqueue")
        return item

    def on_approved(self, disc: Disclosure) -> Referral | None:
        """A pending disclosure was approved: queue the referral waiting on it."""
        r = tables.referrals.c
        with self.archive.engine.connect() as conn:
            found = conn.execute(
                sa.select(r.id).where(r.disclosure_id == disc.id, r.state == "under-review")
            ).scalar_one_or_none()
        if found is None:
            return None
        self._queue(found, disc)
        return self.get(found)

    def sweep_reviews(self) -> int:
        """Queue or close referrals whose disclosure was decided meanwhile (hook backstop)."""
        done = 0
        for ref in self.find(state="under-review"):
            if not ref.disclosure_id:
                continue
            disc = self.discloser.get(ref.disclosure_id)
            if disc.status == "approved":
                self._queue(ref.id, disc)
                done += 1
            elif disc.status in ("rejected", "refused"):
                with self.archive.transaction() as conn:
                    self._update(conn, ref.id, state=disc.status)
                    self._event(conn, ref.id, disc.status, from_status="under-review",
                                to_status=disc.status,
                                detail=f"disclosure {disc.id} {disc.status}")  # fmt: skip
                done += 1
        return done

    # -- delivery ---------------------------------------------------------------

    def deliver(self, referral_id: str | None = None, *, wait: float = 0.0) -> None:
        """Deliver due referral deliveries now (all, or those of one referral)."""
        ids = None
        if referral_id is not None:
            ids = [i.id for i in self.outbox.items(ref=referral_id)]
            if not ids:
                return
        self.outbox.run(self.partner, ids=ids, wait=wait)
        self.absorb_deliveries()

    def absorb_deliveries(self) -> int:
        """Take the hospital's answers to delivered referrals into the referral records."""
        changed = 0
        for ref in self.find(state="info-prepared") + self.find(state="cancel-requested"):
            for item in self.outbox.items(ref=ref.id):
                if ref.state == "info-prepared" and item.kind == "referral":
                    changed += self._absorb_create(ref, item)
                elif ref.state == "cancel-requested" and item.kind == "referral-cancel":
                    changed += self._absorb_cancel(ref, item)
        return changed

    def _absorb_create(self, ref: Referral, item: OutboxItem) -> int:
        if item.status == "dead":
            if any(e["kind"] == "delivery-dead" for e in self.events(ref.id)):
                return 0
            with self.archive.transaction() as conn:
                self._event(conn, ref.id, "delivery-dead", detail=item.last_error)
            return 1
        if item.status != "delivered":
            return 0
        receipt = item.receipt_json() or {}
        found = locations(receipt.get("body"), item.payload)
        keys = self._keys(item.payload)
        task = found.get(keys.get("task", ""))
        sent = dt.datetime.fromtimestamp(item.delivered_at or item.created_at, CHINA_TZ)
        hosp = self.partner(ref.partner)
        due, provisional = self.calendar.add_workdays(sent.date(), hosp.accept_within_days)
        task_body = _entry_resource(receipt.get("body"), item.payload, keys.get("task"))
        with self.archive.transaction() as conn:
            self._update(
                conn,
                ref.id,
                state="handed-over",
                task_status="requested",
                remote_task=task,
                remote_service_request=found.get(keys.get("service_request", "")),
                remote_patient=found.get(keys.get("patient", "")),
                remote_version=((task_body or {}).get("meta") or {}).get("versionId"),
                remote_updated=((task_body or {}).get("meta") or {}).get("lastUpdated"),
                sent_at=sent.isoformat(timespec="seconds"),
                accept_due=due.isoformat(),
                accept_due_provisional=provisional,
            )
            self._event(conn, ref.id, "delivered", from_status="info-prepared",
                        to_status="handed-over",
                        detail=f"{task or 'Task'} created at {ref.partner}")  # fmt: skip
            requester = found.get(keys.get("requester", ""))
            if requester:
                self._partner_state(conn, ref.partner, requester=requester)
        return 1

    def _absorb_cancel(self, ref: Referral, item: OutboxItem) -> int:
        if item.status == "dead":
            with self.archive.transaction() as conn:
                self._update(conn, ref.id, state="handed-over")
                self._event(conn, ref.id, "cancel-failed", from_status="cancel-requested",
                            to_status="handed-over", detail=item.last_error)  # fmt: skip
            return 1
        if item.status != "delivered":
            return 0
        body = (item.receipt_json() or {}).get("body")
        if isinstance(body, dict) and body.get("resourceType") == "Task":
            with self.archive.transaction() as conn:
                self._apply(conn, self.get(ref.id), body)
        return 1

    @staticmethod
    def _keys(payload: bytes) -> dict[str, str]:
        bundle = orjson.loads(payload)
        keys: dict[str, str] = {}
        for e in bundle.get("entry") or []:
            rtype = (e.get("resource") or {}).get("resourceType")
            url = e.get("fullUrl", "")
            if rtype == "Patient":
                keys["patient"] = url
            elif rtype == "ServiceRequest":
                keys["service_request"] = url
            elif rtype == "Task":
                keys["task"] = url
        task = next(
            (e["resource"] for e in bundle.get("entry") or []
             if (e.get("resource") or {}).get("resourceType") == "Task"),
            None,
        )  # fmt: skip
        req = ((task or {}).get("requester") or {}).get("reference")
        if req:
            keys["requester"] = req
        return keys

    def _partner_state(self, conn: sa.Connection, partner: str, **values: Any) -> None:
        p = tables.referral_partners.c
        done = conn.execute(
            tables.referral_partners.update().where(p.partner == partner).values(**values)
        )
        if done.rowcount == 0:
            conn.execute(tables.referral_partners.insert(), [{"partner": partner, **values}])

    def partner_state(self, partner: str) -> dict[str, Any]:
        p = tables.referral_partners.c
        with self.archive.engine.connect() as conn:
            row = conn.execute(
                sa.select(tables.referral_partners).where(p.partner == partner)
            ).first()
        return dict(row._mapping) if row else {"partner": partner}

    # -- polling ----------------------------------------------------------------

    def open_at_hospital(self, partner: str | None = None) -> list[Referral]:
        r = tables.referrals.c
        q = sa.select(tables.referrals).where(
            r.state.in_(sorted(states.OPEN_AT_HOSPITAL)),
            r.remote_task.is_not(None),
            sa.or_(r.task_status.is_(None), r.task_status.not_in(sorted(states.FINAL))),
        )
        if partner:
            q = q.where(r.partner == partner)
        with self.archive.engine.connect() as conn:
            return [Referral.from_row(x) for x in conn.execute(q.order_by(r.created_at))]

    def due_partners(self, now: dt.datetime | None = None) -> list[str]:
        """Partners with open referrals whose polling cadence has elapsed."""
        now = now or dt.datetime.now(dt.UTC)
        out = []
        for name in sorted({r.partner for r in self.open_at_hospital()}):
            polled = self.partner_state(name).get("polled_at")
            minutes = self.partner(name).poll_minutes
            if not polled or now - dt.datetime.fromisoformat(polled) >= dt.timedelta(
                minutes=minutes
            ):
                out.append(name)
        return out

    def poll(
        self,
        *,
        referral_id: str | None = None,
        partner: str | None = None,
        force: bool = False,
        by: str = "auto",
    ) -> dict[str, int]:
        """Read Task status back from the hospitals and apply it.

        One referral: ``Task?_id=``. A partner: ``Task?requester=…&_lastUpdated=gt…``
        once our Organization's reference there is known (``by="since"``), else
        ``Task?_id=a,b,…`` in pages of 100 (``by="ids"``). Without ``force``, only
        partners whose ``poll_minutes`` have elapsed are polled.
        """
        self.sweep_reviews()
        self.deliver()
        counts = {"polled": 0, "changed": 0, "anomalies": 0, "outcomes": 0, "requests": 0}
        if referral_id is not None:
            ref = self.get(referral_id)
            if ref.remote_task is None:
                return counts
            tasks = self._search(ref.partner, f"Task?_id={_id(ref.remote_task)}", counts)
            self._apply_all(ref.partner, tasks, counts, [ref])
            return counts
        names = (
            [partner]
            if partner
            else sorted({r.partner for r in self.open_at_hospital()})
            if force
            else self.due_partners()
        )
        for name in names:
            open_refs = self.open_at_hospital(name)
            if not open_refs:
                continue
            state = self.partner_state(name)
            started = now_iso()
            use_since = by == "since" or (by == "auto" and state.get("requester"))
            if use_since and state.get("requester"):
                q = f"Task?requester={quote(state['requester'], safe='/')}&_count=1000"
                if state.get("cursor"):
                    q += f"&_lastUpdated=gt{quote(state['cursor'], safe='')}"
                tasks = self._search(name, q, counts)
            else:
                tasks = []
                for i in range(0, len(open_refs), 100):
                    chunk = ",".join(_id(r.remote_task or "") for r in open_refs[i : i + 100])
                    tasks += self._search(name, f"Task?_id={chunk}&_count=100", counts)
            self._apply_all(name, tasks, counts, open_refs)
            cursor = max(
                [str((t.get("meta") or {}).get("lastUpdated", "")) for t in tasks]
                + [state.get("cursor") or ""]
            )
            with self.archive.transaction() as conn:
                self._partner_state(conn, name, cursor=cursor or None, polled_at=started)
        return counts

    def _search(self, partner: str, query: str, counts: dict[str, int]) -> list[dict[str, Any]]:
        hosp = self.partner(partner)
        out: list[dict[str, Any]] = []
        path: str | None = query
        while path:
            counts["requests"] += 1
            res = hosp.get(path)
            if res.verdict != "delivered":
                raise ReferralError(f"polling {partner} failed: {res.error}", code="E707")
            bundle = res.json() or {}
            out += [
                e["resource"]
                for e in bundle.get("entry") or []
                if (e.get("resource") or {}).get("resourceType") == "Task"
            ]
            nxt = next(
                (lk.get("url") for lk in bundle.get("link") or [] if lk.get("relation") == "next"),
                None,
            )
            path = _relative(nxt, hosp.transport.base_url) if nxt else None
        return out

    def _apply_all(
        self,
        partner: str,
        tasks: list[dict[str, Any]],
        counts: dict[str, int],
        refs: list[Referral],
    ) -> None:
        by_task = {_id(r.remote_task or ""): r for r in refs}
        for task in tasks:
            ref = by_task.get(str(task.get("id")))
            if ref is None:
                continue
            counts["polled"] += 1
            with self.archive.transaction() as conn:
                result = self._apply(conn, ref, task, partner=partner)
            counts["changed"] += result == "changed"
            counts["anomalies"] += result == "anomaly"
            if result == "changed" and task.get("status") == "completed":
                counts["outcomes"] += self.fetch_outcomes(self.get(ref.id), task)

    def _apply(
        self,
        conn: sa.Connection,
        ref: Referral,
        task: dict[str, Any],
        *,
        partner: str | None = None,
    ) -> str:
        """Apply one Task version seen at the hospital: ``changed``, ``same`` or ``anomaly``."""
        meta = task.get("meta") or {}
        version = meta.get("versionId")
        if version is not None and version == ref.remote_version:
            return "same"
        new = str(task.get("status"))
        old = ref.task_status
        path = [new]
        if not states.is_legal(old, new):
            path = self._history_path(ref, task) or []
            if not path:
                e = tables.referral_events.c
                seen = conn.execute(
                    sa.select(sa.func.count()).where(
                        e.referral_id == ref.id, e.kind == "anomaly", e.remote_version == version
                    )
                ).scalar_one()
                if not seen:
                    self._event(conn, ref.id, "anomaly", from_status=old, to_status=new,
                                version=version,
                                detail=f"{ref.partner} moved the Task from {old} to {new}, "
                                "which the referral Task state machine does not allow; "
                                "not applied")  # fmt: skip
                    log.warning("referral %s: illegal Task transition %s -> %s at %s (anomaly)",
                                ref.id, old, new, ref.partner)  # fmt: skip
                return "anomaly"
        values: dict[str, Any] = {
            "remote_version": version,
            "remote_updated": meta.get("lastUpdated"),
            "task_status": new,
            "business_status": _text(task.get("businessStatus")),
            "status_reason": _text(task.get("statusReason")),
        }
        step = ref.state
        prev = old
        for status in path:
            if status == prev:
                continue
            step = states.step_after(status, step)
            self._event(conn, ref.id, "status", from_status=prev, to_status=status,
                        version=version,
                        detail=_text(task.get("statusReason")) if status in
                        ("rejected", "failed", "cancelled") else None)  # fmt: skip
            if status in states.TAKEN_ON and ref.accepted_at is None:
                values["accepted_at"] = meta.get("lastUpdated") or now_iso()
            prev = status
        if new in states.FINAL:
            values["finished_at"] = meta.get("lastUpdated") or now_iso()
        if new == "completed":
            follow = self._follow_up(values["finished_at"])
            values["follow_up"] = orjson.dumps(follow).decode()
            self._event(conn, ref.id, "follow-up",
                        detail="follow-up due " + ", ".join(f["due"] for f in follow)
                        + " (6.1.4.1, DL-17)"
                        + ("; mode transfer: the case may now close as referred-out (T-16)"
                           if ref.mode == "transfer" else ""))  # fmt: skip
        values["state"] = step
        self._update(conn, ref.id, **values)
        return "changed" if prev != old else "same"

    def _history_path(self, ref: Referral, task: dict[str, Any]) -> list[str] | None:
        """Statuses the Task went through since the version we saw, when each step is legal."""
        if not ref.remote_task:
            return None
        res = self.partner(ref.partner).get(f"{ref.remote_task}/_history?_count=1000")
        if res.verdict != "delivered":
            return None
        versions = [
            e.get("resource") or {}
            for e in (res.json() or {}).get("entry") or []
            if (e.get("resource") or {}).get("resourceType") == "Task"
        ]
        versions.sort(key=lambda v: str((v.get("meta") or {}).get("lastUpdated", "")))
        after = not ref.remote_version
        path: list[str] = []
        for v in versions:
            vid = (v.get("meta") or {}).get("versionId")
            if after:
                path.append(str(v.get("status")))
            if vid == ref.remote_version:
                after = True
        if not path or path[-1] != task.get("status"):
            return None
        prev = ref.task_status
        for status in path:
            if not states.is_legal(prev, status):
                return None
            prev = status
        return path

    def _follow_up(self, finished: str) -> list[dict[str, Any]]:
        day = dt.datetime.fromisoformat(finished.replace("Z", "+00:00")).astimezone(CHINA_TZ)
        first, provisional = self.calendar.add_workdays(day.date(), FOLLOW_UP_FIRST_WD)
        out = [{"due": first.isoformat(), "provisional": provisional, "kind": "first"}]
        for n in range(1, FOLLOW_UP_MONTHLY + 1):
            month = first.month - 1 + n
            year = first.year + month // 12
            month = month % 12 + 1
            last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
            due = dt.date(year, month, min(first.day, last))
            out.append({"due": due.isoformat(), "provisional": False, "kind": "monthly"})
        return out

    def fetch_outcomes(self, ref: Referral, task: dict[str, Any]) -> int:
        """Fetch what ``Task.output`` references and store it in the child's file."""
        hosp = self.partner(ref.partner)
        stored = 0
        for out in task.get("output") or []:
            value = out.get("valueReference") or {}
            reference = value.get("reference")
            if not reference or reference.startswith("#") or "/" not in reference:
                continue
            rtype = reference.split("/")[-2]
            if rtype not in ACCEPTED_OUTCOMES:
                with self.archive.transaction() as conn:
                    self._event(
                        conn,
                        ref.id,
                        "outcome-dropped",
                        detail=f"{rtype} is not taken in from hospitals (§4.6)",
                    )
                continue
            res = hosp.get(_relative(reference, hosp.transport.base_url))
            if res.verdict != "delivered":
                with self.archive.transaction() as conn:
                    self._event(conn, ref.id, "outcome-missing",
                                detail=f"{reference}: {res.error}")  # fmt: skip
                continue
            body = res.body
            resource = res.json() or {}
            version = (resource.get("meta") or {}).get("versionId")
            o = tables.referral_outcomes.c
            with self.archive.transaction() as conn:
                exists = conn.execute(
                    sa.select(sa.func.count()).where(
                        o.referral_id == ref.id, o.reference == reference, o.version == version
                    )
                ).scalar_one()
                if exists:
                    continue
                conn.execute(
                    tables.referral_outcomes.insert(),
                    [
                        {
                            "referral_id": ref.id,
                            "case_number": ref.case_number,
                            "reference": reference,
                            "resource_type": rtype,
                            "version": version,
                            "body": body.decode("utf-8"),
                            "sha256": hashlib.sha256(body).hexdigest(),
                            "fetched_at": now_iso(),
                        }
                    ],
                )
                self._event(conn, ref.id, "outcome", detail=f"{reference} stored")
            stored += 1
        return stored

    # -- cancel -----------------------------------------------------------------

    def cancel(self, referral_id: str, *, reason: str, requester: str) -> Referral:
        """Cancel from our side: unsent → never sent; at the hospital → Task cancelled."""
        if not reason.strip():
            raise InputError("--reason must say why the referral is cancelled", code="E704")
        self.absorb_deliveries()
        ref = self.get(referral_id)
        if ref.state in states.CLOSED_STEPS or ref.state == "cancel-requested":
            raise ReferralError(f"referral {ref.id} is {ref.state}: nothing to cancel", code="E708")
        if ref.state in ("under-review", "approved", "info-prepared"):
            for item in self.outbox.items(ref=ref.id, kind="referral"):
                if item.status == "sending":
                    raise ReferralError(
                        f"referral {ref.id} is being sent right now; try again in a moment",
                        code="E708",
                    )
                if item.status in ("pending", "dead"):
                    self.outbox.mark(item.id, "cancelled", f"referral cancelled by {requester}")
            with self.archive.transaction() as conn:
                self._update(conn, ref.id, state="cancelled")
                self._event(conn, ref.id, "cancelled", from_status=ref.state,
                            to_status="cancelled",
                            detail=f"cancelled by {requester} before it was sent")  # fmt: skip
            return self.get(ref.id)
        if ref.task_status not in states.CANCELLABLE or not ref.remote_task:
            raise ReferralError(
                f"referral {ref.id}: the hospital's Task is {ref.task_status}; it can no longer "
                "be cancelled",
                code="E708",
            )
        patch = [
            {"op": "test", "path": "/status", "value": ref.task_status},
            {"op": "replace", "path": "/status", "value": "cancelled"},
            {"op": "add", "path": "/statusReason", "value": {"text": reason}},
        ]
        hosp = self.partner(ref.partner)
        with self.archive.transaction() as conn:
            self.outbox.enqueue(
                partner=ref.partner,
                kind="referral-cancel",
                payload=orjson.dumps(patch),
                idempotency_key=f"referral:{ref.id}:cancel:{ref.remote_version}",
                method="PATCH",
                path=ref.remote_task,
                content_type="application/json-patch+json",
                ref=ref.id,
                max_attempts=hosp.retry.max_attempts,
                conn=conn,
            )
            self._update(conn, ref.id, state="cancel-requested")
            self._event(conn, ref.id, "cancel-requested", from_status=ref.state,
                        to_status="cancel-requested",
                        detail=f"cancel requested by {requester}")  # fmt: skip
        return self.get(ref.id)

    # -- replay -------------------------------------------------------------------

    def replay(self, item_id: str) -> OutboxItem:
        """Queue a dead referral delivery again, under the CURRENT purpose policy.

        The policy, consent and filter run again (a preview: nothing new is
        disclosed). When they still let out exactly what the supervisor
        approved, the approved bytes go again; when they now refuse, or would
        let out something else, the delivery is marked ``refused`` with the
        reason (a new referral then gets a fresh review).
        """
        item = self.outbox.get(item_id)
        if item.kind != "referral" or not item.ref:
            return self.outbox.retry(item_id)
        ref = self.get(item.ref)
        if ref.disclosure_id is None:
            return self.outbox.retry(item_id)
        approved = self.discloser.get(ref.disclosure_id)
        purpose = approved.purpose
        now = self.discloser.request(
            ref.case_number,
            purpose=purpose,
            partner=ref.partner,
            requester=ref.requester,
            reason_code=(self.crisis_active(ref.case_number) or "life-self")
            if ref.break_glass
            else None,
            reason_text=ref.reason if ref.break_glass else None,
            dry_run=True,
        )
        problem = None
        if now.status in ("refused", "rejected"):
            problem = "the current purpose policy refuses it: " + "; ".join(now.reasons)
        elif _content(now.bundle) != _content(approved.bundle):
            problem = (
                "the current purpose policy lets out different content than was approved; "
                "create a new referral for a fresh review"
            )
        if problem is not None:
            self.outbox.mark(item_id, "refused", problem)
            with self.archive.transaction() as conn:
                self._event(conn, ref.id, "replay-refused", detail=problem)
            return self.outbox.get(item_id)
        with self.archive.transaction() as conn:
            self._event(conn, ref.id, "replayed", detail=f"delivery {item_id} queued again")
        return self.outbox.retry(item_id)

    # -- deadlines ----------------------------------------------------------------

    def not_accepted(self, now: dt.datetime | None = None) -> list[dict[str, Any]]:
        """Referrals handed over but not accepted, by their "accepted within" date."""
        now = now or dt.datetime.now(CHINA_TZ)
        out = []
        for ref in self.find(state="handed-over"):
            if ref.task_status not in ("requested", "received") or not ref.accept_due:
                continue
            due = dt.date.fromisoformat(ref.accept_due)
            out.append(
                {
                    "referral": ref.id,
                    "case": ref.case_number,
                    "partner": ref.partner,
                    "trigger": ref.trigger,
                    "sent_at": ref.sent_at,
                    "deadline": due.isoformat(),
                    "provisional": ref.accept_due_provisional,
                    "overdue": now > end_of_day(due),
                }
            )
        return sorted(out, key=lambda x: (x["deadline"], x["referral"]))


def _id(reference: str) -> str:
    return reference.rstrip("/").split("/")[-1]


def _relative(url: str, base: str) -> str:
    return url[len(base) :] if url.startswith(base) else url


def _text(concept: Any) -> str | None:
    if not isinstance(concept, dict):
        return None
    if concept.get("text"):
        return str(concept["text"])
    for c in concept.get("coding") or []:
        if c.get("display") or c.get("code"):
            return str(c.get("display") or c.get("code"))
    return None


def _entry_resource(body: Any, sent: bytes, full_url: str | None) -> dict[str, Any] | None:
    if not isinstance(body, dict) or not full_url:
        return None
    request = orjson.loads(sent)
    for req_entry, resp_entry in zip(
        request.get("entry") or [], body.get("entry") or [], strict=False
    ):
        if req_entry.get("fullUrl") == full_url:
            res = (resp_entry or {}).get("resource")
            return res if isinstance(res, dict) else None
    return None


@contextmanager
def opened(archive_url: str | None, config: Config) -> Iterator[Referrals]:
    with Archive.open(archive_url) as archive, Referrals(archive, config) as referrals:
        yield referrals


def queue_after_approval(disclosure: Disclosure) -> None:
    """The hospital plugin's ``interop_after_approval``: queue the waiting referral.

    The hook is handed the Disclosure only: the archive and the partners
    configuration are its ``archive_url`` / ``config_path`` (set by the
    discloser that approved it).
    ``interop referral poll`` and ``interop outbox run`` also queue referrals
    whose disclosure was approved, so nothing waits on this hook alone.
    """
    from interop.config import load_config

    url = getattr(disclosure, "archive_url", None)
    if not url:
        log.info("disclosure %s approved; its referral is queued by the next outbox run",
                 disclosure.id)  # fmt: skip
        return
    try:
        with Archive.open(url, create=False) as archive:
            refs = Referrals(archive, load_config(getattr(disclosure, "config_path", None)))
            try:
                done = refs.on_approved(disclosure)
            finally:
                refs.close()
    except InteropError as exc:
        log.warning("referral for disclosure %s not queued now: %s", disclosure.id, exc.message)
        return
    if done is not None:
        log.info("referral %s queued after approval of %s", done.id, disclosure.id)


def _content(bundle: dict[str, Any] | None) -> list[Any]:
    """The resources of a filtered Bundle without their meta (labels, times), Flags aside."""
    out = []
    for e in (bundle or {}).get("entry") or []:
        res = dict(e.get("resource") or {})
        if res.get("resourceType") == "Flag":
            continue  # the break-glass Flag is new on every request
        res.pop("meta", None)
        out.append(res)
    return sorted(out, key=lambda r: (str(r.get("resourceType")), str(r.get("id"))))


def referral_due_items(
    archive: Archive, now: dt.datetime, until: str | None = None
) -> list[dict[str, Any]]:
    """For ``interop cases due``: referrals handed over and not yet accepted.

    One item per referral, shaped like a waiting case's (``case``, ``deadline``,
    ``rule`` = ``referral-accept``, ``overdue`` …) plus ``referral`` and
    ``partner``; the deadline is "accepted within ``accept_within_days``
    working days" of the hand-over (partner configuration; DL-07/DL-10).
    """
    r = tables.referrals.c
    q = (
        sa.select(r.id, r.case_number, r.partner, r.accept_due, r.accept_due_provisional, r.sent_at)
        .where(
            r.state == "handed-over",
            r.task_status.in_(("requested", "received")),
            r.accept_due.is_not(None),
        )
        .order_by(r.accept_due, r.id)
    )
    if until is not None:
        q = q.where(r.accept_due <= until)
    with archive.engine.connect() as conn:
        rows = conn.execute(q).all()
    return [
        {
            "case": case,
            "risk": None,
            "deadline": due,
            "rule": "referral-accept",
            "provisional": bool(prov),
            "overdue": now > end_of_day(dt.date.fromisoformat(due)),
            "start": sent[:10] if sent else None,
            "received": None,
            "referral": rid,
            "partner": partner,
        }
        for rid, case, partner, due, prov, sent in rows
    ]
