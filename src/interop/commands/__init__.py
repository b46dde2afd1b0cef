"""Sub-commands of the ``interop`` command line, one module each.

Each module has ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``. Adding a command = adding a module and one line here.
Only the module of the command being run is imported (start-up stays fast).
"""

from __future__ import annotations

#: command name → module
COMMANDS: dict[str, str] = {
    "init": "interop.commands.init",
    "map": "interop.commands.map",
    "validate": "interop.commands.validate",
    "plugins": "interop.commands.plugins",
    "sync": "interop.commands.sync",
    "cases": "interop.commands.cases",
    "import": "interop.commands.import_",
    "share": "interop.commands.share",
    "approve": "interop.commands.approve",
    "reject": "interop.commands.reject",
    "audit": "interop.commands.audit",
    "consent": "interop.commands.consent",
    "referral": "interop.commands.referral",
    "outbox": "interop.commands.outbox",
    "package": "interop.commands.package",
    "case": "interop.commands.case",
    "report": "interop.commands.report",
    "staff": "interop.commands.staff",
    "serve": "interop.commands.serve",
}
