"""Hook specifications of interop plugins (specs only; see docs/plugins.md).

Plugins own transport and partner formats only: the engine maps, filters by
purpose, validates and audits before a plugin sees anything (ARCHITECTURE).
Hooks named ``interop_register_*`` hand the plugin a ``register`` callback;
the host decides what to keep.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("interop")
hookimpl = pluggy.HookimplMarker("interop")

# ---------------------------------------------------------------------------
# Output formats
# ---------------------------------------------------------------------------


@hookspec
def interop_register_formats(register: Callable[..., None]) -> None:
    """Register serialisations of FHIR resources for ``interop map --format``.

    Called once when the plugin manager is built. Call
    ``register(name, media_type, dumps)`` where ``dumps(resource: dict) -> bytes``
    turns a FHIR R4 resource (plain JSON dict) into the wire bytes.
    """


# ---------------------------------------------------------------------------
# Partners
# ---------------------------------------------------------------------------


@hookspec
def interop_register_partner_kinds(register: Callable[..., None]) -> None:
    """Register partner kinds (``kind = "…"`` in the partners configuration).

    Call ``register(kind, factory)`` where ``factory(name: str, settings: dict)``
    returns an object that delivers already filtered, labelled Bundles to that
    partner. Added by the partner issues (school, hospital, civil affairs).
    """


@hookspec
def interop_plugin_info() -> dict[str, Any] | None:
    """Describe the plugin for ``interop plugins``: ``{"name", "version", "summary"}``."""
