"""What a plugin implements: the typed contracts between exchange and partner plugins.

Plugins only carry bytes (ARCHITECTURE, one road): exchange hands a
:class:`Transport` one outbox item at a time — the exact, already filtered,
labelled, validated and audited payload with its key, partner and kind — and
the transport makes one attempt and says what happened. A :class:`Feed`
fetches a partner's list pages; the engine maps and stores them. Plugins
register factories for these through the hooks of
:mod:`interop.exchange.hookspecs`; docs/plugins.md shows a whole plugin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from interop.exchange.http import HttpResult
from interop.exchange.retry import RetryPolicy

if TYPE_CHECKING:
    from interop.store.outbox import OutboxItem

__all__ = [
    "Feed",
    "FeedFactory",
    "HttpResult",
    "Page",
    "RegisterFeed",
    "RegisterFormat",
    "RegisterPartnerKind",
    "Transport",
    "TransportFactory",
]


class Transport(Protocol):
    """A partner's carrier: one attempt per outbox item, and the partner's retry policy.

    ``attempt`` never raises for network or partner trouble: it answers an
    :class:`~interop.exchange.http.HttpResult` whose verdict is ``delivered``,
    ``retry`` (the outbox tries again on ``retry``'s schedule) or ``fatal``
    (dead-lettered at once). The outbox writes the item before any attempt.
    """

    retry: RetryPolicy

    def attempt(self, item: OutboxItem) -> HttpResult:
        """Make one attempt to deliver ``item``."""
        ...

    def close(self) -> None:
        """Free connections; called once when a run is over."""
        ...


class TransportFactory(Protocol):
    """Builds the transport of one configured partner (``[partners.NAME]``)."""

    def __call__(self, name: str, settings: Mapping[str, Any]) -> Transport: ...


class RegisterPartnerKind(Protocol):
    """The ``register`` callback of ``interop_register_partner_kinds``.

    ``disclosures=True``: the kind takes disclosures as they are — the
    filtered Bundle of an approved disclosure is queued for it as one item of
    kind ``disclosure``. A kind that wraps disclosures in its own messages
    (the hospital referral's transaction Bundle) queues its items itself.
    """

    def __call__(
        self, kind: str, factory: TransportFactory, *, disclosures: bool = False
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a partner's list feed: its records and the cursor that follows it."""

    records: list[Any]
    next_cursor: str | None
    more: bool


class Feed(Protocol):
    """A partner's paged list feed (民政部门困境儿童名单 and the like); inbound only."""

    #: The inbound mapping to read its records with (None: the default).
    mapping: str | None

    def pages(self, cursor: str | None) -> Iterator[Page]:
        """Pages from ``cursor`` on, until the feed says there are no more."""
        ...

    def close(self) -> None: ...


class FeedFactory(Protocol):
    """Builds the feed of one configured partner."""

    def __call__(self, name: str, settings: Mapping[str, Any]) -> Feed: ...


class RegisterFeed(Protocol):
    """The ``register`` callback of ``interop_register_feeds``."""

    def __call__(self, kind: str, factory: FeedFactory) -> None: ...


class RegisterFormat(Protocol):
    """The ``register`` callback of ``interop_register_formats``."""

    def __call__(
        self, name: str, media_type: str, dumps: Callable[[dict[str, Any]], bytes]
    ) -> None: ...
