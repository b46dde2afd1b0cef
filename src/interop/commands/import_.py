"""``interop import CASE_FILE…`` — store case records (一人一档) in the archive.

Each record is checked (schema, codes, resident ID, references) and stored
by case number: a new case, a new version where it changed, or nothing when
it is unchanged. Nothing is overwritten (permanent retention, 9.4.3).

The standard's rules run here too: the record is mapped to FHIR and checked
against the profiles (cardinality, bindings, invariants such as the 6-session
minimum of R-7.2.1-03). Their issues are recorded with the stored version and
shown; a case with open rule errors is still stored — a disclosure of it then
waits for a supervisor — unless ``--strict`` refuses it.

Exit codes: 0 every file stored; 1 a file was refused; 2 unusable arguments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import TYPE_CHECKING, Any

from interop.commands.sync import parse_date
from interop.i18n import N_, _

if TYPE_CHECKING:
    from interop.issues import Issue

NAME = "import"
HELP = "store case-record files in the archive (new versions where they changed)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", metavar="CASE_FILE", nargs="+", help=_("case-record JSON files"))
    parser.add_argument(
        "--json", action="store_true", help=_("print a JSON array, one item a file")
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help=_(
            "refuse a case that breaks a rule of the standard (default: store it and its issues)"
        ),
    )


def _issue(i: Issue) -> dict[str, Any]:
    return {
        "path": i.path,
        "severity": i.severity,
        "code": i.code,
        "requirement": i.requirement,
        "message": i.message,
    }


def run(args: argparse.Namespace) -> int:
    # imported here: the parser and `interop --help` load no library
    from interop.caserecord import check_case_record, read_case_file, record_to_dict
    from interop.casework.steps import note_import
    from interop.config import load_config
    from interop.core.deadlines import start_deadline
    from interop.core.workdays import WorkCalendar
    from interop.engine import Engine
    from interop.store import Archive
    from interop.store.case_issues import record_case_issues

    engine = Engine()
    terms = engine.terminology
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
            item: dict[str, Any] = {"file": path, "issues": [_issue(i) for i in checked.issues]}
            if checked.record is None or errors:
                rejected += 1
                item.update(case=None, result="rejected")
                results.append(item)
                continue
            rec = checked.record
            rules = engine.case_bundle(rec).issues
            item["issues"] += [_issue(i) for i in rules]
            broken = sum(i.severity == "error" for i in rules)
            item["rule_errors"] = broken
            if broken and args.strict:
                rejected += 1
                item.update(case=rec.case.case_number, result=N_("rejected (--strict)"))
                results.append(item)
                continue
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
            record_case_issues(archive, rec.case.case_number, [_issue(i) for i in rules])
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
                req = f" [{i['requirement']}]" if i.get("requirement") else ""
                print(
                    f"{it['file']}: {i['severity']} {i['path']}: {i['message']}{req}",
                    file=sys.stderr,
                )
            for s in it.get("state_issues", []):
                print(
                    f"{it['file']}: warning {s['rule']} {s['where']}: {s['message']}",
                    file=sys.stderr,
                )
            case = _(" (case {case})").format(case=it["case"]) if it["case"] else ""
            broken = it.get("rule_errors", 0)
            note = (
                _("; {n} open rule error(s) recorded: a disclosure waits for review").format(
                    n=broken
                )
                if broken and it["result"] in ("new", "changed", "unchanged")
                else ""
            )
            print(f"{it['file']}: {_(it['result'])}{case}{note}")
    return 1 if rejected else 0
