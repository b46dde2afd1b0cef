"""``interop referral create|poll|cancel|retry|show|list|anomalies`` — hospital referral (6.2.1).

``create`` asks the purpose engine (hosp-referral policy, the guardian's
consent, supervisor review; a crisis referral leaves at once under
break-glass) and, once approved, sends the referral through the outbox.
``poll`` reads every due Task back and checks it, and adds each outcome a
hospital sent back to the case record as a new version; ``cancel`` withdraws the
referral; ``retry`` sends a dead one again after the configuration was
fixed; ``anomalies`` lists Tasks that did not match what was sent. Output
never shows the reason text, a name or an ID number (``--json`` of ``show``
gives the reason to scripts).

Exit codes: 0 done (or waiting for review); 1 refused or could not complete;
2 unusable input. ``create`` and ``cancel`` act for the person signed in with their
personal API token (``INTEROP_TOKEN``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

# The parser needs only the names of triggers and modes: `interop referral --help` loads
# neither the referral machinery nor the database library.
from interop.i18n import _
from interop.referral.triggers import MODES, TRIGGERS

if TYPE_CHECKING:
    from interop.referral.lifecycle import Referral, Referrals

NAME = "referral"
HELP = "refer a child to a hospital over FHIR and follow the referral (转介诊疗)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="referral_command", metavar="ACTION", required=True)
    c = sub.add_parser("create", help="refer a case to a hospital partner")
    c.add_argument("case", metavar="CASE", help="case number (个案编号)")
    c.add_argument("--to", dest="partner", required=True, metavar="PARTNER", help="hospital")
    c.add_argument("--trigger", required=True, choices=TRIGGERS, help="referral trigger (§1.9.7)")
    c.add_argument("--reason", required=True, help="why (sent to the hospital; never printed)")
    c.add_argument("--mode", choices=MODES, default="concurrent", help="G-13 (default concurrent)")
    c.add_argument("--crisis-type", help="break-glass reason code (crisis type) for RT-01")
    c.add_argument("--no-send", action="store_true", help="queue only; `interop outbox run` sends")
    c.add_argument("--json", action="store_true", help="script-readable output")

    p = sub.add_parser("poll", help="read the hospitals' Task status back")
    p.add_argument("referral", nargs="?", metavar="REF", help="one referral (at once)")
    p.add_argument("--partner", help="only this hospital")
    p.add_argument("--force", action="store_true", help="ignore poll_minutes")
    p.add_argument("--by", choices=("auto", "since", "ids"), default="auto", help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", help="script-readable output")

    x = sub.add_parser("cancel", help="cancel a referral from our side")
    x.add_argument("referral", metavar="REF")
    x.add_argument("--reason", required=True, help="why (sent to the hospital)")
    x.add_argument("--no-send", action="store_true", help="queue only")
    x.add_argument("--json", action="store_true", help="script-readable output")

    r = sub.add_parser("retry", help="send a dead referral again (after a configuration fix)")
    r.add_argument("referral", metavar="REF")
    r.add_argument("--no-send", action="store_true", help="queue only")
    r.add_argument("--json", action="store_true", help="script-readable output")

    n = sub.add_parser("anomalies", help="hospital Tasks that did not match what was sent")
    n.add_argument("referral", nargs="?", metavar="REF", help="only this referral")
    n.add_argument("--json", action="store_true", help="script-readable output")

    s = sub.add_parser("show", help="status, history and outcome of a referral")
    s.add_argument("referral", metavar="REF")
    s.add_argument("--json", action="store_true", help="script-readable output")

    a = sub.add_parser("list", help="referrals, newest last")
    a.add_argument("--case", help="only this case")
    a.add_argument("--partner", help="only this hospital")
    a.add_argument("--state", help="only this step (e.g. handed-over)")
    a.add_argument("--json", action="store_true", help="script-readable output")


@contextmanager
def open_referrals(args: argparse.Namespace) -> Iterator[Referrals]:
    from interop.config import load_config
    from interop.engine import Engine
    from interop.fhir.canonical import case_number_system
    from interop.referral.lifecycle import Referrals
    from interop.store import Archive

    config = load_config(args.config, secrets=args.settings.secrets)
    engine = Engine(
        case_number_system=case_number_system(args.settings.org_code),
        canonical_base=args.settings.canonical_base,
    )
    plugins = None
    if args.settings.disabled_plugins:
        from interop.exchange.plugins import Plugins, plugin_manager

        plugins = Plugins(plugin_manager(blocked=args.settings.disabled_plugins))
    with (
        Archive.open(args.db) as archive,
        Referrals(archive, config, engine=engine, plugins=plugins) as refs,
    ):
        yield refs


def _line(r: Referral) -> str:
    return (
        f"{r.id:<17} {r.case_number:<20} {r.partner:<22} {r.trigger:<6} {r.state:<18} "
        f"{r.task_status or '-'}"
    )


def _print(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def run(args: argparse.Namespace) -> int:
    from interop.staff.identity import act_as

    with open_referrals(args) as refs:
        action = args.referral_command
        if action == "create":
            from interop.referral.create import create_as

            person = act_as(
                refs.discloser.archive, args.settings.token, "referral.create", case=args.case
            )
            ref = create_as(
                refs,
                person,
                args.case,
                partner=args.partner,
                trigger=args.trigger,
                reason=args.reason,
                mode=args.mode,
                crisis_type=args.crisis_type,
                send=not args.no_send,
            )
            return _report(args, refs, ref)
        if action == "cancel":
            who = act_as(refs.discloser.archive, args.settings.token, "referral.cancel").staff_id
            ref = refs.cancel(args.referral, reason=args.reason, requester=who)
            if not args.no_send and ref.state == "cancel-requested":
                refs.deliver(ref.id)
                ref = refs.get(ref.id)
            return _report(args, refs, ref)
        if action == "poll":
            from interop.casework.outcomes import file_outcomes

            counts = refs.poll(
                referral_id=args.referral, partner=args.partner, force=args.force, by=args.by
            )
            # Every outcome kept and not yet in its case record (this poll's, or one an
            # earlier run could not file) becomes a new version of the record (9.2).
            filed = file_outcomes(refs.archive, calendar=refs.calendar)
            counts["case_versions"] = [f.as_dict() for f in filed]
            if args.json:
                _print(counts)
            else:
                print(
                    _(
                        "polled {polled} Task(s) in {requests} request(s): {changed} changed, "
                        "{anomalies} anomaly(ies), {outcomes} outcome(s) stored"
                    ).format(**counts)
                )
                for f in filed:
                    if f.version is not None:
                        line = _("  outcome {reference} of {referral} added to case {case} "
                                 "as version {version}")  # fmt: skip
                    else:
                        line = _("  outcome {reference} of {referral} not yet in case {case}: "
                                 "{reason}")  # fmt: skip
                    print(line.format(**f.as_dict()))
                for failed in counts["failed"]:
                    print(_("  not polled: {what}").format(what=failed))
            return 1 if counts["failed"] else 0
        if action == "retry":
            item = refs.retry(args.referral)
            if not args.no_send and item.status == "pending":
                refs.deliver(args.referral)
            return _report(
                args, refs, refs.get(args.referral), 1 if item.status == "refused" else 0
            )
        if action == "anomalies":
            anomalies = refs.anomalies(args.referral)
            if args.json:
                _print(anomalies)
                return 0
            if not anomalies:
                print(_("no anomaly"))
                return 0
            for a in anomalies:
                print(f"{a['at']} {a['referral']} {a['case']} {a['partner']}: {a['detail']}")
            return 0
        if action == "show":
            shown = refs.show(args.referral)
            if args.json:
                shown["reason"] = refs.get(args.referral).reason
                _print(shown)
                return 0
            _show(shown)
            return 0
        found = refs.find(case_number=args.case, partner=args.partner, state=args.state)
        if args.json:
            _print([r.summary() for r in found])
            return 0
        if not found:
            print(_("no referral"))
            return 0
        print(f"{'referral':<17} {'case':<20} {'partner':<22} {'rt':<6} {'step':<18} task")
        for r in found:
            print(_line(r))
        return 0


def _report(args: argparse.Namespace, refs: Referrals, ref: Referral, code: int = 0) -> int:
    if args.json:
        _print(refs.show(ref.id))
        return code
    print(
        _("referral {id}: {state}").format(id=ref.id, state=ref.state)
        + (_(" (Task {status})").format(status=ref.task_status) if ref.task_status else "")
    )
    if ref.state == "under-review":
        print(_("  waits for supervisor review: interop approve {id}").format(id=ref.disclosure_id))
    for item in refs.outbox.items(ref=ref.id):
        if item.status != "delivered":
            print(
                _("  delivery {id}: {status}").format(id=item.id, status=item.status)
                + (f" — {item.last_error}" if item.last_error else "")
            )
    return code


def _show(shown: dict[str, Any]) -> None:
    keys = ("id", "case_number", "partner", "trigger", "mode", "state", "task_status",
            "business_status", "status_reason", "break_glass", "disclosure_id", "remote_task",
            "created_at", "sent_at", "accept_due", "accepted_at", "finished_at")  # fmt: skip
    for k in keys:
        if shown.get(k) not in (None, ""):
            print(f"{k:<16} {shown[k]}")
    for f in shown.get("follow_up") or []:
        print(_("follow-up due    {due} (DL-17)").format(due=f["due"])
              + (_(" (provisional)") if f.get("provisional") else ""))  # fmt: skip
    print(_("history:"))
    for e in shown["events"]:
        move = f" {e['from_status'] or ''}→{e['to_status']}" if e["to_status"] else ""
        print(f"  {e['at']} {e['kind']}{move}" + (f": {e['detail']}" if e["detail"] else ""))
    for a in shown.get("anomalies") or []:
        print(_("ANOMALY {at}: {detail}").format(at=a["at"], detail=a["detail"]))
    if shown["outcomes"]:
        print(_("outcomes:"))
        for o in shown["outcomes"]:
            where = (
                _("in the case record, version {version}").format(version=o["case_version"])
                if o.get("case_version") is not None
                else _("not yet in the case record (the next poll adds it)")
            )
            print(_("  {reference} ({type}) fetched {at}; {where}").format(
                reference=o["reference"], type=o["resource_type"], at=o["fetched_at"],
                where=where))  # fmt: skip
    for d in shown["deliveries"]:
        print(_("delivery {id} {kind}: {status}, {attempts} attempt(s)").format(
            id=d["id"], kind=d["kind"], status=d["status"], attempts=d["attempts"])
              + (f" — {d['last_error']}" if d["last_error"] else ""))  # fmt: skip
