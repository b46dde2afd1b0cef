"""Built-in plugin: civil affairs (民政部门) — the child-list feed in, oversight shares out.

Transport only (ARCHITECTURE). **In**: this plugin fetches pages of the
困境儿童名单 feed; the engine (:mod:`interop.inbound.run`) maps, checks,
reconciles and stores them. **Out**: exchange queues an approved
``ca-oversight`` disclosure in the outbox and this plugin POSTs its exact
bytes to ``share_url`` (or ``{share_base_url}/Bundle``) or drops them in
``out_dir`` (:mod:`interop.exchange.carrier`).

The feed protocol::

    GET <url>?since=<cursor>&limit=<page_size>     Authorization: Bearer <token>
    200 {"records": [{…one child…}, …], "next_cursor": "…", "more": true|false}

``since`` is omitted on the very first run. Configuration (``--config``)::

    [partners.ca-nanchang]
    kind = "civil-affairs"
    url = "https://…/children"            # the list feed
    share_url = "https://…/oversight"     # where oversight shares go (or share_base_url, out_dir)
    auth = { type = "bearer", token_env = "CA_NANCHANG_TOKEN" }  # secrets: environment only
    mapping = "civil-affairs-default"
    timeout = 10          # seconds per request
    max_attempts = 4      # feed pages: tries in this run; shares: outbox attempts
    retry_base = 0.5      # seconds, doubled after each failed try
    page_size = 500
    sync_minutes = 60     # `interop serve` syncs the feed on this cadence (default daily)
    full = false          # true: each fetch is the whole list (the --full guard applies)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from interop._errors import InputError
from interop._errors import PartnerError as PartnerError
from interop.exchange.carrier import Endpoints, carrier_factory
from interop.exchange.hookspecs import hookimpl
from interop.exchange.http import HttpResult, HttpTransport, bearer_token, split_url
from interop.exchange.retry import RetryPolicy, with_retries
from interop.exchange.transport import Page, RegisterFeed, RegisterPartnerKind

log = logging.getLogger(__name__)

KIND = "civil-affairs"
#: Keys of the feed, which the share carrier leaves alone.
FEED_KEYS = frozenset(
    {"url", "mapping", "page_size", "kind", "sync_minutes", "full", "allow_delist"}
)
SHARE_ENDPOINTS = Endpoints(
    url="share_url", base_url="share_base_url", out_dir="out_dir", extra=FEED_KEYS
)

MSG_NO_URL = "partner {name}: 'url' must be an http(s) URL"
MSG_NOT_NUMBERS = "partner {name}: 'timeout' and 'page_size' must be positive numbers"
MSG_REFUSED = "partner {name}: HTTP {status} ({hint})"
MSG_MALFORMED = "malformed page (not the feed's JSON)"
MSG_GAVE_UP = (
    "partner {name}: {problem} after {tries} tries; the next run resumes from the last good page"
)
MSG_NO_CURSOR = "partner {name}: page says 'more' but gives no cursor"


class CivilAffairsFeed:
    """A paged JSON list feed over the one HTTP transport, on the partner's retry policy."""

    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        url = settings.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise InputError(MSG_NO_URL.format(name=name), code="E150")
        try:
            timeout = float(settings.get("timeout", 10))
            self.page_size = int(settings.get("page_size", 500))
        except (TypeError, ValueError):
            timeout, self.page_size = -1.0, -1
        if timeout <= 0 or self.page_size <= 0:
            raise InputError(MSG_NOT_NUMBERS.format(name=name), code="E150")
        self.retry = RetryPolicy.from_settings(settings, RetryPolicy(max_attempts=4, base=0.5))
        mapping = settings.get("mapping")
        self.mapping: str | None = str(mapping) if mapping else None
        # Secrets only from the environment (auth.token_env), checked at configuration load.
        token = bearer_token(name, KIND, settings)
        base, self.path = split_url(url)
        self.transport = HttpTransport(name, base, token=token, timeout=timeout)
        self.transport.session.headers["Accept"] = "application/json"
        self.sleep: Callable[[float], None] = time.sleep

    def _get(self, cursor: str | None) -> Page:
        params: dict[str, str | int] = {"limit": self.page_size}
        if cursor is not None:
            params["since"] = cursor
        pages: list[Page] = []

        def attempt() -> HttpResult:
            result = self.transport.request("GET", self.path, params=params)
            if result.verdict != "delivered":
                return result
            page = _parse(result)
            if page is None:
                return HttpResult("retry", result.status, MSG_MALFORMED)
            pages.append(page)
            return result

        result, tries = with_retries(
            attempt, self.retry, sleep=self.sleep, what=f"partner {self.name}"
        )
        if result.verdict == "delivered" and pages:
            return pages[-1]
        if result.verdict == "fatal":
            hint = "check the token" if result.status in (401, 403) else "refused"
            raise PartnerError(MSG_REFUSED.format(name=self.name, status=result.status, hint=hint))
        problem = result.error or "no answer"
        raise PartnerError(MSG_GAVE_UP.format(name=self.name, problem=problem, tries=tries))

    def pages(self, cursor: str | None) -> Iterator[Page]:
        """Pages from ``cursor`` on, until the feed says there are no more."""
        while True:
            page = self._get(cursor)
            yield page
            if page.next_cursor is not None:
                cursor = page.next_cursor
            if not page.more:
                return
            if page.next_cursor is None:
                raise PartnerError(MSG_NO_CURSOR.format(name=self.name))

    def close(self) -> None:
        self.transport.close()


def _parse(result: HttpResult) -> Page | None:
    try:
        data = result.json()
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("records"), list):
        return None
    nxt = data.get("next_cursor")
    if nxt is not None and not isinstance(nxt, str | int):
        return None
    more = data.get("more", False)
    if not isinstance(more, bool):
        return None
    return Page(data["records"], None if nxt is None else str(nxt), more)


@hookimpl
def interop_register_partner_kinds(register: RegisterPartnerKind) -> None:
    register(KIND, carrier_factory(KIND, SHARE_ENDPOINTS), disclosures=True)


@hookimpl
def interop_register_feeds(register: RegisterFeed) -> None:
    register(KIND, CivilAffairsFeed)


@hookimpl
def interop_plugin_info() -> dict[str, Any]:
    return {
        "name": KIND,
        "summary": "civil affairs: child-list feed (paged HTTP JSON) in, oversight shares out",
    }
