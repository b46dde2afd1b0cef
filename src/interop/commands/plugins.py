"""``interop plugins`` — list the plugins that are loaded."""

from __future__ import annotations

import argparse
import json

from interop.i18n import _

NAME = "plugins"
HELP = "list the loaded plugins and the hooks they implement"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help=_("print JSON"))


def run(args: argparse.Namespace) -> int:
    # imported here: the parser and `interop --help` load no library
    from interop.exchange.plugins import Plugins, plugin_manager

    rows = Plugins(plugin_manager(blocked=args.settings.disabled_plugins)).describe()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        print(f"{r['name']:<20} {r['module']:<36} {', '.join(r['hooks'])}")
    return 0
