"""Built-in plugin: hospitals over FHIR REST (partner kind ``hospital-fhir``).

Transport only (ARCHITECTURE): this plugin knows the hospital's base URL,
credentials and cadence, makes one HTTP call per outbox attempt and reads
Tasks and outcomes back. The referral logic — the transaction Bundle from
the disclosure's filtered Bundle, the Task state machine, follow-up — is in
:mod:`interop.referral`. Configuration (``--config``)::

    [partners.jx-childrens-hospital]
    kind = "hospital-fhir"
    base_url = "https://fhir.hospital.example/R4/"
    auth = { type = "bearer", token_env = "JXCH_TOKEN" }   # or { type = "none" }
    owner = "Organization/jxch"     # the hospital's Organization at its server (Task.owner)
    poll_minutes = 60               # 15 or more (SDOH Clinical Care IG); default 60
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

from interop.config import ConfigError, Partner
from interop.exchange.hookspecs import hookimpl
from interop.exchange.http import HttpResult, HttpTransport, summarise_outcome

if TYPE_CHECKING:
    from interop.exchange.outbox import OutboxItem

log = logging.getLogger(__name__)

KIND = "hospital-fhir"
MIN_POLL_MINUTES = 15
DEFAULT_POLL_MINUTES = 60
DEFAULT_ACCEPT_WITHIN = 5


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
        partner = Partner(name=name, kind=KIND, settings=self.settings)
        base_url = partner.url
        if not base_url:
            raise ConfigError(f"partner {name}: key 'base_url' is missing", code="E166")
        self.poll_minutes = _number(name, settings, "poll_minutes", DEFAULT_POLL_MINUTES)
        if self.poll_minutes < MIN_POLL_MINUTES:
            raise ConfigError(
                f"partner {name}: key 'poll_minutes' must be {MIN_POLL_MINUTES} or more "
                "(never poll a hospital more often than every 15 minutes)",
                code="E166",
            )
        within = _number(name, settings, "accept_within_days", DEFAULT_ACCEPT_WITHIN)
        self.accept_within_days = int(within)
        self.owner = self._owner(settings.get("owner"))
        # imported here: loading the plugin (every command does) needs no database library
        from interop.exchange.outbox import RetryPolicy

        self.retry = RetryPolicy.from_settings(settings)
        self.transport = HttpTransport(
            name,
            base_url,
            token=partner.bearer_token(),
            timeout=_number(name, settings, "timeout", 30.0),
            connect_timeout=_number(name, settings, "connect_timeout", 5.0),
        )

    def _owner(self, value: Any) -> dict[str, Any]:
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
        if result.verdict != "delivered" or item.kind != "referral":
            return result
        return _check_entries(self.name, result)

    # -- reads (polling, outcomes) --------------------------------------------

    def get(self, path: str) -> HttpResult:
        return self.transport.request("GET", path)

    def close(self) -> None:
        self.transport.close()


def _check_entries(partner: str, result: HttpResult) -> HttpResult:
    try:
        answer = result.json()
    except ValueError:
        return replace(result, verdict="fatal", error=f"{partner} answered 2xx without FHIR JSON")
    if not isinstance(answer, dict) or answer.get("resourceType") != "Bundle":
        return replace(
            result, verdict="fatal", error=f"{partner} did not answer with a transaction-response"
        )
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
        return result
    verdict: Literal["retry", "fatal"] = "retry" if worst[0] >= 500 else "fatal"
    return replace(
        result, verdict=verdict, error=f"{partner} did not take the referral: {worst[1]}"
    )


@hookimpl
def interop_register_partner_kinds(register: Any) -> None:
    register(KIND, HospitalFhir)


@hookimpl
def interop_after_approval(disclosure: Any) -> None:
    """Queue the referral waiting on ``disclosure`` now that a supervisor approved it."""
    if getattr(disclosure, "partner_kind", None) != KIND:
        return
    from interop.referral.lifecycle import queue_after_approval

    queue_after_approval(disclosure)


@hookimpl
def interop_plugin_info() -> dict[str, Any]:
    return {
        "name": "hospital-fhir",
        "summary": "hospital referral over FHIR REST: transaction Bundle, Task polling, outcomes",
    }
