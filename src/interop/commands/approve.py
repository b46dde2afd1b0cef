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
        state = d.status if not d.break_glass else f"review {d.review_outcome}"
        print(f"disclosure {d.id}: {state} by {approver} (sha256 {d.sha256})")
        if receipt is not None:
            print(
                f"  delivered to {d.partner}: " + ", ".join(f"{k} {v}" for k, v in receipt.items())
            )
        elif d.status == "refused":
            print(f"  {d.reasons[-1]}")
    return 1 if d.status == "refused" else 0
