"""Fault points: places where a test may stop the process (故障注入点).

Crash tests need the process to die at an exact point (after the outbox row
is written and before the network call; after N batches of a sync). Library
code marks such a place with :func:`reached`; nothing happens unless a test
entry point installed an injector with :func:`inject` (production code never
does, and no environment variable is read). The test entry point lives in
``tests/`` and kills the process with SIGKILL at the point it was given.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["inject", "reached"]

#: injector(point, count) — called at every fault point once installed.
Injector = Callable[[str, int], None]

_INJECTORS: list[Injector] = []


def inject(injector: Injector | None) -> None:
    """Install ``injector`` for this process (``None`` removes it)."""
    _INJECTORS.clear()
    if injector is not None:
        _INJECTORS.append(injector)


def reached(point: str, count: int = 0) -> None:
    """Mark a fault point (``count``: how often its work was done, e.g. batches)."""
    for injector in _INJECTORS:
        injector(point, count)
