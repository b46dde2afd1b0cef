"""``interop report --from DATE --to DATE --format csv|xlsx|json`` — indicators for the
commissioning body (7.5.3, chapter 10): counts and rates only, no personal data."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import sys
from pathlib import Path

from interop._errors import InputError
from interop.i18n import _

NAME = "report"
HELP = "indicators for the commissioning body over a period (CSV, XLSX or JSON; no personal data)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", required=True, metavar="DATE", help=_("first day"))
    parser.add_argument("--to", dest="end", required=True, metavar="DATE", help=_("last day"))
    parser.add_argument(
        "--format", choices=("csv", "xlsx", "json"), default="csv", help=_("output format")
    )
    parser.add_argument("--out", metavar="FILE", help=_("write here (required for xlsx)"))


def _day(value: str, flag: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(
            _("{flag}: not a date YYYY-MM-DD").format(flag=flag), code="E258"
        ) from None


def run(args: argparse.Namespace) -> int:
    from interop.casework.report import build_report
    from interop.casework.report_files import write_csv, write_xlsx
    from interop.core.workdays import WorkCalendar

    start, end = _day(args.start, "--from"), _day(args.end, "--to")
    if end < start:
        raise InputError(_("--to is before --from"), code="E258")
    if args.format == "xlsx" and not args.out:
        raise InputError(_("--format xlsx needs --out FILE"), code="E258")
    rows = build_report(args.db, start, end, WorkCalendar.load())
    if args.format == "json":
        doc = {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "rows": [r.as_dict() for r in rows],
        }
        text = json.dumps(doc, ensure_ascii=False, indent=1)
    elif args.format == "csv":
        buf = io.StringIO()
        write_csv(rows, buf)  # text cells a spreadsheet would run are prefixed (OWASP)
        text = buf.getvalue()
    else:
        write_xlsx(rows, args.out, f"{start.isoformat()}~{end.isoformat()}")
        return 0
    if args.out:
        Path(args.out).write_text(text, "utf-8")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
