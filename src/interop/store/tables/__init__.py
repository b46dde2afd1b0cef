"""The archive's tables by area (存档表), all on one :data:`metadata`.

:mod:`interop.store.schema` gathers them with the tables every archive has had since its
first version and the schema version; the store modules read them there.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["metadata"]

#: The one catalogue of every table of the archive (``create_all`` makes them all).
metadata = sa.MetaData()
