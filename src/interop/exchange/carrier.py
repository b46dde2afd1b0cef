"""The carrier of a disclosure: HTTP POST of the filtered Bundle, or a file drop.

One :class:`~interop.exchange.transport.Transport` for every partner kind
that takes disclosures as they are (school, civil affairs, community): the
item's exact bytes go to the partner's endpoint over the one HTTP transport
(:mod:`interop.exchange.http`), or into a folder for manual transfer. One
attempt per call; the outbox retries on the partner's one
:class:`~interop.exchange.retry.RetryPolicy`.

Configuration (``--config``)::

    [partners.school-mingde]
    kind = "school"
    url = "https://school.example.org/interop/inbox"   # POST the Bundle here
    # or: base_url = "https://fhir.school.example.org/fhir"  → POST {base_url}/Bundle
    # or: out_dir = "outbox/mingde"   # write disclosure-<id>.json for manual transfer
    auth = { type = "bearer", token_env = "SCHOOL_MINGDE_TOKEN" }
    timeout = 15          # seconds per attempt
    max_attempts = 8      # then the delivery is dead-lettered (or: retries = 7)
    retry_base = 2        # seconds before the 2nd attempt, doubled after (or: backoff = 2)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interop._errors import InputError
from interop.exchange.http import FHIR_JSON, HttpResult, HttpTransport, bearer_token, split_url
from interop.exchange.retry import RetryPolicy
from interop.i18n import N_

if TYPE_CHECKING:
    from interop.exchange.outbox import OutboxItem
    from interop.exchange.transport import TransportFactory

__all__ = ["BundleCarrier", "Endpoints", "carrier_factory"]

#: Keys every carrier understands besides its endpoint keys.
COMMON_KEYS = frozenset(
    {
        "auth",
        "timeout",
        "connect_timeout",
        "max_attempts",
        "retry_base",
        "retry_cap",
        "retries",
        "backoff",
        "note",
    }
)

MSG_UNKNOWN_KEY = N_("partner {name}: unknown key '{key}' for kind {kind}")
MSG_ONE_ENDPOINT = N_("partner {name}: give exactly one of {keys} to deliver disclosures to")
MSG_NOT_NUMBERS = N_("partner {name}: 'timeout' and 'connect_timeout' must be positive numbers")
MSG_CANNOT_WRITE = N_("cannot write to the out_dir of {name} ({why})")


@dataclass(frozen=True, slots=True)
class Endpoints:
    """The keys of a kind's configuration that say where disclosures go.

    ``url``: POST to this URL; ``base_url``: POST to ``{base_url}/Bundle``
    (a FHIR server); ``out_dir``: a folder. ``extra``: keys of the kind that
    are not the carrier's (a civil-affairs feed's ``url``, ``page_size`` …).
    """

    url: str = "url"
    base_url: str = "base_url"
    out_dir: str = "out_dir"
    extra: frozenset[str] = frozenset()


class BundleCarrier:
    """POSTs an item's exact bytes to the partner, or writes them into its folder."""

    def __init__(
        self,
        name: str,
        kind: str,
        settings: Mapping[str, Any],
        endpoints: Endpoints = Endpoints(),
    ) -> None:
        self.name = name
        known = COMMON_KEYS | endpoints.extra
        known |= {endpoints.url, endpoints.base_url, endpoints.out_dir}
        for key in settings:
            if key not in known:
                raise InputError(MSG_UNKNOWN_KEY.format(name=name, key=key, kind=kind), code="E611")
        url = settings.get(endpoints.url)
        base = settings.get(endpoints.base_url)
        out_dir = settings.get(endpoints.out_dir)
        if sum(x is not None for x in (url, base, out_dir)) != 1:
            keys = f"'{endpoints.url}', '{endpoints.base_url}' or '{endpoints.out_dir}'"
            raise InputError(MSG_ONE_ENDPOINT.format(name=name, keys=keys), code="E611")
        self.retry = RetryPolicy.from_settings(settings)
        self.out_dir = Path(str(out_dir)) if out_dir is not None else None
        self.transport: HttpTransport | None = None
        self.path = ""
        if self.out_dir is not None:
            return
        try:
            timeout = float(settings.get("timeout", 15))
            connect = float(settings.get("connect_timeout", 5))
        except (TypeError, ValueError):
            timeout = connect = -1.0
        if timeout <= 0 or connect <= 0:
            raise InputError(MSG_NOT_NUMBERS.format(name=name), code="E611")
        if url is not None:
            endpoint, self.path = split_url(str(url))
        else:
            endpoint, self.path = str(base), "Bundle"
        token = bearer_token(name, kind, settings)
        self.transport = HttpTransport(
            name, endpoint, token=token, timeout=timeout, connect_timeout=connect
        )

    def attempt(self, item: OutboxItem) -> HttpResult:
        """One attempt: POST the payload, or write it to ``disclosure-<ref>.json``."""
        if self.out_dir is not None:
            return self._write(item)
        assert self.transport is not None
        return self.transport.request(
            "POST",
            self.path,
            body=item.payload,
            content_type=item.content_type or FHIR_JSON,
            headers={
                "X-Request-Id": item.idempotency_key[:200],
                "X-Disclosure-Id": item.ref or "",
                "X-Payload-SHA256": item.sha256,
            },
        )

    def _write(self, item: OutboxItem) -> HttpResult:
        assert self.out_dir is not None
        final = self.out_dir / f"disclosure-{item.ref or item.id}.json"
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            tmp = final.with_suffix(".json.part")
            tmp.write_bytes(item.payload)
            os.replace(tmp, final)  # whole or not at all: a reader never sees half a file
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            return HttpResult("retry", error=MSG_CANNOT_WRITE.format(name=self.name, why=why))
        return HttpResult("delivered", headers={"location": str(final)})

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def carrier_factory(kind: str, endpoints: Endpoints = Endpoints()) -> TransportFactory:
    """The :class:`TransportFactory` of a kind whose partners get a :class:`BundleCarrier`."""

    def factory(name: str, settings: Mapping[str, Any]) -> BundleCarrier:
        return BundleCarrier(name, kind, settings, endpoints)

    factory.__name__ = factory.__qualname__ = f"{kind.replace('-', '_')}_carrier"
    return factory
