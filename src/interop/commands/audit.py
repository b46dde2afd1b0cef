"""``interop audit list|verify|report`` — the disclosure audit log (requirements §4.8).

``list`` shows the AuditEvents in chain order (``--case``, ``--action``);
``verify`` walks the hash chain and exits 1 naming the first broken link when
any row was edited, deleted or reordered; ``report`` lists the disclosures
of a month per purpose and every break-glass disclosure with its review
(4.7: the monthly audit report).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections import Counter

from interop._errors import InputError
from interop.i18n import _

NAME = "audit"
HELP = "the disclosure audit log: list, verify the hash chain, monthly report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help=_("audit events in chain order"))
    ls.add_argument("--case", metavar="CASE", help=_("only events of this case"))
    ls.add_argument("--action", help=_("only this action (request, approval, break-glass …)"))
    ls.add_argument("--json", action="store_true", help=_("print a JSON array of AuditEvents"))
    vf = sub.add_parser("verify", help=_("check the hash chain (exit 1 at the first broken link)"))
    vf.add_argument("--json", action="store_true", help=_("script-readable output"))
    rp = sub.add_parser("report", help=_("disclosures of a month; every break-glass (4.7)"))
    rp.add_argument("--month", metavar="YYYY-MM", help=_("default: all time"))
    rp.add_argument("--json", action="store_true", help=_("script-readable output"))


def _month(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    try:
        start = dt.date.fromisoformat(value + "-01")
    except ValueError:
        raise InputError(_("--month: give YYYY-MM"), code="E105") from None
    nxt = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start.isoformat(), nxt.isoformat()


def run(args: argparse.Namespace) -> int:
    # imported here: the parser and `interop --help` load no library
    from interop.privacy import audit
    from interop.privacy.disclosure import Discloser
    from interop.store import Archive

    with Archive.open(args.db) as archive:
        if args.audit_command == "verify":
            with archive.engine.connect() as conn:
                count, broken = audit.verify(conn)
            if args.json:
                out: dict[str, object] = {"rows": count, "ok": broken is None}
                if broken is not None:
                    out.update(broken_at=broken.seq, problem=broken.problem)
                print(json.dumps(out))
            elif broken is None:
                print(_("audit chain intact: {count} events").format(count=count))
            else:
                print(
                    _("audit chain BROKEN at event {seq}: {problem}").format(
                        seq=broken.seq, problem=broken.problem
                    )
                )
            return 0 if broken is None else 1
        if args.audit_command == "list":
            with archive.engine.connect() as conn:
                rows = audit.rows(conn, case_number=args.case, action=args.action)
            if args.json:
                print(
                    json.dumps(
                        [{**r.as_dict(), "event": r.event} for r in rows], ensure_ascii=False
                    )
                )
                return 0
            for r in rows:
                line = _(
                    "{seq:>6} {recorded} {action:<18} case {case} {purpose} → {partner} by {actor}"
                )
                print(
                    line.format(
                        seq=r.seq,
                        recorded=r.recorded,
                        action=r.action,
                        case=r.case_number or "-",
                        purpose=r.purpose or "-",
                        partner=r.partner or "-",
                        actor=r.actor or "-",
                    )
                    + (f" [{r.disclosure_id}]" if r.disclosure_id else "")
                )
            return 0
        since, until = _month(args.month)
        with archive.engine.connect() as conn:
            rows = audit.rows(conn, since=since, until=until)
        from interop.config import Config
        from interop.engine import Engine

        report = Discloser(archive, Engine(), Config()).break_glass_report(since=since, until=until)
    per = Counter((r.purpose, r.action) for r in rows)
    summary = [
        {"purpose": p, "action": a, "count": n} for (p, a), n in sorted(per.items(), key=str)
    ]
    if args.json:
        print(
            json.dumps(
                {"month": args.month, "events": summary, "break_glass": report}, ensure_ascii=False
            )
        )
        return 0
    print(
        _("audit report for {month}").format(month=args.month) if args.month else _("audit report")
    )
    for s in summary:
        print(f"  {s['purpose'] or '-':<20} {s['action']:<18} {s['count']:>5}")
    print(_("break-glass disclosures: {n}").format(n=len(report)))
    for b in report:
        review = b["review_outcome"] or b["review_status"]
        print(
            "  "
            + _(
                "{id} case {case} → {partner} by {requester} ({reason}) on {created}: "
                "review due {due}, {review}"
            ).format(
                id=b["disclosure"],
                case=b["case"],
                partner=b["partner"],
                requester=b["requester"],
                reason=b["reason_code"],
                created=b["created_at"],
                due=b["review_due"],
                review=_(review) if review else _("no review task"),
            )
        )
    return 0
