"""``interop approve ID`` — a supervisor approves a pending disclosure (9.3, G-16).

The approver is the person signed in with their personal API token
(``INTEROP_TOKEN``), a supervisor or org-lead in the staff register, and not the
requester (four-eyes). What is approved is exactly the stored payload (its SHA-256 is
shown). Consent is checked again; then the disclosure is queued in the outbox and
sent to its partner (``--no-send`` only queues it: ``interop outbox run`` sends it).
For a break-glass disclosure this records the post-hoc review as *justified* (4.7).
"""

from __future__ import annotations

import argparse
import json

from interop.i18n import _, current
from interop.i18n.templates import localise

NAME = "approve"
HELP = "approve a pending disclosure as its supervisor (four-eyes), then send it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help=_("disclosure id (D-…)"))
    parser.add_argument("--no-send", action="store_true", help=_("approve only; deliver later"))
    parser.add_argument("--json", action="store_true", help=_("script-readable output"))


def run(args: argparse.Namespace) -> int:
    # imported here: the parser and `interop --help` load no library
    from interop.exchange import review
    from interop.exchange.session import open_driver
    from interop.referral.lifecycle import Referrals
    from interop.staff.identity import act_as

    with (
        open_driver(args) as driver,
        Referrals(driver.discloser.archive, driver.config, discloser=driver.discloser) as refs,
    ):
        person = act_as(driver.discloser.archive, args.settings.token, "disclosure.approve")
        # A referral waiting on this disclosure is queued in this archive (--db), at once.
        refs.listen(driver.plugins)
        d, handover = review.approve(driver, person, args.id, send=not args.no_send)
    if args.json:
        out = d.summary()
        out.update(handover.as_json() if handover else {})
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        state = (
            _(d.status)
            if not d.break_glass
            else _("review {outcome}").format(
                outcome=_(d.review_outcome) if d.review_outcome else ""
            )
        )
        print(
            _("disclosure {id}: {state} by {who} (sha256 {sha})").format(
                id=d.id, state=state, who=person.staff_id, sha=d.sha256
            )
        )
        for line in handover.lines(d.partner, d.partner_kind) if handover else []:
            print(f"  {line}")
        if d.status == "refused":
            print("  " + localise(d.reasons[-1], current()))
    return 1 if d.status == "refused" else 0
