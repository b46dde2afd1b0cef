"""What the outbound commands share: a delivery driver opened from the CLI options."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from interop.exchange.driver import Driver
from interop.exchange.plugins import Plugins, plugin_manager
from interop.privacy.session import open_discloser

__all__ = ["open_driver"]


@contextmanager
def open_driver(args: argparse.Namespace) -> Iterator[Driver]:
    """A :class:`Driver` over the archive and partners of ``--db`` and ``--config``."""
    plugins = None
    if args.settings.disabled_plugins:
        plugins = Plugins(plugin_manager(blocked=args.settings.disabled_plugins))
    with open_discloser(args) as discloser, Driver(discloser, plugins=plugins) as driver:
        yield driver
