"""What the privacy commands share: opening a Discloser from the CLI options.

The time comes from the settings' clock (:mod:`interop.clock`); no option sets it.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from interop.config import load_config
from interop.privacy.disclosure import Discloser
from interop.store import Archive

__all__ = ["open_discloser"]


@contextmanager
def open_discloser(args: argparse.Namespace) -> Iterator[Discloser]:
    """A Discloser over ``--db`` and ``--config``; approval authority from the staff
    register (G-16), the time from the settings' clock."""
    from interop.engine import Engine
    from interop.fhir.canonical import case_number_system
    from interop.staff.identity import authority

    engine = Engine(
        case_number_system=case_number_system(args.settings.org_code),
        canonical_base=args.settings.canonical_base,
    )
    config = load_config(args.config, secrets=args.settings.secrets)
    with Archive.open(args.db) as archive:
        yield Discloser(
            archive,
            engine,
            config,
            now=args.settings.clock.now,
            authority=authority(archive).active_roles,
        )
