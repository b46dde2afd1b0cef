"""One call per way of taking a list in (名单同步): a list file, a partner feed, the runs.

``interop sync`` makes one of these calls. The order of a file's sync
matters for its speed (decisions D-15, D-17): the archive's digests are read
in a thread from the start, the first pass's workers read the file while
this process loads the database library, and the archive is opened last.
Stage 1 (:mod:`interop.inbound.layout`) comes before any of the writing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interop.inbound.layout import understand
from interop.inbound.mapping import InboundMapping
from interop.inbound.prepare import SyncOptions
from interop.inbound.readers import FileSource

if TYPE_CHECKING:
    from interop.inbound.sync import SyncReport


def sync_list_file(
    path: Path,
    db: str | None,
    options: SyncOptions,
    *,
    mapping_name: str | None = None,
    fmt: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    header_row: int | None = None,
    progress: Callable[[int, int], Any] | None = None,
    on_issue: Callable[[dict[str, Any]], None] | None = None,
    on_note: Callable[[str], None] | None = None,
) -> SyncReport:
    """Understand the list file at ``path`` (or refuse it), then sync it into the archive
    at ``db`` (or, with ``options.dry_run``, only say what the sync would do)."""
    from interop.core.workdays import WorkCalendar
    from interop.fhir.terminology import Terminology
    from interop.inbound import firstpass, workers

    # (a thread reads the archive's digests while the rest starts up: D-15)
    digests = firstpass.digests_ahead(path, db)
    terms = Terminology.load()
    mapping = InboundMapping.load(mapping_name)
    source = FileSource(path, fmt=fmt, encoding=encoding)
    source.options = mapping.reader_options(source.format)
    # Stage 1: the file is understood — or refused — before anything is written.
    source.layout = understand(source, mapping, sheet=sheet, header_row=header_row)
    if on_note is not None:
        for note in source.layout.notes():
            on_note(note)
    # A large list's first pass starts now: worker processes read the file while this
    # process loads the database library and opens the archive (D-17).
    workers.reuse_freed_memory()
    early = (
        None if options.dry_run else firstpass.start(source, mapping, terms, options, db, digests)
    )
    try:
        calendar = WorkCalendar.load()  # (the first pass needs none: loaded while it runs)
        from interop.inbound.sync import sync_file_rows
        from interop.store import Archive

        with Archive.open(db) as archive:
            report = sync_file_rows(
                archive,
                source,
                mapping,
                terms,
                calendar,
                options,
                source=str(path),
                progress=progress,
                early=early,
                on_issue=on_issue,
            )
    finally:
        if early is not None:
            early.close()
    report.layout = source.layout.to_json()
    return report
