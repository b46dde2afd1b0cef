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

from interop._errors import InputError
from interop.exchange.driver import DISCLOSURE_KIND, Driver
from interop.exchange.outbox import DEFAULT_LEASE, STATUSES, Outbox, iso

NAME = "outbox"
HELP = "list, run, retry, pause and resume outbound deliveries"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="deliveries (no payloads)")
    ls.add_argument("--status", choices=STATUSES)
    ls.add_argument("--partner")
    ls.add_argument("--json", action="store_true", help="script-readable output")

    rt = sub.add_parser("retry", help="queue a dead delivery again (current purpose policy)")
    rt.add_argument("id", nargs="?", metavar="ID")
    rt.add_argument("--dead", action="store_true", help="every dead delivery")
    rt.add_argument("--partner", help="with --dead: only this partner's")
    rt.add_argument("--json", action="store_true")

    for name, text in (("pause", "stop every delivery to a partner"), ("resume", "deliver again")):
        p = sub.add_parser(name, help=text)
        p.add_argument("partner", metavar="PARTNER")
        if name == "pause":
            p.add_argument("--reason", help="why (shown in list)")

    rn = sub.add_parser("run", help="deliver what is due")
    rn.add_argument("--partner", help="only this partner")
    rn.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                    help="keep going for what falls due within SECONDS")  # fmt: skip
    rn.add_argument(
        "--batch",
        type=int,
        default=1,
        metavar="N",
        help="rows a worker claims at a time (default 1: workers share the queue)",
    )
    rn.add_argument(
        "--lease",
        type=float,
        default=DEFAULT_LEASE,
        metavar="SECONDS",
        help=f"how long a claim holds a row unless renewed (default {DEFAULT_LEASE:g})",
    )
    rn.add_argument("--worker", help=argparse.SUPPRESS)
    rn.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from interop.commands.referral import open_referrals

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
                print(f"PAUSED {name}" + (f": {why}" if why else ""))
            if not items:
                print("the outbox is empty" if not args.status else f"no {args.status} delivery")
                return 0
            for i in items:
                when = iso(i.next_attempt_at) if i.status == "pending" else iso(i.delivered_at)
                print(f"{i.id} {i.partner:<22} {i.kind:<16} {i.status:<9} "
                      f"{i.attempts}/{i.max_attempts} {when or '-'}"
                      + (f"  {i.last_error}" if i.last_error else ""))  # fmt: skip
            return 0
        if action == "retry":
            if bool(args.id) == bool(args.dead):
                raise InputError("give a delivery ID or --dead", code="E109")
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
                    f"{d.id}: {d.status}" + (f" — {d.last_error}" if d.status == "refused" else "")
                )
            return 1 if any(d.status == "refused" for d in done) else 0
        if action == "pause":
            box.pause(args.partner, args.reason)
            print(f"deliveries to {args.partner} paused")
            return 0
        if action == "resume":
            box.resume(args.partner)
            print(f"deliveries to {args.partner} resumed")
            return 0
        if args.batch < 1 or args.lease <= 0:
            raise InputError("--batch and --lease must be positive", code="E722")
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
            print(f"delivered {summary.delivered}, retrying {summary.retrying}, "
                  f"uncertain {summary.uncertain}, dead {summary.dead}, "
                  f"held back {summary.released}")  # fmt: skip
            if summary.reconciled:
                print(f"  {summary.reconciled} found at the partner by our identifiers "
                      "(not sent again)")  # fmt: skip
            if summary.held:
                print(f"  {summary.held} delivery(ies) held by another worker's live lease "
                      f"(until {summary.held_until}); they come back if it stops")  # fmt: skip
            for p in summary.skipped_partners:
                print(f"  skipped partner {p} (see the log)")
        return 0
