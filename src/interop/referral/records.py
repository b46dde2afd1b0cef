"""Referral records (转介记录): the stored referral, its history, and what is due.

One row per referral; every step, every Task transition the hospital made and
every anomaly is an event of it; outcomes fetched from the hospital are kept
with it (the SQL is in :mod:`interop.store.referrals`). :class:`ReferralStore`
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

from interop._errors import ReferralError as ReferralError
from interop._errors import ReferralNotFound as ReferralNotFound
from interop.core.workdays import CHINA_TZ, WorkCalendar, end_of_day
from interop.exchange.outbox import Outbox
from interop.referral import states
from interop.referral.triggers import CRISIS_TRIGGER as CRISIS_TRIGGER
from interop.referral.triggers import MODES as MODES
from interop.referral.triggers import TRIGGERS as TRIGGERS
from interop.store import referrals as rows
from interop.store.archive import Archive
from interop.store.referrals import ReferralRows

if TYPE_CHECKING:
    from interop.config import Config
    from interop.engine import Engine
    from interop.exchange.plugins import Plugins
    from interop.plugins.hospital_fhir import HospitalFhir
    from interop.privacy.disclosure import Discloser
    from interop.store.connect import Connection

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
    def from_row(cls, row: dict[str, Any]) -> Referral:
        data = dict(row)
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
        self.rows = ReferralRows(archive)
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
        row = self.rows.get(referral_id)
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
        found = self.rows.find(case_number=case_number, partner=partner, state=state)
        return [Referral.from_row(row) for row in found]

    def events(self, referral_id: str) -> list[dict[str, Any]]:
        return self.rows.events(referral_id)

    def outcomes(self, referral_id: str) -> list[dict[str, Any]]:
        return self.rows.outcomes(referral_id)

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
        conn: Connection,
        referral_id: str,
        kind: str,
        *,
        from_status: str | None = None,
        to_status: str | None = None,
        version: str | None = None,
        detail: str | None = None,
    ) -> None:
        rows.add_event(conn, referral_id, kind, from_status=from_status, to_status=to_status,
                       version=version, detail=detail)  # fmt: skip

    def _seen_event(
        self, conn: Connection, referral_id: str, kind: str, version: str | None, detail: str
    ) -> bool:
        """Whether the same event (kind, Task version, words) was already recorded."""
        return rows.seen_event(conn, referral_id, kind, version, detail)

    def _update(self, conn: Connection, referral_id: str, **values: Any) -> None:
        rows.update(conn, referral_id, **values)

    def _partner_state(self, conn: Connection, partner: str, **values: Any) -> None:
        rows.set_partner_state(conn, partner, **values)

    def partner_state(self, partner: str) -> dict[str, Any]:
        return self.rows.partner_state(partner)

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
    return ReferralRows(archive).anomalies(referral_id)


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
    out: list[dict[str, Any]] = []
    today = now.date().isoformat()
    for row in ReferralRows(archive).due_rows(states.CLOSED_STEPS):
        rid, case, partner, state, task, due, prov, sent, follow = row.values()
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
