"""``interop share CASE --purpose P --to PARTNER`` — disclose a case by purpose (9.3).

The case is the archive's latest version. The engine maps it, filters it by
the policy of (purpose, partner kind) in ``mappings/purposes/``, labels and
validates it, checks consent and decides: it leaves now (pre-approved
profile, G-12, or break-glass), waits for a supervisor (``interop approve``),
or is refused. The requester is the person signed in with their personal API
token (``INTEROP_TOKEN``). ``--dry-run`` prints the exact Bundle that would be sent and
records nothing as disclosed (the preview itself is audited).

Exit codes: 0 sent or waiting for review; 1 refused or not delivered;
2 unusable input.
"""

from __future__ import annotations

import argparse
import json
import sys

from interop.i18n import _, current
from interop.i18n.templates import localise

NAME = "share"
HELP = "disclose a case to a partner for one purpose (filtered, labelled, audited)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("case", metavar="CASE", help=_("case number (个案编号)"))
    parser.add_argument("--purpose", required=True, help=_("purpose code, e.g. school-support"))
    parser.add_argument(
        "--to",
        dest="partner",
        required=True,
        metavar="PARTNER",
        help=_("partner name of the configuration ([partners.NAME])"),
    )
    parser.add_argument("--reason-code", help=_("break-glass reason (crisis type, 4.7)"))
    parser.add_argument("--reason-text", help=_("break-glass reason in words (stored, not shown)"))
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help=_("print the exact Bundle that would be sent; disclose nothing"),
    )
    parser.add_argument(
        "--no-send", action="store_true", help=_("queue the delivery in the outbox; send it later")
    )
    parser.add_argument("--json", action="store_true", help=_("script-readable output"))


def run(args: argparse.Namespace) -> int:
    # imported here: the parser and `interop --help` load no library
    from interop.exchange.session import open_driver
    from interop.staff.identity import act_as

    with open_driver(args) as driver:
        person = act_as(
            driver.discloser.archive, args.settings.token, "disclosure.request", case=args.case
        )
        requester = person.staff_id
        d, handover = driver.share(
            args.case,
            purpose=args.purpose,
            partner=args.partner,
            requester=requester,
            reason_code=args.reason_code,
            reason_text=args.reason_text,
            dry_run=args.dry_run,
            send=not args.no_send,
        )
    if args.json:
        out = d.summary()
        if args.dry_run:
            out["bundle"] = d.bundle
        out.update(handover.as_json() if handover else {})
        print(json.dumps(out, ensure_ascii=False, indent=2))
    elif args.dry_run:
        if d.payload is not None:
            sys.stdout.buffer.write(d.payload)
            sys.stdout.flush()
        for r in d.reasons:
            said = _("refused: {reason}") if d.status == "refused" else "{reason}"
            print("interop: " + said.format(reason=localise(r, current())), file=sys.stderr)
    else:
        print(
            _("disclosure {id}: {state}").format(id=d.id, state=_(d.status))
            + (f" (sha256 {d.sha256})" if d.sha256 else "")
        )
        for r in d.reasons:
            print("  " + localise(r, current()))
        for line in handover.lines(d.partner, d.partner_kind) if handover else []:
            print(f"  {line}")
        if d.status == "pending":
            print("  " + _("a supervisor approves it with: interop approve {id}").format(id=d.id))
    return 1 if d.status in ("refused", "rejected") else 0
