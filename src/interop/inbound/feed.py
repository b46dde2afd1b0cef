"""Syncing a partner's paged list feed (``interop sync --partner NAME``).

The partner's kind comes from a plugin (the built-in ``civil-affairs`` one or a
third party's), which only fetches pages. Each page is one batch, its cursor
stored in the same transaction as its rows: a page that fails after its retries
stops the run cleanly, and the next run resumes from the last good cursor.
Duplicates are looked for within each page.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from interop._errors import InputError, InteropError
from interop.config import Config
from interop.core.workdays import WorkCalendar
from interop.fhir.terminology import Terminology
from interop.inbound.classify import duplicates_in
from interop.inbound.mapping import InboundMapping
from interop.inbound.prepare import Preparer, SyncOptions
from interop.inbound.reconcile import Reconciler, SyncReport
from interop.inbound.rows import RowKeys
from interop.inbound.source import object_row
from interop.store.archive import Archive

if TYPE_CHECKING:
    from interop.exchange.transport import Feed

log = logging.getLogger(__name__)


def sync_partner_feed(
    name: str,
    db: str | None,
    config: Config,
    options: SyncOptions,
    *,
    mapping_name: str | None = None,
) -> SyncReport:
    """Pull partner ``name``'s feed into the archive at ``db``, a page per batch."""
    if options.full:
        raise InputError("--full applies to list files, not to incremental feeds", code="E154")
    from interop.exchange.plugins import Plugins

    partner = config.partner(name)
    feed = Plugins().feed(name, partner.kind, partner.settings)
    try:
        with Archive.open(db) as archive:
            return _sync(archive, feed, name, options, mapping_name)
    finally:
        feed.close()


def _sync(
    archive: Archive, feed: Feed, name: str, options: SyncOptions, mapping_name: str | None
) -> SyncReport:
    mapping = InboundMapping.load(mapping_name or feed.mapping)
    preparer, keys = Preparer(mapping, Terminology.load(), options), RowKeys(mapping)
    calendar, cursor = WorkCalendar.load(), archive.cursor(name)
    rec = Reconciler(archive, preparer, calendar, source=f"partner:{name}", partner=name)
    offset = 0
    try:
        with rec.recording(say_why=True):
            for page in feed.pages(cursor):
                rows = [object_row(offset + i + 1, r) for i, r in enumerate(page.records)]
                offset += len(rows)
                preparer.duplicates = duplicates_in(rows, keys)
                for row in rows:
                    if row.problem is None:
                        rec.check_columns(row.values)
                advance = (name, page.next_cursor) if page.next_cursor is not None else None
                rec.commit([preparer.prepare(r, fresh=False) for r in rows], cursor=advance)
    except InteropError as exc:
        if exc.exit_code != 1:  # unusable input: not a partner failure (the run is closed)
            raise
        log.warning("%s", exc.message)  # a partner failure: the run stops, the command ends
        return rec.report
    return rec.finish()
