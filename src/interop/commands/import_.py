"""``interop import CASE_FILE…`` — store case records (一人一档) in the archive.

Each record is checked (schema, codes, resident ID, references) and stored
by case number: a new case, a new version where it changed, or nothing when
it is unchanged. Nothing is overwritten (permanent retention, 9.4.3).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from interop.commands.sync import parse_date

NAME = "import"
HELP = "store case-record files in the archive (new versions where they changed)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", metavar="CASE_FILE", nargs="+", help="case-record JSON files")
    parser.add_argument("--json", action="store_true", help="print a JSON array, one item a file")


def run(args: argparse.Namespace) -> int:
    # imported here: the parser and `interop --help` load no library
    from interop.caserecord import check_case_record, read_case_file, record_to_dict
    from interop.casework.steps import note_import
    from interop.config import load_config
    from interop.core.deadlines import start_deadline
    from interop.core.workdays import WorkCalendar
    from interop.fhir.terminology import Terminology
    from interop.store import Archive

    terms = Terminology.load()
    calendar = WorkCalendar.load()
    config = load_config(args.config, secrets=args.settings.secrets)
    agreement = parse_date(
        config.raw.get("sync", {}).get("agreement_date"), "[sync] agreement_date"
    )
    results: list[dict[str, Any]] = []
    rejected = 0
    with Archive.open(args.db) as archive:
        for path in args.files:
            checked = check_case_record(read_case_file(path), terms)
            errors = [i for i in checked.issues if i.severity == "error"]
            item: dict[str, Any] = {
                "file": path,
                "issues": [
                    {"path": i.path, "severity": i.severity, "code": i.code, "message": i.message}
                    for i in checked.issues
                ],
            }
            if checked.record is None or errors:
                rejected += 1
                item.update(case=None, result="rejected")
                results.append(item)
                continue
            rec = checked.record
            deadline = None
            received = rec.case.list_received_date
            if rec.case.state == "listed" and received:
                d = start_deadline(
                    rec.case.risk_level,
                    dt.date.fromisoformat(received[:10]),
                    calendar,
                    agreement_date=agreement,
                )
                if d is not None:
                    deadline = (d.rule, d.start.isoformat(), d.due.isoformat(), d.provisional)
            result = archive.import_record(
                rec.case.case_number,
                record_to_dict(rec),
                state=rec.case.state,
                risk_level=rec.case.risk_level,
                resident_id=rec.child.resident_id,
                deadline=deadline,
                received=received,
            )
            item.update(case=rec.case.case_number, result=result)
            if result != "unchanged":
                # §3.1: a record whose state contradicts its content is stored, with the
                # issue recorded (case_steps) and shown (here and by `interop case show`).
                item["state_issues"] = note_import(archive, rec, record_to_dict(rec), calendar)
            results.append(item)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
    else:
        for it in results:
            for i in it["issues"]:
                print(f"{it['file']}: {i['severity']} {i['path']}: {i['message']}", file=sys.stderr)
            for s in it.get("state_issues", []):
                print(
                    f"{it['file']}: warning {s['rule']} {s['where']}: {s['message']}",
                    file=sys.stderr,
                )
            print(f"{it['file']}: {it['result']}" + (f" (case {it['case']})" if it["case"] else ""))
    return 1 if rejected else 0
