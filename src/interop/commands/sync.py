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
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interop._errors import InputError
from interop.config import Config, load_config
from interop.core.delisting import DelistLimit
from interop.core.workdays import today
from interop.i18n import N_, _, current
from interop.i18n.templates import localise
from interop.inbound.mapping import DEFAULT_MAPPING
from interop.inbound.prepare import DRY_RUN, PART_BYTES, SyncOptions
from interop.inbound.source import FORMATS

if TYPE_CHECKING:
    from typing import TextIO

    from interop.inbound.reconcile import SyncReport

#: Seconds between progress lines when the output is not a terminal.
LOG_EVERY = 10.0

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
        raise InputError(
            _("{what}: not a date YYYY-MM-DD").format(what=what), code="E105"
        ) from None


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
        part_bytes=settings.sync_part_bytes or PART_BYTES,
        token=settings.token,  # who runs it (their delistings are recorded as theirs)
    )


#: An issue's severity as said (the key, like the code, stays as it is in --json).
SEVERITIES = {"error": N_("error"), "warning": N_("warning"), "information": N_("information")}
#: A run's status as said (stored and in --json as the key).
STATUSES = {
    "running": N_("running"),
    "completed": N_("completed"),
    "refused": N_("refused"),
    "failed": N_("failed"),
    "interrupted": N_("interrupted"),
    DRY_RUN: N_("dry-run"),
}


def said(message: str) -> str:
    """A message of the inbound stages (formatted in English where it arose, kept so in the
    archive and in --json) in the command's language."""
    return localise(message, current())


def issue_line(issue: dict[str, Any]) -> str:
    """One issue of a sync as printed for the operator: row, column and code kept, the
    reason in the command's language."""
    message = said(issue["message"])
    if issue["code"] == "extra-column":
        return _("note: {message}").format(message=message)
    severity = _(SEVERITIES.get(issue["severity"], issue["severity"]))
    return _("row {row}: {severity} [{code}] {message}").format(
        row=issue["row"], severity=severity, code=issue["code"], message=message
    )


class Progress:
    """Progress of one sync (进度), printed to ``stream``: a bar on a terminal, otherwise a
    line every ``every`` seconds; each issue is printed as it is found, not at the end."""

    def __init__(self, stream: TextIO, *, every: float = LOG_EVERY) -> None:
        self.stream, self.tty, self.every = stream, stream.isatty(), every
        self.bar: Any = None
        self.done = self.quarantined = 0
        self._last_row: int | None = None
        self._start = self._shown = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        """``done`` more rows of ``total`` are through."""
        self.done += done
        if self.tty:
            if self.bar is None:
                from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]

                self.bar = tqdm(total=total, unit="row", file=self.stream, leave=False)
            self.bar.update(done)
            self.bar.set_postfix(quarantined=self.quarantined, refresh=False)
            return
        now = time.monotonic()
        if now - self._shown >= self.every:
            self._shown = now
            rate = self.done / max(now - self._start, 1e-9)
            line = _("sync: {done} of {total} rows, {quarantined} quarantined so far, "
                     "{rate:.0f} rows/s")  # fmt: skip
            line = line.format(done=self.done, total=total, quarantined=self.quarantined, rate=rate)
            print(line, file=self.stream, flush=True)

    def issue(self, item: dict[str, Any]) -> None:
        """An issue found: printed now (above the bar on a terminal)."""
        if item["severity"] == "error" and item["row"] != self._last_row:
            self.quarantined += 1
            self._last_row = item["row"]
        line = issue_line(item)
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def print_report(report: SyncReport, as_json: bool, *, issues: bool = True) -> None:
    """The summary (``issues``: with the issues, when they were not printed as found)."""
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
        return
    for issue in report.issues if issues else ():
        print(issue_line(issue), file=sys.stderr)
    if report.layout is not None and report.status == DRY_RUN:
        lay = report.layout
        where = _("sheet {sheet}, ").format(sheet=lay["sheet"]) if lay["sheet"] else ""
        enc = _(", encoding {encoding}").format(encoding=lay["encoding"]) if lay["encoding"] else ""
        print(
            _("layout: {format}, {where}header on row {row}{enc}").format(
                format=lay["format"], where=where, row=lay["header_row"], enc=enc
            )
        )
        matched = ", ".join(lay["matched"]) or _("(none)")
        print(_("  columns matched: {columns}").format(columns=matched))
        print(_("  (dry run: nothing was written)"))
    print(
        _(
            "sync {status}: {rows} rows — {new} new, {changed} changed, {unchanged} unchanged, "
            "{delisted} delisted, {quarantined} quarantined (run {run_id})"
        ).format(**{**report.to_json(), "status": _(STATUSES.get(report.status, report.status))})
    )
    if report.message:
        print(_("  stopped: {message}").format(message=said(report.message)))


def print_status(runs: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps({"runs": runs}, ensure_ascii=False))
        return
    if not runs:
        print(_("no sync runs yet"))
    for r in runs:
        counts = _(
            "{rows} rows — {new} new, {changed} changed, {unchanged} unchanged, "
            "{delisted} delisted, {quarantined} quarantined"
        ).format(**r)
        who = _("by {actor}").format(actor=r["actor"]) if r.get("actor") else ""
        status = _(STATUSES.get(r["status"], r["status"]))
        print(f"{r['started_at']}  {status:<11}  {r['run_id']}  {counts}  {who}".rstrip())
        if r["message"]:
            print(f"    {said(r['message'])}")


def run(args: argparse.Namespace) -> int:
    from interop.inbound import run as inbound

    if args.status:
        from interop.store import Archive

        with Archive.open(args.db) as archive:
            print_status(archive.recent_runs(10), args.json)
        return 0
    if bool(args.file) == bool(args.partner):
        raise InputError(_("give either a FILE or --partner NAME"), code="E107")
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
            on_note=None
            if args.json
            else lambda note: print(
                _("note: {message}").format(message=said(note)), file=sys.stderr
            ),
        )
    finally:
        progress.close()
    print_report(report, args.json, issues=False)
    return 0
