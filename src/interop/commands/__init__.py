"""Sub-commands of the ``interop`` command line, one module each.

Each module has ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``. Adding a command = adding a module and one line here.
"""

from __future__ import annotations

COMMAND_MODULES: tuple[str, ...] = (
    "interop.commands.map",
    "interop.commands.validate",
    "interop.commands.plugins",
    "interop.commands.sync",
    "interop.commands.cases",
    "interop.commands.import_",
    "interop.commands.share",
    "interop.commands.approve",
    "interop.commands.reject",
    "interop.commands.audit",
    "interop.commands.consent",
    "interop.commands.referral",
    "interop.commands.outbox",
)
