"""The delisting guard (除名保护): a full list delists only what it plainly means to
(R-7.1.1-01).

A ``--full`` list delists the listed children it does not name. A file naming
far fewer than the archive lists — a partial export, the wrong sheet, rows that
all failed their checks — would delist the rest by accident: so when more than
a limit (by default 10 % of the listed children) would be delisted, the sync
stops before writing anything and says how many and why; ``--allow-delist N``
or ``--allow-delist P%`` lets it go ahead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from interop._errors import DelistRefused as DelistRefused
from interop._errors import InputError
from interop.i18n import N_

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
    share: float = 0.10

    @classmethod
    def parse(cls, text: str | None) -> DelistLimit:
        if text is None:
            return DEFAULT_LIMIT
        value = text.strip()
        try:
            limit = cls(share=float(value[:-1]) / 100) if value.endswith("%") else cls(int(value))
        except ValueError:
            limit = cls(count=-1)
        if (limit.count or 0) < 0 or not 0 <= limit.share <= 1:
            raise InputError(BAD_LIMIT.format(text=text), code="E188")
        return limit

    def check(self, *, would: int, listed: int, rows: int) -> None:
        """Raise :class:`DelistRefused` when ``would`` delistings are more than allowed."""
        allowed = self.count if self.count is not None else self.share * listed
        if would <= allowed:
            return
        limit = f"--allow-delist {self.count}" if self.count is not None else None
        raise DelistRefused(
            TOO_MANY.format(
                would=would,
                listed=listed,
                share=f"{would / listed if listed else 1:.0%}",  # (a plain field: localisable)
                limit=limit or LIMIT_SHARE.format(share=f"{self.share:.0%}"),
                named=listed - would,
                rows=rows,
                percent=math.ceil(100 * would / listed) if listed else 100,
            ),
            code="E187",
        )


DEFAULT_LIMIT = DelistLimit()
