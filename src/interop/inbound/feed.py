"""Syncing a partner's paged list feed (``interop sync --partner NAME``).

The partner kind comes from a plugin (the built-in ``civil-affairs`` one or a
third party's); the plugin only fetches pages. Each page is one batch, and the
feed's cursor is stored in the same transaction as the page's rows: a page
that fails after its retries stops the run cleanly, and the next run resumes
from the last good cursor. Duplicates are looked for within each page.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from interop.exchange.transport import Feed

log = logging.getLogger(__name__)


def partner_feed(name: str, config: Config) -> Feed:
    """Build the feed object of partner ``name`` through the plugin manager."""
    partner = config.partner(name)
    from interop.exchange.plugins import Plugins

    plugins = Plugins()
    feeds = plugins.feeds()
    factory = feeds.get(partner.kind)
    if factory is not None:
        return factory(name, {"kind": partner.kind, **partner.settings})
    if partner.kind in plugins.partner_kinds():
        raise InputError(
            f"partner {name}: kind '{partner.kind}' provides no list feed", code="E153"
        )
    raise InputError(
        f"partner {name}: unknown kind '{partner.kind}' "
        f"(kinds with a feed: {', '.join(sorted(feeds)) or 'none'})",
        code="E152",
    )


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
    feed = partner_feed(name, config)
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
