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
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interop._errors import InputError
from interop.config import Config, load_config
from interop.core.workdays import today
from interop.inbound.guard import DelistLimit
from interop.inbound.mapping import DEFAULT_MAPPING
from interop.inbound.prepare import DRY_RUN, SyncOptions
from interop.inbound.progress import LOG_EVERY, Progress, issue_line
from interop.inbound.readers import FORMATS

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
    settings = args.settings
    org = args.org_code or settings.org_code or section.get("org_code") or "ORG"
    return SyncOptions(
        received=received,
        full=args.full,
        agreement_date=agreement,
        case_prefix=str(org),
        contractor_id=str(section.get("contractor_id", "contractor")),
        contractor_name=str(section.get("contractor_name", "承接机构")),
        batch_size=settings.sync_batch_size or 0,
        workers=settings.sync_workers,
        parallel_min=settings.sync_parallel_min,
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
    from interop.inbound import run as inbound

    if args.status:
        print_status(inbound.recent_runs(args.db), args.json)
        return 0
    if bool(args.file) == bool(args.partner):
        raise InputError("give either a FILE or --partner NAME", code="E107")
    config = load_config(args.config, secrets=args.settings.secrets)
    options = options_from(args, config)
    if args.partner:
        report = inbound.sync_partner_feed(
            args.partner, args.db, config, options, mapping_name=args.mapping
        )
        print_report(report, args.json)
        return 0 if report.status == "completed" else 1
    progress = Progress(sys.stderr, every=args.progress_every)
    try:
        report = inbound.sync_list_file(
            Path(args.file),
            args.db,
            options,
            mapping_name=args.mapping,
            fmt=args.format,
            encoding=args.encoding,
            sheet=args.sheet,
            header_row=args.header_row,
            progress=progress,
            on_issue=None if args.json else progress.issue,
            on_note=None if args.json else lambda note: print(f"note: {note}", file=sys.stderr),
        )
    finally:
        progress.close()
    print_report(report, args.json, issues=False)
    return 0
