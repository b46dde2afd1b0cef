"""``interop reject ID --reason TEXT`` — a supervisor rejects a pending disclosure (9.3).

For a break-glass disclosure this records the post-hoc review as
*not justified* (an incident, requirements §4.7).
"""

from __future__ import annotations

import argparse
import json

NAME = "reject"
HELP = "reject a pending disclosure as its supervisor (it never leaves)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="disclosure id (D-…)")
    parser.add_argument("--reason", required=True, help="why (kept in the audit log)")
    parser.add_argument(
        "--as",
        dest="as_staff",
        metavar="STAFF_ID",
        help="who rejects (default: the case's supervisor)",
    )
    parser.add_argument("--json", action="store_true", help="script-readable output")


def run(args: argparse.Namespace) -> int:
    # imported here: the parser and `interop --help` load no library
    from interop.privacy.session import open_discloser

    with open_discloser(args) as discloser:
        before = discloser.get(args.id)
        approver = args.as_staff
        if not approver:
            _, record = discloser.latest_record(before.case_number)
            approver = record.case.supervisor or ""
        d = discloser.reject(args.id, approver=approver, reason=args.reason)
    if args.json:
        print(json.dumps(d.summary(), ensure_ascii=False, indent=2))
    else:
        state = d.status if not d.break_glass else f"review {d.review_outcome}"
        print(f"disclosure {d.id}: {state} by {approver}")
    return 0
