"""``interop approve ID`` — a supervisor approves a pending disclosure (9.3, G-16).

The approver is the person signed in with their personal API token
(``INTEROP_TOKEN``), a supervisor or org-lead in the staff register, and not the
requester (four-eyes). What is approved is exactly the stored payload (its SHA-256 is
shown). Consent is checked again; then the disclosure is delivered by its
partner's plugin (``--no-send`` leaves delivery for later). For a
break-glass disclosure this records the post-hoc review as *justified* (4.7).
"""

from __future__ import annotations

import argparse
import json
import os

from interop.i18n import _
from interop.privacy.session import add_now_option, open_discloser
from interop.staff import review
from interop.staff.identity import act_as

NAME = "approve"
HELP = "approve a pending disclosure as its supervisor (four-eyes), then send it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="disclosure id (D-…)")
    parser.add_argument("--no-send", action="store_true", help="approve only; deliver later")
    parser.add_argument("--json", action="store_true", help="script-readable output")
    add_now_option(parser)


def run(args: argparse.Namespace) -> int:
    done_line = _("disclosure {id}: {state} by {who} (sha256 {sha})")
    with open_discloser(args) as discloser:
        person = act_as(discloser.archive, os.environ.get("INTEROP_TOKEN"), "disclosure.approve")
        approver = person.staff_id
        d, receipt = review.approve(discloser, person, args.id, send=not args.no_send)
    if args.json:
        out = d.summary()
        if receipt is not None:
            out["receipt"] = receipt
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        state = (
            _(d.status)
            if not d.break_glass
            else _("review {outcome}").format(outcome=_(d.review_outcome or ""))
        )
        print(done_line.format(id=d.id, state=state, who=approver, sha=d.sha256))
        if receipt is not None:
            got = ", ".join(f"{k} {v}" for k, v in receipt.items())
            print(_("  delivered to {partner}: {receipt}").format(partner=d.partner, receipt=got))
        elif d.status == "refused":
            print(f"  {d.reasons[-1]}")
    return 1 if d.status == "refused" else 0
