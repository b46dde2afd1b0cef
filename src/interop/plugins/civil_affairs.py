"""Built-in plugin: the civil-affairs child-list feed (民政部门困境儿童名单, paged HTTP JSON).

Transport only (ARCHITECTURE): this plugin fetches pages; the engine
(:mod:`interop.inbound.feed`) maps, checks, reconciles and stores them.

The feed protocol::

    GET <url>?since=<cursor>&limit=<page_size>     Authorization: Bearer <token>
    200 {"records": [{…one child…}, …], "next_cursor": "…", "more": true|false}

``since`` is omitted on the very first run. Configuration (``--config``)::

    [partners.ca-nanchang]
    kind = "civil-affairs"
    url = "https://…/children"
    auth = { type = "bearer", token_env = "CA_NANCHANG_TOKEN" }  # secrets: environment only
    mapping = "civil-affairs-default"
    timeout = 10          # seconds per request
    retries = 3           # further tries on 5xx, timeouts and connection errors
    backoff = 0.5         # seconds, doubled after each failed try
    page_size = 500
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

from interop._errors import InputError
from interop._errors import PartnerError as PartnerError
from interop.config import Partner
from interop.exchange.hookspecs import hookimpl

log = logging.getLogger(__name__)

KIND = "civil-affairs"


@dataclass(frozen=True, slots=True)
class Page:
    """One page of the feed: its records and the cursor that follows it."""

    records: list[Any]
    next_cursor: str | None
    more: bool


class CivilAffairsFeed:
    """A paged JSON list feed with bounded retries."""

    def __init__(self, name: str, settings: dict[str, Any]) -> None:
        self.name = name
        url = settings.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise InputError(f"partner {name}: 'url' must be an http(s) URL", code="E150")
        self.url = url
        # Secrets only from the environment (auth.token_env), checked by interop.config.
        self.token = Partner(name, "civil-affairs", settings).bearer_token()
        self.timeout = float(settings.get("timeout", 10))
        self.retries = int(settings.get("retries", 3))
        self.backoff = float(settings.get("backoff", 0.5))
        self.page_size = int(settings.get("page_size", 500))
        self.mapping = settings.get("mapping")
        self.session = requests.Session()
        self.sleep: Callable[[float], None] = time.sleep

    def _get(self, cursor: str | None) -> Page:
        params: dict[str, str | int] = {"limit": self.page_size}
        if cursor is not None:
            params["since"] = cursor
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                resp = self.session.get(
                    self.url, params=params, headers=headers, timeout=self.timeout
                )
            except requests.Timeout:
                problem = f"no answer within {self.timeout:g} s"
            except requests.ConnectionError:
                problem = "connection failed"
            else:
                if resp.status_code >= 500:
                    problem = f"server error HTTP {resp.status_code}"
                elif resp.status_code != 200:
                    raise PartnerError(
                        f"partner {self.name}: HTTP {resp.status_code} "
                        f"({'check the token' if resp.status_code in (401, 403) else 'refused'})"
                    )
                else:
                    page = self._parse(resp)
                    if page is not None:
                        return page
                    problem = "malformed page (not the feed's JSON)"
            log.warning(
                "partner %s: %s (try %d of %d)", self.name, problem, attempt + 1, self.retries + 1
            )
        raise PartnerError(
            f"partner {self.name}: {problem} after {self.retries + 1} tries; the next run "
            "resumes from the last good page"
        )

    @staticmethod
    def _parse(resp: requests.Response) -> Page | None:
        try:
            data = resp.json()
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
                raise PartnerError(f"partner {self.name}: page says 'more' but gives no cursor")

    def close(self) -> None:
        self.session.close()


@hookimpl
def interop_register_partner_kinds(register: Callable[..., None]) -> None:
    register(KIND, CivilAffairsFeed)


@hookimpl
def interop_plugin_info() -> dict[str, Any]:
    return {"name": KIND, "summary": "civil-affairs child-list feed (paged HTTP JSON)"}
