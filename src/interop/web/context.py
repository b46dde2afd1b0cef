"""What the console works with: one archive, the partners configuration, and the library's
workflow objects (built once, when first needed: the engine takes a moment to load)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from interop.config import Config
from interop.staff.accounts import Accounts
from interop.staff.register import Register
from interop.store.archive import Archive
from interop.store.console import ConsoleQueries

if TYPE_CHECKING:
    from interop.engine import Engine
    from interop.exchange.driver import Handover
    from interop.exchange.outbox import Outbox
    from interop.privacy.disclosure import Discloser
    from interop.privacy.disclosure_model import Disclosure
    from interop.referral.lifecycle import Referrals
    from interop.staff.register import SignedIn

__all__ = ["Console"]


@dataclass
class Console:
    archive: Archive
    config: Config
    secure: bool = False
    #: "now" for the disclosure workflow (tests and demos pin it); None: the clock.
    now: Callable[[], dt.datetime] | None = None
    #: The background jobs when ``interop serve`` runs them (:class:`interop.web.jobs.Jobs`).
    jobs: Any = None
    #: The base of what is emitted (settings ``canonical_base``, D-77); None: ours.
    canonical_base: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _engine: Engine | None = None
    _discloser: Discloser | None = None
    _referrals: Referrals | None = None

    @property
    def accounts(self) -> Accounts:
        return Accounts(self.archive)

    @property
    def register(self) -> Register:
        return Register(self.archive)

    @property
    def queries(self) -> ConsoleQueries:
        return ConsoleQueries(self.archive)

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                from interop.engine import Engine

                self._engine = Engine(canonical_base=self.canonical_base)
            return self._engine

    @property
    def discloser(self) -> Discloser:
        engine = self.engine
        with self._lock:
            if self._discloser is None:
                from interop.privacy.disclosure import Discloser

                self._discloser = Discloser(
                    self.archive,
                    engine,
                    self.config,
                    now=self.now,
                    authority=Register(self.archive).active_roles,
                )
            return self._discloser

    @property
    def referrals(self) -> Referrals:
        discloser = self.discloser
        with self._lock:
            if self._referrals is None:
                from interop.referral.lifecycle import Referrals

                self._referrals = Referrals(
                    self.archive, self.config, engine=discloser.engine, discloser=discloser
                )
                # An approval in the console queues the referral waiting on it, at once.
                self._referrals.listen(self._referrals.plugins)
            return self._referrals

    def approve(
        self, person: SignedIn, disclosure_id: str, *, send: bool = True
    ) -> tuple[Disclosure, Handover | None]:
        """A signed-in reviewer's approval; the approved disclosure is handed over."""
        from interop.exchange import review
        from interop.exchange.driver import Driver

        refs = self.referrals
        with Driver(self.discloser, outbox=refs.outbox, plugins=refs.plugins) as driver:
            return review.approve(driver, person, disclosure_id, send=send)

    @property
    def outbox(self) -> Outbox:
        from interop.exchange.outbox import Outbox

        return Outbox(self.archive)

    def close(self) -> None:
        if self._referrals is not None:
            self._referrals.close()
