"""The ``interop`` command.

Exit codes: 0 success; 1 the data breaks a rule or a run could not complete;
2 unusable arguments or unreadable input. Expected errors print one plain
line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import ast
import gc
import importlib
import importlib.util
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from interop._errors import InteropError
from interop.clock import Clock
from interop.commands import COMMANDS
from interop.i18n import LANGUAGES, _, choose, current, speaking
from interop.i18n.errors import explain
from interop.i18n.parser import Parser
from interop.settings import Settings

log = logging.getLogger(__name__)


_GLOBAL_WITH_VALUE = frozenset({"--db", "--config", "--lang"})


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv`` (skipping global options), if any."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _GLOBAL_WITH_VALUE:
            skip = True
        elif not arg.startswith("-"):
            return arg if arg in COMMANDS else None
        elif arg in ("-h", "--help"):
            return None
    return None


def command_help(modname: str) -> str:
    """A command's ``HELP`` read from its source, without importing the module
    (a command module may import heavy libraries; the overview needs none)."""
    spec = importlib.util.find_spec(modname)
    origin = spec.origin if spec is not None else None
    if origin is not None and origin.endswith(".py"):
        tree = ast.parse(Path(origin).read_text(encoding="utf-8"))
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "HELP" for t in node.targets)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                return node.value.value
    help_text: str = importlib.import_module(modname).HELP  # HELP is not a plain string
    return help_text


def _lang_in(argv: Sequence[str]) -> str | None:
    """The ``--lang`` of ``argv`` (read before parsing, so the help is in that language)."""
    for i, arg in enumerate(argv):
        value = argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else None
        if arg.startswith("--lang="):
            value = arg.partition("=")[2]
        if value is not None:
            # an unknown language is argparse's to refuse, in the language of LANG
            return value if value in LANGUAGES else None
    return None


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser, in the current language; imports only the chosen command's module
    (none for the overview)."""
    parser = Parser(
        prog="interop",
        description=_(
            "Carry DB36/T 2143-2025 case data as FHIR R4, sending each partner only "
            "what its purpose needs."
        ),
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help=_(
            "archive database URL (sqlite:///path or postgresql://…); default $INTEROP_DB, "
            "[settings] db or a SQLite file in the user data folder"
        ),
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help=_("partners configuration (TOML); default $INTEROP_CONFIG"),
    )
    parser.add_argument(
        "--lang", choices=("zh_CN", "en"), help=_("language of messages; default from $LANG")
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help=_("more log output"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = _chosen_command(argv)
    for name, modname in COMMANDS.items():
        if name != chosen:
            # listed for argparse's choices, with its help for the overview only; never run
            overview = chosen is None
            sub.add_parser(
                name, help=_(command_help(modname)) if overview else None, add_help=False
            )
            continue
        mod = importlib.import_module(modname)
        p = sub.add_parser(mod.NAME, help=_(mod.HELP), description=_(mod.HELP))
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    """Run one command; ``clock`` (tests, demos) replaces the system clock."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # the language first: the help and argparse's own errors are in it too
    with speaking(choose(_lang_in(argv), os.environ.get("LANG"))):
        return _run(argv, clock)


def _run(argv: list[str], clock: Clock | None) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        # the one place that reads the environment: everything below gets settings
        settings = Settings.build(db=args.db, config=args.config, environ=os.environ, clock=clock)
        args.settings = settings
        args.db = settings.archive_url()
        args.config = settings.config
        from interop.fhir import diskcache

        diskcache.use_folder(settings.cache_dir)
        code: int = args._run(args)
    except InteropError as exc:
        print(f"interop: {explain(exc, current())}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interop: " + _("interrupted"), file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return code


def console() -> None:
    """The ``interop`` command: :func:`main`, then the process ends."""
    code = main()
    # Spare the ending process the collector's last walk over everything it loaded
    # (a tenth of a second after a large sync); finalizers still run.
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    console()
