"""``interop reject ID --reason TEXT`` — a supervisor rejects a pending disclosure (9.3).

For a break-glass disclosure this records the post-hoc review as
*not justified* (an incident, requirements §4.7). The reviewer is the person signed in
with their personal API token (``INTEROP_TOKEN``).
"""

from __future__ import annotations

import argparse
import json
import os

from interop.i18n import _
from interop.privacy.session import add_now_option, open_discloser
from interop.staff import review
from interop.staff.identity import act_as

NAME = "reject"
HELP = "reject a pending disclosure as its supervisor (it never leaves)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="disclosure id (D-…)")
    parser.add_argument("--reason", required=True, help="why (kept in the audit log)")
    parser.add_argument("--json", action="store_true", help="script-readable output")
    add_now_option(parser)


def run(args: argparse.Namespace) -> int:
    with open_discloser(args) as discloser:
        person = act_as(discloser.archive, os.environ.get("INTEROP_TOKEN"), "disclosure.reject")
        approver = person.staff_id
        d = review.reject(discloser, person, args.id, args.reason)
    if args.json:
        print(json.dumps(d.summary(), ensure_ascii=False, indent=2))
    else:
        state = (
            _(d.status)
            if not d.break_glass
            else _("review {outcome}").format(outcome=_(d.review_outcome or ""))
        )
        print(_("disclosure {id}: {state} by {who}").format(id=d.id, state=state, who=approver))
    return 0
