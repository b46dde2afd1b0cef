"""``interop init [--db URL] [--admin]`` — create the archive (建立档案库), the one command
that does.

Every other command opens an existing archive only and refuses a location
without one, saying how to create it. ``init`` is idempotent: an archive
that exists already is left as it is (migrated when it is older).

``--admin`` also makes the first administrator of an empty register (staff id ``admin``,
also org lead) with a generated password, written to a file beside the archive that only
the user can read (``….initialAdminPassword``, mode 0600) — never printed or logged. Run
again (another clone on the same machine, the same archive), it names the same file while
that password is unused; once the administrator sets their own, the file is gone.
"""

from __future__ import annotations

import argparse
import json

from interop.i18n import N_, _

NAME = "init"
HELP = "create the archive at --db (or $INTEROP_DB, or the default); nothing when it exists"

READY = N_("archive ready at {where} (schema version {version})")
MSG_ADMIN = {
    "created": N_(
        "first administrator {id} created; initial password in {file} (readable only "
        "by you; removed when {id} sets a password of their own)"
    ),
    "kept": N_("initial administrator {id}: password still unused, in {file}"),
    "reissued": N_(
        "initial administrator {id}: a new initial password in {file} (its file was "
        "gone and the generated password never changed)"
    ),
    "has-staff": N_("the register already has staff: sign in with your own staff id and password"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--admin",
        action="store_true",
        help="also make the first administrator of an empty register; the generated "
        "password goes to a file beside the archive (mode 0600)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    # imported here: `interop init --help` loads no database library
    from interop.store import Archive
    from interop.store.connect import describe_url
    from interop.store.location import resolve_url
    from interop.store.schema import SCHEMA_VERSION

    url = resolve_url(args.db, data_dir=args.settings.data_dir)
    admin = None
    with Archive.create(args.db) as archive:
        if args.admin:
            from interop.staff.initial_admin import ensure_first_admin, password_file

            admin = ensure_first_admin(archive, password_file(url, args.settings.data_dir))
    where = describe_url(url)
    if args.json:
        out: dict[str, object] = {"archive": where, "schema_version": SCHEMA_VERSION}
        if admin is not None:
            out["admin"] = {
                "state": admin.state,
                "staff_id": admin.staff_id,
                "password_file": str(admin.file) if admin.file else None,
            }
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(_(READY).format(where=where, version=SCHEMA_VERSION))
        if admin is not None:
            print(_(MSG_ADMIN[admin.state]).format(id=admin.staff_id, file=admin.file))
    return 0
