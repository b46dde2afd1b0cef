"""``interop consent list|add|withdraw`` — data-sharing consents per topic (7.2.3, G-25).

A consent is part of the case record: adding or withdrawing one stores a new
version of the record (nothing is overwritten, 9.4.3). The grantor is the
guardian or temporary guardian (an adult id of the record); the child's
assent is recorded beside it. Adding or withdrawing needs a person signed in with
their personal API token (``INTEROP_TOKEN``) who is staff of the case.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from interop._errors import InputError
from interop.i18n import _, current

NAME = "consent"
HELP = "list, add or withdraw the data-sharing consents of a case"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="consent_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help=_("the consents of a case"))
    ls.add_argument("case", metavar="CASE")
    ls.add_argument("--json", action="store_true", help=_("print a JSON array"))
    add = sub.add_parser("add", help=_("record a consent (a new case-record version)"))
    add.add_argument("case", metavar="CASE")
    add.add_argument(
        "--topic", required=True, help=_("consent topic: service, school-contact, hosp-referral, …")
    )
    add.add_argument(
        "--grantor",
        required=True,
        metavar="ADULT_ID",
        help=_("the guardian or temporary guardian (adult id of the record)"),
    )
    add.add_argument("--date", help=_("date signed (default today)"))
    add.add_argument("--from", dest="start", help=_("first day it covers"))
    add.add_argument("--until", help=_("last day it covers"))
    add.add_argument("--child-assent", choices=("yes", "no"), help=_("the child's assent (G-25)"))
    add.add_argument("--id", help=_("consent id (default consent-NN)"))
    wd = sub.add_parser("withdraw", help=_("withdraw a consent (a new case-record version)"))
    wd.add_argument("case", metavar="CASE")
    wd.add_argument("consent_id", metavar="CONSENT_ID")
    wd.add_argument("--date", help=_("date withdrawn (default today)"))


def _status(code: str) -> str:
    """A consent's status for the operator: the record's code in English (as before),
    words in another language."""
    if current() == "en":
        return code
    return {"active": _("in force"), "inactive": _("withdrawn")}.get(code, code)


def _date(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise InputError(
            _("{what}: not a date YYYY-MM-DD").format(what=what), code="E105"
        ) from None


def run(args: argparse.Namespace) -> int:
    # imported here: the parser and `interop --help` load no library
    from interop.caserecord import record_to_dict
    from interop.privacy.session import open_discloser
    from interop.staff.identity import act_as

    with open_discloser(args) as discloser:
        _version, record = discloser.latest_record(args.case)
        if args.consent_command == "list":
            rows = [record_to_dict(record)["consents"][i] for i in range(len(record.consents))]
            if args.json:
                print(json.dumps(rows, ensure_ascii=False))
            else:
                for c in rows:
                    period = f"{c.get('period_start', '…')} – {c.get('period_end', '…')}"
                    line = _(
                        "{id:<14} {topic:<18} {status:<9} by {grantor} on {date} ({period}) "
                        "assent {assent}"
                    )
                    print(
                        line.format(
                            id=c["id"],
                            topic=c["topic"],
                            status=_status(c["status"]),
                            grantor=c["grantor"],
                            date=c["date"],
                            period=period,
                            assent=c.get("child_assent", "-"),
                        )
                    )
            return 0
        act_as(discloser.archive, args.settings.token, "consent.change", case=args.case)
        moment = discloser.now()
        today = moment.date().isoformat()
        body: dict[str, Any] = record_to_dict(record)
        consents = body.setdefault("consents", [])
        if args.consent_command == "add":
            cid = args.id or f"consent-{len(consents) + 1:02d}"
            if any(c["id"] == cid for c in consents):
                raise InputError(
                    _("case {case} already has a consent {id}").format(case=args.case, id=cid),
                    code="E109",
                )
            new = {
                "id": cid,
                "topic": args.topic,
                "status": "active",
                "grantor": args.grantor,
                "date": _date(args.date, "--date") or today,
            }
            if args.start:
                new["period_start"] = _date(args.start, "--from")
            if args.until:
                new["period_end"] = _date(args.until, "--until")
            if args.child_assent:
                new["child_assent"] = args.child_assent == "yes"
            consents.append(new)
            done = _("consent {id} ({topic}) recorded").format(id=cid, topic=args.topic)
        else:
            found = next((c for c in consents if c["id"] == args.consent_id), None)
            if found is None:
                raise InputError(
                    _("case {case} has no consent {id}").format(case=args.case, id=args.consent_id),
                    code="E109",
                )
            found["status"] = "inactive"
            found["withdrawn_date"] = _date(args.date, "--date") or today
            done = _("consent {id} withdrawn on {date}").format(
                id=args.consent_id, date=found["withdrawn_date"]
            )
        checked = discloser.engine.check_case(body)
        if checked.record is None or not checked.ok:
            problems = "; ".join(i.line() for i in checked.issues if i.severity == "error")
            raise InputError(
                _("the consent does not fit the case record: {problems}").format(problems=problems),
                code="E109",
            )
        rec = checked.record
        archive = discloser.archive
        result = archive.import_record(
            rec.case.case_number,
            body,
            state=rec.case.state,
            risk_level=rec.case.risk_level,
            resident_id=rec.child.resident_id,
            deadline=archive.case_deadline(rec.case.case_number),
            received=rec.case.list_received_date,
        )
    print(
        _("case {case}: {done} ({result} version)").format(
            case=args.case, done=done, result=_(result)
        )
    )
    return 0
