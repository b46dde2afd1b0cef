"""``interop sync FILE`` / ``interop sync --partner NAME`` — take a civil-affairs list in.

Every good row goes into the archive, every bad row into quarantine with
its reason, and each new child gets a waiting case with its start deadline
(T-01; DL-01..DL-03). Exit 0 when the run completed (even with quarantined
rows), 1 when it could not complete, 2 on unusable arguments or input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interop._errors import InputError
from interop.config import Config, load_config
from interop.core.workdays import WorkCalendar, today
from interop.inbound.guard import DelistLimit
from interop.inbound.layout import understand
from interop.inbound.mapping import DEFAULT_MAPPING, InboundMapping
from interop.inbound.prepare import DRY_RUN, SyncOptions
from interop.inbound.progress import LOG_EVERY, Progress, issue_line
from interop.inbound.readers import FORMATS, FileSource

if TYPE_CHECKING:
    from interop.inbound.sync import SyncReport

NAME = "sync"
HELP = "sync a civil-affairs child list (file or partner feed) into the archive"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", metavar="FILE", nargs="?", help="list file (csv, xlsx, xml, json, ndjson)"
    )
    parser.add_argument("--partner", metavar="NAME", help="pull from a configured partner feed")
    parser.add_argument(
        "--mapping", metavar="NAME", help=f"inbound mapping (default {DEFAULT_MAPPING})"
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="the file is the whole list: children absent from it are marked delisted",
    )
    parser.add_argument(
        "--allow-delist",
        metavar="N|P%",
        help="with --full: delist up to N children or P%% of the listed ones "
        "(default: stop when more than 10%% would be delisted)",
    )
    parser.add_argument("--format", choices=FORMATS, help="file format (default: by suffix)")
    parser.add_argument("--encoding", help="text encoding of a CSV file (default: detected)")
    parser.add_argument("--sheet", metavar="NAME", help="XLSX sheet of the list (default: found)")
    parser.add_argument(
        "--header-row",
        metavar="N",
        type=int,
        help="row number of the header (default: found among the first rows)",
    )
    parser.add_argument(
        "--received", metavar="DATE", help="date the list was received (default: today, China)"
    )
    parser.add_argument(
        "--agreement-date",
        metavar="DATE",
        help="project agreement date; starts DL-01 (default: [sync] agreement_date in config)",
    )
    parser.add_argument(
        "--org-code",
        metavar="CODE",
        help="organisation code in case numbers CODE-YYYY-NNNNN (default $INTEROP_ORG_CODE)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="show the layout found and what the sync would do, writing nothing",
    )
    parser.add_argument(
        "--status", action="store_true", help="show the last sync runs (interrupted ones too)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(  # seconds between progress lines off a terminal (tests: 0)
        "--progress-every", type=float, default=LOG_EVERY, help=argparse.SUPPRESS
    )


def parse_date(value: str | None, what: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"{what}: not a date YYYY-MM-DD", code="E105") from None


def options_from(args: argparse.Namespace, config: Config) -> SyncOptions:
    section = config.raw.get("sync", {})
    received = parse_date(args.received, "--received") or today()
    agreement = parse_date(args.agreement_date, "--agreement-date") or parse_date(
        section.get("agreement_date"), "[sync] agreement_date"
    )
    org = args.org_code or os.environ.get("INTEROP_ORG_CODE") or section.get("org_code") or "ORG"
    return SyncOptions(
        received=received,
        full=args.full,
        agreement_date=agreement,
        case_prefix=str(org),
        contractor_id=str(section.get("contractor_id", "contractor")),
        contractor_name=str(section.get("contractor_name", "承接机构")),
        delist_limit=DelistLimit.parse(args.allow_delist),
        dry_run=bool(getattr(args, "dry_run", False)),
    )


def print_report(report: SyncReport, as_json: bool, *, issues: bool = True) -> None:
    """The summary (``issues``: with the issues, when they were not printed as found)."""
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
        return
    for issue in report.issues if issues else ():
        print(issue_line(issue), file=sys.stderr)
    if report.layout is not None and report.status == DRY_RUN:
        lay = report.layout
        where = f"sheet {lay['sheet']}, " if lay["sheet"] else ""
        enc = f", encoding {lay['encoding']}" if lay["encoding"] else ""
        print(f"layout: {lay['format']}, {where}header on row {lay['header_row']}{enc}")
        print(f"  columns matched: {', '.join(lay['matched']) or '(none)'}")
        print("  (dry run: nothing was written)")
    print(
        f"sync {report.status}: {report.rows} rows — {report.new} new, {report.changed} changed, "
        f"{report.unchanged} unchanged, {report.delisted} delisted, "
        f"{report.quarantined} quarantined (run {report.run_id})"
    )
    if report.message:
        print(f"  stopped: {report.message}")


def print_status(runs: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps({"runs": runs}, ensure_ascii=False))
        return
    if not runs:
        print("no sync runs yet")
    for r in runs:
        counts = (
            f"{r['rows']} rows — {r['new']} new, {r['changed']} changed, "
            f"{r['unchanged']} unchanged, {r['delisted']} delisted, {r['quarantined']} quarantined"
        )
        print(f"{r['started_at']}  {r['status']:<11}  {r['run_id']}  {counts}")
        if r["message"]:
            print(f"    {r['message']}")


def run(args: argparse.Namespace) -> int:
    if args.status:
        from interop.store import Archive

        with Archive.open(args.db) as archive:
            print_status(archive.recent_runs(), args.json)
        return 0
    if bool(args.file) == bool(args.partner):
        raise InputError("give either a FILE or --partner NAME", code="E107")
    # A large list's sync reads the archive's digests in a thread from the start
    # (issue 3: the read costs the start-up below nothing).
    from interop.inbound import firstpass, workers

    digests = firstpass.digests_ahead(Path(args.file), args.db) if args.file else None
    config = load_config(args.config)
    options = options_from(args, config)
    from interop.fhir.terminology import Terminology

    terms = Terminology.load()
    if args.partner:
        calendar = WorkCalendar.load()
        from interop.inbound.feed import sync_partner
        from interop.store import Archive

        with Archive.open(args.db) as archive:
            report = sync_partner(
                archive, args.partner, config, terms, calendar, options, mapping_name=args.mapping
            )
        print_report(report, args.json)
        return 0 if report.status == "completed" else 1
    mapping = InboundMapping.load(args.mapping)
    source = FileSource(args.file, fmt=args.format, encoding=args.encoding)
    source.options = mapping.reader_options(source.format)
    # Stage 1: the file is understood — or refused — before anything is written.
    source.layout = understand(source, mapping, sheet=args.sheet, header_row=args.header_row)
    if not args.json:
        for note in source.layout.notes():
            print(f"note: {note}", file=sys.stderr)
    # A large list's first pass starts now: worker processes read the file while this
    # process loads the database library and opens the archive (issue 3: both cores
    # from the start).
    workers.reuse_freed_memory()
    early = (
        None
        if options.dry_run
        else firstpass.start(source, mapping, terms, options, args.db, digests)
    )
    calendar = WorkCalendar.load()  # (the first pass needs none: loaded while it runs)
    progress = Progress(sys.stderr, every=args.progress_every)
    try:
        from interop.inbound.sync import sync_file_rows
        from interop.store import Archive

        with Archive.open(args.db) as archive:
            report = sync_file_rows(
                archive,
                source,
                mapping,
                terms,
                calendar,
                options,
                source=str(args.file),
                progress=progress,
                early=early,
                on_issue=None if args.json else progress.issue,
            )
    finally:
        progress.close()
        if early is not None:
            early.close()
    report.layout = source.layout.to_json()
    print_report(report, args.json, issues=False)
    return 0
