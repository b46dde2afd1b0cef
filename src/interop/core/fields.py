"""Field helpers for the core records: bindings and requirement IDs as metadata.

The metadata drives three things from one place: the case-record JSON
Schema (:mod:`interop.core.schema`), the code check on load, and the
mapping-file checker (source paths must name real fields).
"""

from __future__ import annotations

import dataclasses
from typing import Any


def coded(
    valueset: str,
    *,
    req: str | None = None,
    default: Any = dataclasses.MISSING,
) -> Any:
    """A field holding a code bound to a programme ValueSet (by short name)."""
    meta = {"valueset": valueset, "req": req}
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def codes(valueset: str, *, req: str | None = None) -> Any:
    """A list of codes bound to a programme ValueSet."""
    return dataclasses.field(default_factory=list, metadata={"valueset": valueset, "req": req})


def text(*, req: str | None = None, default: Any = dataclasses.MISSING) -> Any:
    """A plain field with the requirement ID it comes from (e.g. ``A-15``)."""
    meta = {"req": req}
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def many(*, req: str | None = None) -> Any:
    return dataclasses.field(default_factory=list, metadata={"req": req})
