"""``interop outbox list|retry|pause|resume|run`` — the durable outbox of every delivery.

``run`` delivers what is due (retries with backoff and jitter; several
``run`` at once are safe on PostgreSQL). ``retry`` queues a dead letter
again — a referral or a disclosure under the current purpose policy. ``pause`` is a kill
switch: no attempt is made to that partner until ``resume``.

Exit codes: 0 done; 1 could not complete (e.g. dead letters left by ``run``
with ``--strict``); 2 unusable input.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from interop._errors import InputError
from interop.exchange.outbox_states import DEFAULT_LEASE, STATUSES
from interop.i18n import _

if TYPE_CHECKING:
    from interop.exchange.outbox import Outbox

NAME = "outbox"
HELP = "list, run, retry, pause and resume outbound deliveries"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help=_("deliveries (no payloads)"))
    ls.add_argument("--status", choices=STATUSES, help=_("only deliveries in this state"))
    ls.add_argument("--partner", help=_("only this partner"))
    ls.add_argument("--json", action="store_true", help=_("script-readable output"))

    rt = sub.add_parser("retry", help=_("queue a dead delivery again (current purpose policy)"))
    rt.add_argument("id", nargs="?", metavar="ID", help=_("delivery id"))
    rt.add_argument("--dead", action="store_true", help=_("every dead delivery"))
    rt.add_argument("--partner", help=_("with --dead: only this partner's"))
    rt.add_argument("--json", action="store_true", help=_("script-readable output"))

    for name, text in (
        ("pause", _("stop every delivery to a partner")),
        ("resume", _("deliver again")),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("partner", metavar="PARTNER", help=_("partner name ([partners.NAME])"))
        if name == "pause":
            p.add_argument("--reason", help=_("why (shown in list)"))

    rn = sub.add_parser("run", help=_("deliver what is due"))
    rn.add_argument("--partner", help=_("only this partner"))
    rn.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                    help=_("keep going for what falls due within SECONDS"))  # fmt: skip
    rn.add_argument(
        "--batch",
        type=int,
        default=1,
        metavar="N",
        help=_("rows a worker claims at a time (default 1: workers share the queue)"),
    )
    rn.add_argument(
        "--lease",
        type=float,
        default=DEFAULT_LEASE,
        metavar="SECONDS",
        help=_("how long a claim holds a row unless renewed (default {lease:g})").format(
            lease=DEFAULT_LEASE
        ),
    )
    rn.add_argument("--worker", help=argparse.SUPPRESS)
    rn.add_argument("--json", action="store_true", help=_("script-readable output"))


def run(args: argparse.Namespace) -> int:
    # The queue and its driver load the database library: imported here, not for --help.
    from interop.commands.referral import open_referrals
    from interop.exchange.driver import DISCLOSURE_KIND, Driver
    from interop.exchange.outbox import iso

    with open_referrals(args) as refs:
        box: Outbox = refs.outbox
        action = args.outbox_command
        if action == "list":
            items = box.items(status=args.status, partner=args.partner)
            paused = box.paused()
            if args.json:
                out = [{**i.summary(), "attempt_history": box.attempts(i.id)} for i in items]
                print(json.dumps({"paused": paused, "items": out}, ensure_ascii=False, indent=2))
                return 0
            for name, why in paused.items():
                print(_("PAUSED {partner}").format(partner=name) + (f": {why}" if why else ""))
            if not items:
                print(
                    _("the outbox is empty")
                    if not args.status
                    else _("no {status} delivery").format(status=_(args.status))
                )
                return 0
            for i in items:
                when = iso(i.next_attempt_at) if i.status == "pending" else iso(i.delivered_at)
                print(f"{i.id} {i.partner:<22} {i.kind:<16} {_(i.status):<9} "
                      f"{i.attempts}/{i.max_attempts} {when or '-'}"
                      + (f"  {i.last_error}" if i.last_error else ""))  # fmt: skip
            return 0
        if action == "retry":
            if bool(args.id) == bool(args.dead):
                raise InputError(_("give a delivery ID or --dead"), code="E109")
            ids = [args.id] if args.id else [
                i.id for i in box.items(status="dead", partner=args.partner)
            ]  # fmt: skip
            with Driver(refs.discloser, outbox=box, plugins=refs.plugins) as driver:
                done = [
                    driver.replay(i) if box.get(i).kind == DISCLOSURE_KIND else refs.replay(i)
                    for i in ids
                ]
            if args.json:
                print(json.dumps([d.summary() for d in done], ensure_ascii=False, indent=2))
            for d in done if not args.json else []:
                print(
                    f"{d.id}: {_(d.status)}"
                    + (f" — {d.last_error}" if d.status == "refused" else "")
                )
            return 1 if any(d.status == "refused" for d in done) else 0
        if action == "pause":
            box.pause(args.partner, args.reason)
            print(_("deliveries to {partner} paused").format(partner=args.partner))
            return 0
        if action == "resume":
            box.resume(args.partner)
            print(_("deliveries to {partner} resumed").format(partner=args.partner))
            return 0
        if args.batch < 1 or args.lease <= 0:
            raise InputError(_("--batch and --lease must be positive"), code="E722")
        box.lease_seconds = args.lease
        refs.sweep_reviews()
        with Driver(refs.discloser, outbox=box, plugins=refs.plugins) as driver:
            summary = driver.run(
                partner=args.partner, wait=args.wait, batch=args.batch, worker=args.worker
            )
        refs.absorb_deliveries()
        if args.json:
            print(json.dumps(summary.as_dict()))
        else:
            said = _(
                "delivered {delivered}, retrying {retrying}, uncertain {uncertain}, "
                "dead {dead}, held back {released}"
            )
            print(
                said.format(
                    delivered=summary.delivered,
                    retrying=summary.retrying,
                    uncertain=summary.uncertain,
                    dead=summary.dead,
                    released=summary.released,
                )
            )
            if summary.reconciled:
                said = _("  {n} found at the partner by our identifiers (not sent again)")
                print(said.format(n=summary.reconciled))
            if summary.held:
                said = _(
                    "  {n} delivery(ies) held by another worker's live lease (until {until}); "
                    "they come back if it stops"
                )
                print(said.format(n=summary.held, until=summary.held_until))
            for p in summary.skipped_partners:
                print(_("  skipped partner {partner} (see the log)").format(partner=p))
        return 0
