"""Following referrals (转介跟踪): read each Task back from the hospital, check it, apply it.

Every open referral is read back by what we know for certain: its Task id
(``Task?_id=a,b,…`` in pages of 100), or our ServiceRequest identifier when
the id is not known yet. A search by requester and ``_lastUpdated`` is only
an optimisation, used when a count at the hospital proves it covers every
open referral (``by="since"``). A crisis referral (RT-01) is followed the
same way on its own, shorter cadence (``crisis_poll_minutes``; never under the
partner's floor).

Every Task read back is checked before it is applied: ``for`` is the Patient
we sent, ``basedOn`` our ServiceRequest, ``owner`` the partner we sent to. A
mismatch, a Task deleted at the hospital (404/410) or a transition the
state machine does not allow is an **anomaly**: recorded once in the
referral's history, listed by ``interop referral anomalies`` and ``cases
due``, and never applied.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson

from interop.fhir import canonical
from interop.referral import states
from interop.referral.bundle import REFERRAL_SYSTEM
from interop.referral.outcomes import Outcomes, _relative, _text
from interop.referral.records import Referral, ReferralError
from interop.store import referrals as store
from interop.store.archive import now_iso

if TYPE_CHECKING:
    from interop.plugins.hospital_fhir import HospitalFhir
    from interop.store.connect import Connection

log = logging.getLogger(__name__)

#: Task ids per ``Task?_id=`` search.
PAGE = 100

# Plain words of the anomalies (one place, for the message catalogue).
MSG_FOR = "Task.for points at {found}, not the Patient we referred ({ours}); not applied"
MSG_BASED_ON = "Task.basedOn does not name our ServiceRequest {ours}; not applied"
MSG_OWNER = "Task.owner is {found}, not the partner we sent the referral to ({ours}); not applied"
MSG_DELETED = "the Task {task} is gone at {partner} (HTTP {status}); the referral is not followed"
MSG_ILLEGAL = (
    "{partner} moved the Task from {old} to {new}, which the referral Task state machine "
    "does not allow; not applied"
)


def _id(reference: str) -> str:
    return reference.rstrip("/").split("/")[-1]


def _tail(reference: str | None) -> str:
    """``Type/id`` of a reference (absolute or relative, with or without ``_history``)."""
    parts = [p for p in str(reference or "").split("/") if p]
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return "/".join(parts[-2:])


def _describe(ref: Any) -> str:
    if not isinstance(ref, dict) or not ref:
        return "nothing"
    if ref.get("reference"):
        return str(ref["reference"])
    ident = ref.get("identifier") or {}
    if ident.get("value"):
        return f"identifier {ident.get('system', '')}|{ident['value']}"
    return str(ref.get("display") or "a reference we cannot resolve")


def _same_party(found: Any, ours: dict[str, Any]) -> bool:
    """Whether the Reference ``found`` names the partner ``ours`` (by reference or identifier)."""
    if not isinstance(found, dict):
        return False
    if ours.get("reference"):
        return _tail(found.get("reference")) == _tail(ours["reference"])
    mine = ours.get("identifier") or {}
    if mine.get("value"):
        theirs = found.get("identifier") or {}
        return (theirs.get("system"), theirs.get("value")) == (mine.get("system"), mine["value"])
    return True  # we named the partner by display only: nothing to compare


class Polling(Outcomes):
    """Polling, checking and applying the hospitals' Tasks."""

    def _referral_system(self) -> str:
        """Our referral identifier system as the hospital holds it (the emitted base, D-77)."""
        return str(canonical.emitted(REFERRAL_SYSTEM, self.engine.canonical_base))

    # -- which referrals --------------------------------------------------------

    def open_at_hospital(self, partner: str | None = None) -> list[Referral]:
        found = self.rows.open_at_hospital(states.OPEN_AT_HOSPITAL, states.FINAL, partner)
        rows = [Referral.from_row(x) for x in found]
        # Crisis referrals first: if a poll is cut short, they were read.
        return sorted(rows, key=lambda x: not x.crisis)

    def cadence(self, ref: Referral) -> float:
        """Minutes between two polls of ``ref`` (the crisis cadence for a crisis referral)."""
        hosp = self.partner(ref.partner)
        return hosp.crisis_poll_minutes if ref.crisis else hosp.poll_minutes

    def due(self, now: dt.datetime | None = None, partner: str | None = None) -> list[Referral]:
        """Open referrals whose cadence has elapsed since they were last polled."""
        now = now or dt.datetime.now(dt.UTC)
        out = []
        for ref in self.open_at_hospital(partner):
            if not ref.polled_at:
                out.append(ref)
                continue
            last = dt.datetime.fromisoformat(ref.polled_at)
            if now - last >= dt.timedelta(minutes=self.cadence(ref)):
                out.append(ref)
        return out

    def due_partners(self, now: dt.datetime | None = None) -> list[str]:
        """Partners with at least one referral due for a poll."""
        return sorted({r.partner for r in self.due(now)})

    # -- polling ------------------------------------------------------------------

    def poll_tasks(
        self,
        *,
        referral_id: str | None = None,
        partner: str | None = None,
        force: bool = False,
        by: str = "auto",
        now: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """Read the Tasks of due referrals back, check and apply them.

        ``force`` polls every open referral whatever its cadence; ``by`` is
        ``ids`` (the certain way, also what ``auto`` does) or ``since`` (the
        requester/``_lastUpdated`` search, used only when checked complete).
        A partner that cannot be reached is named in ``failed``; the others
        are still polled.
        """
        counts: dict[str, Any] = {
            "polled": 0, "changed": 0, "anomalies": 0, "outcomes": 0, "requests": 0,
            "failed": [],
        }  # fmt: skip
        if referral_id is not None:
            ref = self.get(referral_id)
            if ref.state not in states.OPEN_AT_HOSPITAL:
                return counts
            groups = {ref.partner: [ref]}
        else:
            chosen = self.open_at_hospital(partner) if force else self.due(now, partner)
            groups = {}
            for ref in chosen:
                groups.setdefault(ref.partner, []).append(ref)
        for name, refs in groups.items():
            try:
                self._poll_partner(name, refs, counts, by)
            except ReferralError as exc:
                log.warning("polling %s stopped: %s", name, exc.message)
                counts["failed"].append(f"{name}: {exc.message}")
        return counts

    def _poll_partner(
        self, name: str, refs: list[Referral], counts: dict[str, Any], by: str
    ) -> None:
        hosp = self.partner(name)
        started = now_iso()
        found: dict[str, dict[str, Any]] = {}
        cursor = None
        since = self._since(name, counts) if by == "since" else None
        if since is not None:
            found, cursor = since
        else:
            known = [r for r in refs if r.remote_task]
            for i in range(0, len(known), PAGE):
                chunk = ",".join(_id(r.remote_task or "") for r in known[i : i + PAGE])
                for hit in self._search(name, f"Task?_id={chunk}&_count={PAGE}", counts):
                    found[str(hit.get("id"))] = hit
        for ref in refs:
            if ref.remote_task is None:
                ref = self._find_task(hosp, ref, counts) or ref
            task: dict[str, Any] | None = (
                found.get(_id(ref.remote_task)) if ref.remote_task else None
            )
            if task is None and ref.remote_task and since is None:
                # Not returned by the id search: read it alone (deleted → anomaly).
                task = self._read_one(hosp, ref, counts)
                counts["anomalies"] += task is None
            if task is None:
                continue  # (with a checked since-search: unchanged since the cursor)
            counts["polled"] += 1
            with self.archive.transaction() as conn:
                result = self._checked_apply(conn, ref, task, hosp)
            counts["changed"] += result == "changed"
            counts["anomalies"] += result == "anomaly"
            if result == "changed" and task.get("status") == "completed":
                counts["outcomes"] += self.fetch_outcomes(self.get(ref.id), task)
        with self.archive.transaction() as conn:
            store.mark_polled(conn, [x.id for x in refs], started)
            state: dict[str, Any] = {"polled_at": started}
            if cursor:
                state["cursor"] = cursor
            self._partner_state(conn, name, **state)

    def _since(
        self, name: str, counts: dict[str, Any]
    ) -> tuple[dict[str, dict[str, Any]], str | None] | None:
        """The requester/``_lastUpdated`` search, when a count proves it covers every referral.

        The count of Tasks naming our Organization at the hospital must equal
        the number of our referrals there; any open referral whose Task does
        not name it (or a Task deleted, or one too many) makes the check fail
        and the caller reads every Task by id.
        """
        state = self.partner_state(name)
        requester = state.get("requester")
        if not requester:
            return None
        ours = self.rows.with_task_at(name)
        where = f"requester={quote(requester, safe='/')}"
        hosp = self.partner(name)
        counts["requests"] += 1
        res = hosp.get(f"Task?{where}&_summary=count")
        total = (res.json() or {}).get("total") if res.verdict == "delivered" else None
        if total != ours:
            log.info("polling %s: the requester search does not cover every referral "
                     "(%s at the hospital, %s here); reading every Task by id",
                     name, total, ours)  # fmt: skip
            return None
        q = f"Task?{where}&_count=1000"
        if state.get("cursor"):
            q += f"&_lastUpdated=gt{quote(state['cursor'], safe='')}"
        tasks = self._search(name, q, counts)
        cursor = max(
            [str((t.get("meta") or {}).get("lastUpdated", "")) for t in tasks]
            + [state.get("cursor") or ""]
        )
        return {str(t.get("id")): t for t in tasks}, cursor or None

    def _search(self, partner: str, query: str, counts: dict[str, Any]) -> list[dict[str, Any]]:
        hosp = self.partner(partner)
        out: list[dict[str, Any]] = []
        path: str | None = query
        while path:
            counts["requests"] += 1
            res = hosp.get(path)
            if res.verdict != "delivered":
                raise ReferralError(f"polling {partner} failed: {res.error}", code="E707")
            try:
                bundle = res.json() or {}
            except ValueError:
                raise ReferralError(
                    f"polling {partner} failed: the answer is not FHIR JSON", code="E720"
                ) from None
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

    def _find_task(
        self, hosp: HospitalFhir, ref: Referral, counts: dict[str, Any]
    ) -> Referral | None:
        """A referral without a Task id: find its Task by our identifier and record the id."""
        tasks = self._search(
            hosp.name,
            f"Task?identifier={quote(self._referral_system(), safe=':/')}|{ref.id}",
            counts,
        )
        if len(tasks) != 1:
            return None
        with self.archive.transaction() as conn:
            self._update(conn, ref.id, remote_task=f"Task/{tasks[0]['id']}")
            self._event(conn, ref.id, "task-found",
                        detail=f"Task/{tasks[0]['id']} found by our identifier")  # fmt: skip
        return self.get(ref.id)

    def _read_one(
        self, hosp: HospitalFhir, ref: Referral, counts: dict[str, Any]
    ) -> dict[str, Any] | None:
        """A Task the id search did not return: read it; 404/410 is an anomaly (deleted)."""
        counts["requests"] += 1
        res = hosp.get(ref.remote_task or "")
        if res.verdict == "delivered":
            body = res.json()
            return body if isinstance(body, dict) and body.get("resourceType") == "Task" else None
        if res.status in (404, 410):
            detail = MSG_DELETED.format(task=ref.remote_task, partner=ref.partner,
                                        status=res.status)  # fmt: skip
            with self.archive.transaction() as conn:
                self._anomaly(conn, ref, None, detail, to_status="deleted")
            return None
        raise ReferralError(f"polling {ref.partner} failed: {res.error}", code="E707")

    # -- checking and applying -----------------------------------------------------

    def _anomaly(
        self,
        conn: Connection,
        ref: Referral,
        version: str | None,
        detail: str,
        *,
        to_status: str | None = None,
    ) -> None:
        """Record an anomaly once per Task version and words; the referral is not changed."""
        if self._seen_event(conn, ref.id, "anomaly", version, detail):
            return
        self._event(conn, ref.id, "anomaly", from_status=ref.task_status, to_status=to_status,
                    version=version, detail=detail)  # fmt: skip
        log.warning("referral %s: anomaly at %s (Task version %s)", ref.id, ref.partner, version)

    def _mismatch(self, ref: Referral, task: dict[str, Any], hosp: HospitalFhir) -> str | None:
        """What in the Task does not match what we sent, in plain words (or None)."""
        found_for = (task.get("for") or {}).get("reference")
        if ref.remote_patient and _tail(found_for) != _tail(ref.remote_patient):
            return MSG_FOR.format(found=_describe(task.get("for")), ours=ref.remote_patient)
        based_on = {_tail(b.get("reference")) for b in task.get("basedOn") or []}
        if ref.remote_service_request and _tail(ref.remote_service_request) not in based_on:
            return MSG_BASED_ON.format(ours=ref.remote_service_request)
        if not _same_party(task.get("owner"), hosp.owner):
            return MSG_OWNER.format(found=_describe(task.get("owner")), ours=_describe(hosp.owner))
        return None

    def _checked_apply(
        self, conn: Connection, ref: Referral, task: dict[str, Any], hosp: HospitalFhir
    ) -> str:
        version = (task.get("meta") or {}).get("versionId")
        if version is not None and version == ref.remote_version:
            return "same"
        wrong = self._mismatch(ref, task, hosp)
        if wrong is not None:
            self._anomaly(conn, ref, version, wrong, to_status=str(task.get("status")))
            return "anomaly"
        return self._apply(conn, ref, task)

    def _apply(self, conn: Connection, ref: Referral, task: dict[str, Any]) -> str:
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
                detail = MSG_ILLEGAL.format(partner=ref.partner, old=old, new=new)
                self._anomaly(conn, ref, version, detail, to_status=new)
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
