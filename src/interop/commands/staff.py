"""``interop staff add|list|show|roles|record|deactivate|password|token`` — the staff
register (人员名册, 5.2) and its accounts.

The first administrator is made on the machine itself: ``interop staff add ID --name N
--admin`` (refused once the register has anyone). Everything else acts for the person
signed in with a personal API token (``INTEROP_TOKEN``), whose roles the policy table checks;
``staff token issue`` gets such a token with the person's password (read from stdin).
Passwords are read from stdin, never from the command line; a generated one is printed once.
Text output masks names (``--json`` gives the register's entry to scripts).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from typing import TYPE_CHECKING, Any

from interop._errors import StaffError
from interop.core.masking import mask_name
from interop.i18n import _
from interop.staff.accounts import TOKEN_DAYS, Accounts, create_first_admin
from interop.staff.identity import act_as
from interop.staff.register import (
    ROLES,
    Register,
    qualification,
    screening,
)

if TYPE_CHECKING:
    from interop.store.archive import Archive

NAME = "staff"
HELP = "the staff register: people, roles, qualifications, screening, passwords and tokens"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="staff_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", help=_("add a person to the register"))
    add.add_argument("id", metavar="STAFF_ID", help=_("register id (the id case records use)"))
    add.add_argument("--name", required=True, help=_("full name (shown to signed-in staff only)"))
    add.add_argument("--role", action="append", default=[], choices=sorted(ROLES))
    _records(add)
    add.add_argument("--from", dest="start", metavar="DATE", help=_("first active day"))
    add.add_argument(
        "--admin",
        action="store_true",
        help=_("the first administrator, made on this machine (refused once anyone is registered)"),
    )
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help=_("read the password from stdin (else one is generated and printed once)"),
    )
    add.add_argument("--no-password", action="store_true", help=_("no account (register only)"))
    add.add_argument("--json", action="store_true", help=_("script-readable output"))

    ls = sub.add_parser("list", help=_("everyone in the register"))
    ls.add_argument("--json", action="store_true", help=_("print a JSON array"))
    show = sub.add_parser("show", help=_("one person: roles, qualifications, screening, tokens"))
    show.add_argument("id", metavar="STAFF_ID")
    show.add_argument("--json", action="store_true", help=_("script-readable output"))

    roles = sub.add_parser("roles", help=_("set a person's roles (5.2 checks apply)"))
    roles.add_argument("id", metavar="STAFF_ID")
    roles.add_argument("roles", nargs="+", metavar="ROLE", choices=sorted(ROLES))
    rec = sub.add_parser("record", help=_("record a qualification or screening of a person"))
    rec.add_argument("id", metavar="STAFF_ID")
    _records(rec)
    de = sub.add_parser("deactivate", help=_("end a person's active period (tokens end)"))
    de.add_argument("id", metavar="STAFF_ID")
    de.add_argument("--until", metavar="DATE", help=_("last active day (default today)"))

    pw = sub.add_parser(
        "password",
        help=_(
            "change one's password (stdin: old, then new line) or, as administrator, "
            "set another's (--reset; stdin: new)"
        ),
    )
    pw.add_argument("id", metavar="STAFF_ID")
    pw.add_argument("--reset", action="store_true", help=_("administrator sets a new password"))

    tok = sub.add_parser("token", help=_("personal API tokens (INTEROP_TOKEN)"))
    tsub = tok.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    issue = tsub.add_parser("issue", help=_("a new token for STAFF_ID (stdin: the password)"))
    issue.add_argument("id", metavar="STAFF_ID")
    issue.add_argument("--label", default="cli", help=_("what the token is for"))
    issue.add_argument("--days", type=int, default=TOKEN_DAYS, help=_("life in days (1-366)"))
    tsub.add_parser("list", help=_("the signed-in person's tokens (administrators: everyone's)"))
    rv = tsub.add_parser("revoke", help=_("revoke a token (one's own; administrators: any)"))
    rv.add_argument("token_id", metavar="TOKEN_ID")


def _records(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--qualification",
        action="append",
        default=[],
        metavar="CODE:DATE[:REF]",
        help=_("a qualification (5.2.2/5.2.3): sw-mid, degree-psych, supervision-experience, …"),
    )
    p.add_argument(
        "--screening",
        action="append",
        default=[],
        metavar="DATE:RESULT[:AUTHORITY]",
        help=_("a minor-contact screening (R-5.2.2-03); RESULT passed or failed"),
    )


def _parsed(args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    quals = []
    for text in args.qualification:
        code, _sep, rest = text.partition(":")
        date, _sep, ref = rest.partition(":")
        quals.append(qualification(code, date, ref or None))
    screens = []
    for text in args.screening:
        date, _sep, rest = text.partition(":")
        result, _sep, authority = rest.partition(":")
        screens.append(screening(date, result, authority or None))
    return quals, screens


def _stdin_lines(n: int) -> list[str]:
    lines = [sys.stdin.readline().rstrip("\r\n") for _ in range(n)]
    if any(not line for line in lines):
        raise StaffError(_("expected {n} line(s) on stdin").format(n=n), code="E808")
    return lines


def _out(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def run(args: argparse.Namespace) -> int:
    from interop.store import Archive  # (`interop staff --help` loads no database library)

    with Archive.open(args.db) as archive:
        return _run(args, archive)


def _run(args: argparse.Namespace, archive: Archive) -> int:
    action = args.staff_command
    register, accounts = Register(archive), Accounts(archive)
    if action == "add":
        return _add(args, archive, register, accounts)
    if action == "password":
        if args.reset:
            act_as(archive, args.settings.token, "staff.manage")
            accounts.set_password(args.id, _stdin_lines(1)[0])
        else:
            old, new = _stdin_lines(2)
            accounts.change_password(args.id, old, new)
        print(_("password of {id} changed").format(id=args.id))
        return 0
    if action == "token":
        return _tokens(args, archive, accounts)
    if action in ("list", "show"):
        person = act_as(archive, args.settings.token, "self.manage")
        if action == "show" and args.id == person.staff_id:
            pass  # one's own entry
        else:
            act_as(archive, args.settings.token, "staff.view")
        if action == "list":
            people = register.all()
            if args.json:
                _out(people)
                return 0
            for p in people:
                state = _("active") if register.is_active(p) else _("inactive")
                print(f"{p['id']:<16} {mask_name(p['name']):<8} {','.join(p['roles']):<32} {state}")
            return 0
        entry = register.get(args.id)
        entry["tokens"] = accounts.store.tokens(args.id)
        if args.json:
            _out(entry)
            return 0
        print(f"{entry['id']}  {mask_name(entry['name'])}  {', '.join(entry['roles'])}")
        active, qual, screen = _("active"), _("qualification"), _("screening")
        print(f"  {active}: {entry['active_from']} – {entry['active_until'] or '…'}")
        for q in entry["qualifications"]:
            print(f"  {qual}: {q['kind']} {q['date']}")
        for s in entry["screening"]:
            print(f"  {screen}: {s['date']} {_(s['result'])}")
        for k in entry["tokens"]:
            revoked = _("revoked") if k["revoked_at"] else ""
            print(
                "  "
                + _("token {id} {label} {revoked}").format(
                    id=k["id"], label=k["label"], revoked=revoked
                )
            )
        return 0
    act_as(archive, args.settings.token, "staff.manage")
    if action == "roles":
        entry = register.set_roles(args.id, args.roles)
        print(_("roles of {id}: {roles}").format(id=args.id, roles=", ".join(entry["roles"])))
    elif action == "record":
        quals, screens = _parsed(args)
        register.record(args.id, qualifications=quals, screening=screens)
        print(_("recorded for {id}").format(id=args.id))
    else:
        entry = register.deactivate(args.id, args.until)
        print(_("{id} active until {until}").format(id=args.id, until=entry["active_until"]))
    return 0


def _add(args: argparse.Namespace, archive: Archive, register: Register, acc: Accounts) -> int:
    quals, screens = _parsed(args)
    generated = None
    password = None
    if not args.no_password:
        password = _stdin_lines(1)[0] if args.password_stdin else None
        if password is None:
            generated = password = secrets.token_urlsafe(12)
    if args.admin:
        if password is None:
            raise StaffError(_("the first administrator needs a password"), code="E808")
        entry = create_first_admin(archive, args.id, args.name, password, roles=args.role)
    else:
        act_as(archive, args.settings.token, "staff.manage")
        entry = register.add(
            args.id,
            args.name,
            args.role,
            qualifications=quals,
            screening=screens,
            active_from=args.start,
        )
        if password is not None:
            acc.set_password(args.id, password)
    if args.json:
        _out({**entry, **({"password": generated} if generated else {})})
        return 0
    print(_("{id} added: {roles}").format(id=args.id, roles=", ".join(entry["roles"])))
    if generated:
        print(_("password (shown once): {pw}").format(pw=generated))
    return 0


def _tokens(args: argparse.Namespace, archive: Archive, accounts: Accounts) -> int:
    if args.token_command == "issue":
        person = accounts.authenticate(args.id, _stdin_lines(1)[0])
        secret, row = accounts.issue_token(person.staff_id, label=args.label, days=args.days)
        print(secret)
        print(
            _("token {id} expires in {days} days; export INTEROP_TOKEN=…").format(
                id=row["id"], days=args.days
            ),
            file=sys.stderr,
        )
        return 0
    person = act_as(archive, args.settings.token, "self.manage")
    admin = person.has("admin")
    if args.token_command == "list":
        for k in accounts.store.tokens(None if admin else person.staff_id):
            state = _("revoked") if k["revoked_at"] else ""
            print(f"{k['id']:<20} {k['staff_id']:<16} {k['label']:<16} {state}")
        return 0
    owned = {k["id"] for k in accounts.store.tokens(person.staff_id)}
    if not admin and args.token_id not in owned:
        act_as(archive, args.settings.token, "staff.manage")
    accounts.revoke_token(args.token_id)
    print(_("token {id} revoked").format(id=args.token_id))
    return 0
