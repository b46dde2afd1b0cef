"""``interop map CASE_FILE`` — a case record as a validated FHIR R4 Bundle."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from interop.i18n import _

if TYPE_CHECKING:
    from interop.issues import Issue

NAME = "map"
HELP = "map a case-record file to a FHIR R4 Bundle (type collection) and validate it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("case_file", metavar="CASE_FILE", help=_("a case-record JSON file"))
    parser.add_argument("--format", default="json", help=_("output format: json or xml"))
    parser.add_argument("--out", metavar="FILE", help=_("write the Bundle here instead of stdout"))
    parser.add_argument(
        "--org-code",
        metavar="CODE",
        help=_("organisation namespace of case numbers (default $INTEROP_ORG_CODE or [settings])"),
    )


def print_issues(issues: list[Issue]) -> None:
    for issue in issues:
        print(issue.line(), file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    # imported here: ``interop --help`` and the parser load no library
    from interop._errors import InputError
    from interop.engine import Engine
    from interop.exchange.plugins import Plugins, plugin_manager
    from interop.fhir.canonical import case_number_system

    formats = Plugins(plugin_manager(blocked=args.settings.disabled_plugins)).formats()
    fmt = formats.get(args.format)
    if fmt is None:
        raise InputError(
            _("unknown format '{format}' (known: {known})").format(
                format=args.format, known=", ".join(sorted(formats))
            ),
            code="E104",
        )
    engine = Engine(
        case_number_system=case_number_system(args.org_code or args.settings.org_code),
        canonical_base=args.settings.canonical_base,
    )
    mapped = engine.map_file(args.case_file)
    print_issues(mapped.issues)
    if not mapped.ok or mapped.bundle is None:
        errors = sum(1 for i in mapped.issues if i.severity == "error")
        said = _("{file}: {n} error(s); no Bundle written")
        print(said.format(file=args.case_file, n=errors), file=sys.stderr)
        return 1
    data = fmt.dumps(engine.emitted(mapped.bundle))
    if args.out:
        Path(args.out).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0
