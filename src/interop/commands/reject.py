"""``interop reject ID --reason TEXT`` — a supervisor rejects a pending disclosure (9.3).

The person is the one signed in with their personal API token (``INTEROP_TOKEN``),
a supervisor or org-lead in the staff register. For a break-glass disclosure this
records the post-hoc review as *not justified* (an incident, requirements §4.7).
"""

from __future__ import annotations

import argparse
import json

from interop.i18n import _

NAME = "reject"
HELP = "reject a pending disclosure as its supervisor (it never leaves)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help=_("disclosure id (D-…)"))
    parser.add_argument("--reason", required=True, help=_("why (kept in the audit log)"))
    parser.add_argument("--json", action="store_true", help=_("script-readable output"))


def run(args: argparse.Namespace) -> int:
    # imported here: the parser and `interop --help` load no library
    from interop.exchange import review
    from interop.privacy.session import open_discloser
    from interop.staff.identity import act_as

    with open_discloser(args) as discloser:
        person = act_as(discloser.archive, args.settings.token, "disclosure.reject")
        d = review.reject(discloser, person, args.id, args.reason)
    if args.json:
        print(json.dumps(d.summary(), ensure_ascii=False, indent=2))
    else:
        state = (
            _(d.status)
            if not d.break_glass
            else _("review {outcome}").format(
                outcome=_(d.review_outcome) if d.review_outcome else ""
            )
        )
        print(
            _("disclosure {id}: {state} by {who}").format(id=d.id, state=state, who=person.staff_id)
        )
    return 0
