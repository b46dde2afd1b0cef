"""Test-only entry point: the ``interop`` command with a fault point that kills it.

Crash tests run ``python tests/fault_entry.py POINT[:COUNT][@INT] -- ARGS…`` (or call
:func:`kill_at` in a script) instead of ``python -m interop.cli ARGS…``: the
process is killed with SIGKILL when the library reaches ``POINT`` (and, with
``COUNT``, when the work counted there reached COUNT); with ``@INT`` it gets a
SIGINT instead, as from Ctrl-C. Production code never installs an injector; the
fault points do nothing there.
"""

from __future__ import annotations

import os
import signal
import sys

from interop import faults


def kill_at(spec: str) -> None:
    """Install an injector that SIGKILLs (``@INT``: interrupts) this process at
    ``POINT[:COUNT]``."""
    spec, _, sig_name = spec.partition("@")
    sig = signal.SIGINT if sig_name == "INT" else signal.SIGKILL
    point, _, count = spec.partition(":")
    at_least = int(count) if count else 0

    def injector(reached: str, done: int) -> None:
        if reached == point and done >= at_least:
            print(f"fault point {reached} reached ({done}): signal {sig.name}", file=sys.stderr)
            sys.stderr.flush()
            os.kill(os.getpid(), sig)

    faults.inject(injector)


def main(argv: list[str]) -> None:
    spec, sep, *rest = argv
    assert sep == "--", "usage: fault_entry.py POINT[:COUNT] -- ARGS…"
    kill_at(spec)
    from interop.cli import main as interop_main

    raise SystemExit(interop_main(rest))


if __name__ == "__main__":
    main(sys.argv[1:])
