"""The ``--full`` guard (除名保护): a full list delists only what it plainly means to.

A ``--full`` list delists the listed children it does not name. A file that
names far fewer than the archive lists — a partial export, the wrong sheet,
rows that all failed their checks — would delist the rest by accident. So
when more than a limit (by default 10 % of the listed children) would be
delisted, the sync stops after its first pass, before writing anything, and
says how many and why; ``--allow-delist N`` or ``--allow-delist P%`` lets it go
ahead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from interop._errors import DelistRefused as DelistRefused
from interop._errors import InputError
from interop.i18n import N_

#: Share of the listed children a full list may delist without --allow-delist.
DEFAULT_SHARE = 0.10

TOO_MANY = N_(
    "--full would delist {would} of the {listed} listed children ({share}), more than "
    "{limit} allows: the list names only {named} of them ({rows} rows read). Nothing was "
    "changed. If the list really is the whole list, run again with --allow-delist {would} "
    "(or --allow-delist {percent}%)"
)
LIMIT_SHARE = N_("the limit of {share}")
BAD_LIMIT = N_("--allow-delist {text}: give a number of children (e.g. 25) or a share (e.g. 15%)")


@dataclass(frozen=True, slots=True)
class DelistLimit:
    """At most ``count`` children, or at most ``share`` of the listed ones."""

    count: int | None = None
    share: float = DEFAULT_SHARE

    @classmethod
    def parse(cls, text: str | None) -> DelistLimit:
        if text is None:
            return DEFAULT_LIMIT
        value = text.strip()
        try:
            if value.endswith("%"):
                share = float(value[:-1]) / 100
                if not 0 <= share <= 1:
                    raise ValueError(value)
                return cls(share=share)
            count = int(value)
            if count < 0:
                raise ValueError(value)
            return cls(count=count)
        except ValueError:
            raise InputError(BAD_LIMIT.format(text=text), code="E188") from None

    def allows(self, would: int, listed: int) -> bool:
        if self.count is not None:
            return would <= self.count
        return would <= self.share * listed

    def describe(self) -> str:
        if self.count is not None:
            return f"--allow-delist {self.count}"
        return LIMIT_SHARE.format(share=f"{self.share:.0%}")


DEFAULT_LIMIT = DelistLimit()


def check(limit: DelistLimit, *, would: int, listed: int, rows: int) -> None:
    """Raise :class:`DelistRefused` when ``would`` delistings exceed ``limit``."""
    if would == 0 or limit.allows(would, listed):
        return
    raise DelistRefused(
        TOO_MANY.format(
            would=would,
            listed=listed,
            share=f"{would / listed if listed else 1:.0%}",  # (a plain field: localisable)
            limit=limit.describe(),
            named=listed - would,
            rows=rows,
            percent=math.ceil(100 * would / listed) if listed else 100,
        ),
        code="E187",
    )
