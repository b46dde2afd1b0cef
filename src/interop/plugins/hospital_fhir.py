"""Built-in plugin: hospitals over FHIR REST (partner kind ``hospital-fhir``).

Transport only (ARCHITECTURE): this plugin knows the hospital's base URL,
credentials and cadence, makes one HTTP call per outbox attempt, says whether
the answer proves the delivery, reconciles an uncertain one by searching our
identifiers, and reads Tasks and outcomes back. It imports nothing of
referral, privacy or the store. The referral logic — the transaction Bundle
from the disclosure's filtered Bundle, the Task state machine, follow-up —
is in :mod:`interop.referral`. Configuration (``--config``)::

    [partners.jx-childrens-hospital]
    kind = "hospital-fhir"
    base_url = "https://fhir.hospital.example/R4/"
    auth = { type = "bearer", token_env = "JXCH_TOKEN" }   # or { type = "none" }
    owner_identifier = "https://hospital.example/sid/org|JXCH"   # the hospital (Task.owner),
                                    # by identifier; or owner = "Organization/<id>" (its id)
    poll_minutes = 60               # routine referrals; default 60
    crisis_poll_minutes = 15        # crisis (RT-01) referrals; default: the floor
    poll_floor_minutes = 15         # never poll more often (SDOH Clinical Care IG: 15)
    accept_within_days = 5          # working days before "not accepted" shows in cases due
    timeout = 30                    # seconds per request
    max_attempts = 8                # then the delivery is dead-lettered
    retry_base = 2                  # seconds; doubled per attempt, with jitter
    retry_cap = 3600
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import orjson

from interop._errors import ConfigError
from interop.exchange.hookspecs import hookimpl
from interop.exchange.http import HttpResult, HttpTransport, bearer_token, summarise_outcome
from interop.exchange.retry import RetryPolicy

if TYPE_CHECKING:
    from interop.exchange.outbox import OutboxItem

log = logging.getLogger(__name__)

KIND = "hospital-fhir"
MIN_POLL_MINUTES = 15
DEFAULT_POLL_MINUTES = 60
DEFAULT_ACCEPT_WITHIN = 5
#: What a transaction-response must locate for a referral to count as delivered.
PROVEN = ("Patient", "ServiceRequest", "Task")

# Plain words (one place, for the message catalogue).
MSG_NOT_JSON = "{partner} answered {status} without FHIR JSON; the referral may have been created"
MSG_NOT_RESPONSE = (
    "{partner} answered {status} without a transaction-response; the referral may have been created"
)
MSG_UNLOCATED = (
    "{partner}'s transaction-response does not locate the {what} sent; the referral may have "
    "been created"
)
MSG_NO_ANSWER = "{error}; the referral may have been created"
MSG_SEARCH = "{partner} could not be searched for the referral: {error}"


def _number(name: str, settings: dict[str, Any], key: str, default: float) -> float:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"partner {name}: key '{key}' must be a positive number", code="E166")
    return float(value)


class HospitalFhir:
    """One hospital: outbox attempts (``attempt``), reads for polling (``get``)."""

    kind = KIND

    def __init__(self, name: str, settings: dict[str, Any]) -> None:
        self.name = name
        self.settings = dict(settings)
        base_url = settings.get("url") or settings.get("base_url")
        if not base_url:
            raise ConfigError(f"partner {name}: key 'base_url' is missing", code="E166")
        self.poll_floor = _number(name, settings, "poll_floor_minutes", MIN_POLL_MINUTES)
        self.poll_minutes = _number(name, settings, "poll_minutes", DEFAULT_POLL_MINUTES)
        self.crisis_poll_minutes = _number(name, settings, "crisis_poll_minutes", self.poll_floor)
        for key, value in (
            ("poll_minutes", self.poll_minutes),
            ("crisis_poll_minutes", self.crisis_poll_minutes),
        ):
            if value < self.poll_floor:
                raise ConfigError(
                    f"partner {name}: key '{key}' must be {self.poll_floor:g} or more "
                    f"(the partner's floor, poll_floor_minutes: never poll it more often)",
                    code="E166",
                )
        within = _number(name, settings, "accept_within_days", DEFAULT_ACCEPT_WITHIN)
        self.accept_within_days = int(within)
        self.owner = self._owner(settings.get("owner"), settings.get("owner_identifier"))
        self.retry = RetryPolicy.from_settings(settings)
        self.transport = HttpTransport(
            name,
            str(base_url),
            token=bearer_token(name, KIND, settings),
            timeout=_number(name, settings, "timeout", 30.0),
            connect_timeout=_number(name, settings, "connect_timeout", 5.0),
        )

    def _owner(self, value: Any, identifier: Any) -> dict[str, Any]:
        if identifier is not None:
            system, _, code = str(identifier).rpartition("|")
            if not system or not code:
                raise ConfigError(
                    f"partner {self.name}: key 'owner_identifier' must be 'system|value'",
                    code="E166",
                )
            return {"identifier": {"system": system, "value": code}, "display": self.name}
        if value is None:
            return {"display": self.name}
        if isinstance(value, str) and value.count("/") == 1:
            return {"reference": value}
        if isinstance(value, dict) and value:
            return dict(value)
        raise ConfigError(
            f"partner {self.name}: key 'owner' must be 'Organization/<id>' or a Reference table",
            code="E166",
        )

    # -- the outbox's Deliverer ------------------------------------------------

    def attempt(self, item: OutboxItem) -> HttpResult:
        """One HTTP call; a transaction-response is checked entry by entry.

        Some servers process a transaction entry by entry and answer 200 with
        a failed entry inside; such an answer is not a delivery: a failed entry
        with a 5xx is retried, any other failure is dead-lettered with the
        entry's OperationOutcome in plain words.
        """
        body = item.payload if item.method in ("POST", "PUT", "PATCH") else None
        result = self.transport.request(
            item.method,
            item.path,
            body=body,
            content_type=item.content_type,
            headers={"X-Request-Id": item.idempotency_key[:200]},
        )
        if item.kind != "referral":
            return result
        if result.verdict == "retry" and result.status is None:
            # No answer: a timeout or a reset may come after the hospital processed it.
            return replace(result, verdict="uncertain",
                           error=MSG_NO_ANSWER.format(error=result.error))  # fmt: skip
        if result.verdict != "delivered":
            return result
        return _check_entries(self.name, result, item.payload)

    def reconcile(self, item: OutboxItem) -> HttpResult | None:
        """Search the hospital for what an uncertain transaction created.

        Every conditionally created entry is searched by its ``ifNoneExist``
        (our identifiers). When the Task, ServiceRequest and Patient are each
        found once, the answer is a transaction-response made of what was
        found (``delivered``); when the Task is not there, None (send again:
        the conditional creates make a resend harmless); when the hospital
        cannot be searched, ``uncertain``.
        """
        if item.kind != "referral":
            return None
        bundle = orjson.loads(item.payload)
        entries: list[dict[str, Any]] = []
        found_types: set[str] = set()
        seconds = 0.0
        for entry in bundle.get("entry") or []:
            request = entry.get("request") or {}
            rtype = (entry.get("resource") or {}).get("resourceType")
            cond = request.get("ifNoneExist")
            if request.get("method") != "POST" or not cond:
                entries.append({"response": {"status": "200 OK"}})
                continue
            res = self.get(f"{request.get('url')}?{cond}")
            seconds += res.seconds
            if res.verdict != "delivered":
                error = MSG_SEARCH.format(partner=self.name, error=res.error)
                return replace(res, verdict="uncertain", error=error)
            try:
                hits = [e.get("resource") or {} for e in (res.json() or {}).get("entry") or []]
            except ValueError:
                return HttpResult("uncertain", res.status, MSG_SEARCH.format(
                    partner=self.name, error="the answer is not FHIR JSON"))  # fmt: skip
            hits = [h for h in hits if h.get("resourceType") == rtype and h.get("id")]
            if len(hits) != 1:
                if rtype == "Task" or rtype in PROVEN:
                    return None  # not there (or not ours alone): send again
                entries.append({"response": {"status": "404 Not Found"}})
                continue
            found_types.add(str(rtype))
            hit = hits[0]
            version = (hit.get("meta") or {}).get("versionId") or "1"
            entries.append(
                {
                    "resource": hit,
                    "response": {
                        "status": "200 OK",
                        "location": f"{rtype}/{hit['id']}/_history/{version}",
                    },
                }
            )
        if not all(t in found_types for t in PROVEN):
            return None
        answer = {"resourceType": "Bundle", "type": "transaction-response", "entry": entries}
        return HttpResult("delivered", 200, None, orjson.dumps(answer), {}, seconds=seconds)

    # -- reads (polling, outcomes) --------------------------------------------

    def get(self, path: str) -> HttpResult:
        return self.transport.request("GET", path)

    def close(self) -> None:
        self.transport.close()


def _check_entries(partner: str, result: HttpResult, sent: bytes) -> HttpResult:
    """A 2xx answer to a referral transaction: delivered only when it proves it."""
    try:
        answer = result.json()
    except ValueError:
        answer = None
        error = MSG_NOT_JSON.format(partner=partner, status=result.status)
        return replace(result, verdict="uncertain", error=error)
    if (
        not isinstance(answer, dict)
        or answer.get("resourceType") != "Bundle"
        or answer.get("type") != "transaction-response"
    ):
        error = MSG_NOT_RESPONSE.format(partner=partner, status=result.status)
        return replace(result, verdict="uncertain", error=error)
    worst: tuple[int, str] | None = None
    for n, entry in enumerate(answer.get("entry") or []):
        response = (entry or {}).get("response") or {}
        try:
            status = int(str(response.get("status", "0")).split()[0])
        except ValueError:
            status = 0
        if status >= 400 and (worst is None or status > worst[0]):
            said = summarise_outcome(response.get("outcome")) or "no details given"
            worst = (status, f"entry {n + 1} answered {status}: {said}")
    if worst is None:
        missing = _unlocated(answer, sent)
        if missing:
            error = MSG_UNLOCATED.format(partner=partner, what=", ".join(missing))
            return replace(result, verdict="uncertain", error=error)
        return result
    verdict: Literal["retry", "fatal"] = "retry" if worst[0] >= 500 else "fatal"
    return replace(
        result, verdict=verdict, error=f"{partner} did not take the referral: {worst[1]}"
    )


def _located(entry: Any) -> bool:
    response = (entry or {}).get("response") or {}
    resource = (entry or {}).get("resource") or {}
    return bool(response.get("location") or (resource.get("id") and resource.get("resourceType")))


def _unlocated(answer: dict[str, Any], sent: bytes) -> list[str]:
    """The Patient, ServiceRequest and Task sent that the answer does not locate."""
    request = orjson.loads(sent)
    sent_entries = request.get("entry") or []
    got = answer.get("entry") or []
    missing = []
    for n, entry in enumerate(sent_entries):
        rtype = (entry.get("resource") or {}).get("resourceType")
        if rtype in PROVEN and (n >= len(got) or not _located(got[n])):
            missing.append(str(rtype))
    return missing


@hookimpl
def interop_register_partner_kinds(register: Any) -> None:
    register(KIND, HospitalFhir)


@hookimpl
def interop_plugin_info() -> dict[str, Any]:
    return {
        "name": "hospital-fhir",
        "summary": "hospital referral over FHIR REST: transaction Bundle, Task polling, outcomes",
    }
