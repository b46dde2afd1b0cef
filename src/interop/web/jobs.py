"""Background jobs of ``interop serve``: the outbox workers, referral polling, deadline
reminders and the partners' list feeds on their cadence, each with its last run, result and
error visible in the console (后台任务).

Each job is a thread calling the same library functions as ``interop outbox run``,
``interop referral poll``, ``interop cases due`` (:mod:`interop.casework.reminders`) and
``interop sync --partner`` (:mod:`interop.web.feed_jobs`), which still work from cron.
Stopping is graceful: no new run starts; a run in progress finishes its batch (a delivery
in flight completes or is released to the next worker by its lease).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from interop._errors import InteropError
from interop.web.context import Console

__all__ = ["Job", "Jobs"]

log = logging.getLogger(__name__)


@dataclass
class Job:
    name: str
    every: float  # seconds between runs
    work: Callable[[], Any]
    runs: int = 0
    last_started: str | None = None
    last_finished: str | None = None
    last_result: Any = None
    last_error: str | None = None
    errors: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run_once(self) -> None:
        with self._lock:
            self.last_started = _now()
            try:
                self.last_result = self.work()
                self.last_error = None
            except InteropError as exc:
                self.last_error, self.errors = exc.message, self.errors + 1
                log.warning("job %s: [%s] %s", self.name, exc.code, exc.message)
            except Exception as exc:  # a job must survive a partner's or a bug's failure
                self.last_error, self.errors = type(exc).__name__, self.errors + 1
                log.exception("job %s failed", self.name)
            self.runs += 1
            self.last_finished = _now()

    def state(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "every_seconds": self.every,
            "runs": self.runs,
            "last_started": self.last_started,
            "last_finished": self.last_finished,
            "last_result": self.last_result,
            "last_error": self.last_error,
            "errors": self.errors,
        }


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Jobs:
    """The jobs of one console, each on its own thread."""

    def __init__(self, jobs: list[Job]) -> None:
        self.jobs = jobs
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @classmethod
    def standard(
        cls,
        console: Console,
        *,
        outbox_every: float,
        poll_every: float,
        remind_every: float = 3600.0,
        remind_within: int | None = None,
        org_code: str | None = None,
    ) -> Jobs:
        """The outbox (deliver what is due), referral polling (partners due by their
        ``poll_minutes``), deadline reminders (every ``remind_every`` seconds, deadlines
        within ``remind_within`` days or overdue) and one job per scheduled feed."""
        from interop.casework.reminders import DEFAULT_WITHIN_DAYS, remind
        from interop.exchange.plugins import Plugins
        from interop.web.feed_jobs import ScheduledFeed, scheduled_feeds, sync_feed

        feeds = scheduled_feeds(console.config, Plugins().feeds())

        def outbox() -> dict[str, Any]:
            from interop.exchange.driver import Driver

            refs = console.referrals
            refs.sweep_reviews()
            with Driver(refs.discloser, outbox=refs.outbox, plugins=refs.plugins) as driver:
                summary = driver.run()
            refs.absorb_deliveries()
            return dict(summary.as_dict())

        def poll() -> dict[str, Any]:
            from interop.casework.outcomes import file_outcomes

            refs = console.referrals
            counts = dict(refs.poll())
            # What hospitals sent back joins the case records as new versions (9.2).
            filed = file_outcomes(refs.archive, calendar=refs.calendar)
            counts["case_versions"] = [f.as_dict() for f in filed]
            return counts

        def reminders() -> dict[str, Any]:
            now = console.now() if console.now is not None else dt.datetime.now(dt.UTC)
            within = DEFAULT_WITHIN_DAYS if remind_within is None else remind_within
            return remind(console.archive, now, within_days=within)

        def feed_job(feed: ScheduledFeed) -> Job:
            def work() -> dict[str, Any]:
                return sync_feed(feed, console.archive, console.config, org_code=org_code)

            return Job(f"feed:{feed.partner}", feed.every_minutes * 60, work)

        return cls(
            [
                Job("outbox", outbox_every, outbox),
                Job("referral-poll", poll_every, poll),
                Job("deadline-reminders", remind_every, reminders),
                *(feed_job(f) for f in feeds),
            ]
        )

    def start(self) -> None:
        for job in self.jobs:
            t = threading.Thread(target=self._loop, args=(job,), name=f"job-{job.name}")
            t.daemon = True
            t.start()
            self._threads.append(t)

    def _loop(self, job: Job) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            job.run_once()
            self._stop.wait(max(0.0, job.every - (time.monotonic() - started)))

    def stop(self, timeout: float = 30.0) -> None:
        """No new run; wait for runs in progress to finish."""
        self._stop.set()
        for t in self._threads:
            t.join(timeout)

    def states(self) -> list[dict[str, Any]]:
        return [j.state() for j in self.jobs]

    def feed_states(self) -> list[dict[str, Any]]:
        """The scheduled feeds' jobs (名单同步 shows their last error)."""
        return [j.state() for j in self.jobs if j.name.startswith("feed:")]
