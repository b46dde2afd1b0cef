"""Scheduled civil-affairs feeds (定时名单同步): the partners' list feeds on their cadence.

A partner of the configuration whose kind provides a list feed (the built-in
``civil-affairs`` one, or a plugin's) and that names its feed ``url`` is synced by the
console's job every ``sync_minutes`` (default 1440: daily; 0: not scheduled)::

    [partners.ca-nanchang]
    kind = "civil-affairs"
    url = "https://…/children"
    sync_minutes = 60           # the cadence
    full = true                 # each fetch is the whole list (default false: changes since)
    allow_delist = "5%"         # with full: the --full guard's limit (default 10 %)

An incremental feed is one call of the entry point ``interop sync --partner NAME`` uses
(:func:`interop.inbound.run.sync_partner_feed`). A full list is fetched whole through the
plugin's feed (:class:`interop.exchange.transport.Feed`) into a private temporary NDJSON
file and synced with ``--full`` through :func:`interop.inbound.run.sync_list_file`: the
guard of ``interop sync FILE --full`` decides, so a short list never delists past it.
A refusal or failure is the job's error (:class:`~interop._errors.JobError`), shown on
后台任务 and, with the run it recorded, on 名单同步.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from interop._errors import ConfigError, InteropError, JobError
from interop.config import Config
from interop.core.delisting import DelistLimit
from interop.core.workdays import today
from interop.inbound.prepare import SyncOptions
from interop.store.archive import Archive

__all__ = ["DEFAULT_SYNC_MINUTES", "ScheduledFeed", "scheduled_feeds", "sync_feed"]

#: A declared feed without ``sync_minutes`` is synced once a day.
DEFAULT_SYNC_MINUTES = 1440.0

MSG_BAD = "partner {name}: '{key}' must be {what}"
MSG_NOT_DONE = "feed {name}: sync {status}: {message}"


@dataclass(frozen=True, slots=True)
class ScheduledFeed:
    """One partner's feed as the job runs it."""

    partner: str
    every_minutes: float
    full: bool = False
    allow_delist: str | None = None
    mapping: str | None = None


def scheduled_feeds(config: Config, feed_kinds: Iterable[str]) -> list[ScheduledFeed]:
    """The feeds of ``config`` to run on a cadence (kinds in ``feed_kinds`` with a ``url``)."""
    kinds = set(feed_kinds)
    out: list[ScheduledFeed] = []
    for p in config.partners.values():
        if p.kind not in kinds or not p.settings.get("url"):
            continue
        s = p.settings
        minutes = s.get("sync_minutes", DEFAULT_SYNC_MINUTES)
        if isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes < 0:
            raise ConfigError(
                MSG_BAD.format(name=p.name, key="sync_minutes", what="a number of minutes"),
                code="E851",
            )
        full = s.get("full", False)
        if not isinstance(full, bool):
            raise ConfigError(
                MSG_BAD.format(name=p.name, key="full", what="true or false"), code="E851"
            )
        allow = s.get("allow_delist")
        if allow is not None:
            try:
                DelistLimit.parse(str(allow))
            except InteropError:
                raise ConfigError(
                    MSG_BAD.format(name=p.name, key="allow_delist", what="N or P%"), code="E851"
                ) from None
        if minutes == 0:
            continue
        mapping = s.get("mapping")
        out.append(
            ScheduledFeed(
                p.name,
                float(minutes),
                full=full,
                allow_delist=None if allow is None else str(allow),
                mapping=str(mapping) if mapping else None,
            )
        )
    return out


def sync_options(config: Config, org_code: str | None) -> SyncOptions:
    """The options ``interop sync`` takes from the ``[sync]`` table (received today), in
    one process (a fork beside the console's threads could inherit a held lock)."""
    section = config.raw.get("sync", {})
    agreement = section.get("agreement_date")
    try:
        agreed = dt.date.fromisoformat(str(agreement)) if agreement else None
    except ValueError:
        raise ConfigError("[sync] agreement_date: not a date YYYY-MM-DD", code="E851") from None
    return SyncOptions(
        received=today(),
        agreement_date=agreed,
        case_prefix=str(org_code or section.get("org_code") or "ORG"),
        contractor_id=str(section.get("contractor_id", "contractor")),
        contractor_name=str(section.get("contractor_name", "承接机构")),
        workers=0,  # in the console's process: no forked workers beside its threads
    )


def _url(archive: Archive) -> str:
    return archive.engine.url.render_as_string(hide_password=False)


def sync_feed(
    feed: ScheduledFeed, archive: Archive, config: Config, *, org_code: str | None = None
) -> dict[str, Any]:
    """One run of ``feed`` into ``archive``; the run's counts, or :class:`JobError`."""
    from interop.inbound import run

    options = sync_options(config, org_code)
    if feed.full:
        options = replace(options, full=True, delist_limit=DelistLimit.parse(feed.allow_delist))
        with tempfile.TemporaryDirectory(prefix="interop-feed-") as folder:
            # (mode 0700: the list holds personal data; removed when the sync is done)
            path = Path(folder) / f"{feed.partner}.ndjson"
            mapping = _fetch_whole(feed.partner, config, path)
            try:
                report = run.sync_list_file(
                    path, _url(archive), options, mapping_name=feed.mapping or mapping, fmt="ndjson"
                )
            except InteropError as exc:
                raise JobError(
                    MSG_NOT_DONE.format(name=feed.partner, status="refused", message=exc.message)
                ) from None
    else:
        report = run.sync_partner_feed(
            feed.partner, _url(archive), config, options, mapping_name=feed.mapping
        )
    if report.status != "completed":
        raise JobError(
            MSG_NOT_DONE.format(
                name=feed.partner, status=report.status, message=report.message or "-"
            )
        )
    data = report.to_json()
    keys = ("rows", "new", "changed", "unchanged", "delisted", "quarantined")
    return {k: data[k] for k in keys if k in data}


def _fetch_whole(partner: str, config: Config, path: Path) -> str | None:
    """Every page of the partner's feed (from the start) as NDJSON at ``path``; the
    feed's mapping name."""
    from interop.exchange.plugins import Plugins

    p = config.partner(partner)
    factory = Plugins().feeds().get(p.kind)
    if factory is None:
        raise ConfigError(f"feed {partner}: kind '{p.kind}' provides no list feed", code="E851")
    feed = factory(partner, {"kind": p.kind, **p.settings})
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for page in feed.pages(None):
                for record in page.records:
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return feed.mapping
    except InteropError as exc:
        raise JobError(
            MSG_NOT_DONE.format(name=partner, status="failed", message=exc.message)
        ) from None
    finally:
        feed.close()
