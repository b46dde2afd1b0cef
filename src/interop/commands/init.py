"""``interop init [--db URL]`` — create the archive (建立档案库), the one command that does.

Every other command opens an existing archive only and refuses a location
without one, saying how to create it. ``init`` is idempotent: an archive
that exists already is left as it is (migrated when it is older).
"""

from __future__ import annotations

import argparse
import json

NAME = "init"
HELP = "create the archive at --db (or $INTEROP_DB, or the default); nothing when it exists"

READY = "archive ready at {where} (schema version {version})"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    # imported here: `interop init --help` loads no database library
    from interop.store import Archive
    from interop.store.connect import describe_url
    from interop.store.location import resolve_url
    from interop.store.schema import SCHEMA_VERSION

    with Archive.create(args.db):
        pass
    where = describe_url(resolve_url(args.db))
    if args.json:
        print(json.dumps({"archive": where, "schema_version": SCHEMA_VERSION}))
    else:
        print(READY.format(where=where, version=SCHEMA_VERSION))
    return 0
