"""Referral records (转介记录): the stored referral, its history, and the store queries.

One row per referral in ``referrals``; every step, every Task transition the
hospital made and every anomaly is an event in ``referral_events``; outcomes
fetched from the hospital are in ``referral_outcomes``. :class:`ReferralStore`
reads and writes them and builds the collaborators (engine, discloser,
partners) the other referral modules need; it logs no name, ID number or
reason text.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from interop._errors import ReferralError as ReferralError
from interop._errors import ReferralNotFound as ReferralNotFound
from interop.core.workdays import CHINA_TZ, WorkCalendar, end_of_day
from interop.exchange.outbox import Outbox
from interop.referral import states
from interop.referral.triggers import CRISIS_TRIGGER as CRISIS_TRIGGER
from interop.referral.triggers import MODES as MODES
from interop.referral.triggers import TRIGGERS as TRIGGERS
from interop.store import schema as tables
from interop.store.archive import Archive, now_iso

if TYPE_CHECKING:
    from interop.config import Config
    from interop.engine import Engine
    from interop.exchange.plugins import Plugins
    from interop.plugins.hospital_fhir import HospitalFhir
    from interop.privacy.disclosure import Discloser

log = logging.getLogger(__name__)


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
    polled_at: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> Referral:
        data = dict(row._mapping)
        data["follow_up"] = orjson.loads(data["follow_up"]) if data["follow_up"] else []
        data["break_glass"] = bool(data["break_glass"])
        data["accept_due_provisional"] = bool(data["accept_due_provisional"])
        return cls(**data)

    @property
    def crisis(self) -> bool:
        """A crisis referral (RT-01 or sent under break-glass): followed first and more often."""
        return self.trigger == CRISIS_TRIGGER or self.break_glass

    def summary(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__slots__}
        out.pop("reason")
        return out


class ReferralStore:
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

            self._discloser = Discloser(self.archive, self.engine, self.config)
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
        from interop.plugins.hospital_fhir import KIND, HospitalFhir

        partner = self.config.partner(name)
        if partner.kind != KIND:
            raise ReferralError(
                f"partner {name} is of kind '{partner.kind}'; referrals go to kind '{KIND}'",
                code="E702",
            )
        factory = self.plugins.partner_kinds().get(KIND)
        if factory is None:
            raise ReferralError(f"no plugin handles partner kind '{KIND}'", code="E702")
        made = factory(name, dict(partner.settings))
        if not isinstance(made, HospitalFhir):  # a third party registered the kind first
            raise ReferralError(f"the plugin of kind '{KIND}' is not the hospital's", code="E702")
        self._partners[name] = made
        return made

    def close(self) -> None:
        for p in self._partners.values():
            p.close()
        self._partners.clear()

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

    def anomalies(self, referral_id: str | None = None) -> list[dict[str, Any]]:
        """Anomalies seen at the hospitals (mismatched, deleted or illegally moved Tasks)."""
        return anomaly_items(self.archive, referral_id)

    def show(self, referral_id: str) -> dict[str, Any]:
        ref = self.get(referral_id)
        return {
            **ref.summary(),
            "events": self.events(referral_id),
            "anomalies": self.anomalies(referral_id),
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

    def _seen_event(
        self, conn: sa.Connection, referral_id: str, kind: str, version: str | None, detail: str
    ) -> bool:
        """Whether the same event (kind, Task version, words) was already recorded."""
        e = tables.referral_events.c
        return bool(
            conn.execute(
                sa.select(sa.func.count()).where(
                    e.referral_id == referral_id,
                    e.kind == kind,
                    e.remote_version.is_(None) if version is None else e.remote_version == version,
                    e.detail == detail,
                )
            ).scalar_one()
        )

    def _update(self, conn: sa.Connection, referral_id: str, **values: Any) -> None:
        values["updated_at"] = now_iso()
        conn.execute(
            tables.referrals.update().where(tables.referrals.c.id == referral_id).values(**values)
        )

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


def anomaly_items(archive: Archive, referral_id: str | None = None) -> list[dict[str, Any]]:
    """Every anomaly event, with its referral, case and partner, oldest first."""
    e = tables.referral_events.c
    r = tables.referrals.c
    q = (
        sa.select(
            e.referral_id,
            r.case_number,
            r.partner,
            r.state,
            e.at,
            e.from_status,
            e.to_status,
            e.remote_version,
            e.detail,
        )
        .join_from(tables.referral_events, tables.referrals, r.id == e.referral_id)
        .where(e.kind == "anomaly")
        .order_by(e.id)
    )
    if referral_id is not None:
        q = q.where(e.referral_id == referral_id)
    with archive.engine.connect() as conn:
        return [
            {
                "referral": x.referral_id,
                "case": x.case_number,
                "partner": x.partner,
                "state": x.state,
                "at": x.at,
                "from_status": x.from_status,
                "to_status": x.to_status,
                "remote_version": x.remote_version,
                "detail": x.detail,
            }
            for x in conn.execute(q)
        ]


def _due_item(case: str, deadline: str, rule: str, now: dt.datetime, **more: Any) -> dict[str, Any]:
    return {
        "case": case,
        "risk": None,
        "deadline": deadline,
        "rule": rule,
        "provisional": bool(more.pop("provisional", False)),
        "overdue": now > end_of_day(dt.date.fromisoformat(deadline)),
        "start": more.pop("start", None),
        "received": None,
        **more,
    }


def referral_due_items(
    archive: Archive, now: dt.datetime, until: str | None = None
) -> list[dict[str, Any]]:
    """For ``interop cases due``: what a referral asks of the worker, by date.

    - ``referral-accept``: handed over and not yet accepted; the deadline is
      "accepted within ``accept_within_days`` working days" (DL-07/DL-10);
    - ``referral-follow-up``: the next follow-up after the hospital's
      discharge notice (6.1.4.1, DL-17) not yet past by more than a month;
    - ``referral-anomaly``: the hospital's Task does not match what we sent,
      was deleted, or moved illegally — due at once (the day it was seen).

    Each item is shaped like a waiting case's (``case``, ``deadline``,
    ``rule``, ``overdue`` …) plus ``referral`` and ``partner``.
    """
    r = tables.referrals.c
    out: list[dict[str, Any]] = []
    q = sa.select(
        r.id, r.case_number, r.partner, r.state, r.task_status, r.accept_due,
        r.accept_due_provisional, r.sent_at, r.follow_up,
    ).where(r.state.not_in(sorted(states.CLOSED_STEPS)))  # fmt: skip
    with archive.engine.connect() as conn:
        rows = conn.execute(q.order_by(r.id)).all()
    today = now.date().isoformat()
    for rid, case, partner, state, task, due, prov, sent, follow in rows:
        if state == "handed-over" and task in ("requested", "received") and due:
            out.append(
                _due_item(case, due, "referral-accept", now, provisional=prov,
                          start=sent[:10] if sent else None, referral=rid, partner=partner)
            )  # fmt: skip
        for f in orjson.loads(follow) if follow else []:
            month_after = (dt.date.fromisoformat(f["due"]) + dt.timedelta(days=31)).isoformat()
            if month_after >= today:
                out.append(
                    _due_item(case, f["due"], "referral-follow-up", now,
                              provisional=f.get("provisional"), referral=rid, partner=partner)
                )  # fmt: skip
                break
    for a in anomaly_items(archive):
        if a["state"] in states.CLOSED_STEPS:
            continue
        out.append(
            _due_item(a["case"], a["at"][:10], "referral-anomaly", now, referral=a["referral"],
                      partner=a["partner"], detail=a["detail"])
        )  # fmt: skip
    if until is not None:
        out = [x for x in out if x["deadline"] <= until]
    return sorted(out, key=lambda x: (x["deadline"], x["referral"], x["rule"]))
