"""Syncing a partner's paged list feed (``interop sync --partner NAME``).

The partner's kind comes from a plugin (the built-in ``civil-affairs`` one or a
third party's), which only fetches pages. Each page is one batch, its cursor
stored in the same transaction as its rows: a page that fails after its retries
stops the run cleanly, and the next run resumes from the last good cursor.
Duplicates are looked for within each page.
"""

from __future__ import annotations

import logging

from interop._errors import InputError, InteropError
from interop.config import Config
from interop.core.workdays import WorkCalendar
from interop.inbound.classify import duplicates_in
from interop.inbound.mapping import CodeLookup, InboundMapping
from interop.inbound.prepare import Preparer, SyncOptions
from interop.inbound.reconcile import Reconciler, SyncReport
from interop.inbound.rows import RowKeys
from interop.inbound.source import object_row
from interop.store.archive import Archive

log = logging.getLogger(__name__)


def sync_partner(
    archive: Archive,
    name: str,
    config: Config,
    terms: CodeLookup,
    calendar: WorkCalendar,
    options: SyncOptions,
    *,
    mapping_name: str | None = None,
) -> SyncReport:
    if options.full:
        raise InputError("--full applies to list files, not to incremental feeds", code="E154")
    from interop.exchange.plugins import Plugins

    partner = config.partner(name)
    feed = Plugins().feed(name, partner.kind, partner.settings)
    mapping = InboundMapping.load(mapping_name or feed.mapping)
    cursor = archive.cursor(name)
    preparer, keys = Preparer(mapping, terms, options), RowKeys(mapping)
    source = f"partner:{name}"
    rec = Reconciler(
        archive, mapping, preparer.parts, calendar, options, source=source, partner=name
    )
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
    finally:
        feed.close()
    return rec.finish()
