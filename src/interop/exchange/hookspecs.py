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
    An object that takes disclosures has ``deliver(disclosure) -> dict``
    (returns a receipt; raises an ``InteropError`` when the partner did not
    take it) and optionally ``close()``.
    """


# ---------------------------------------------------------------------------
# Disclosures (interop.privacy)
# ---------------------------------------------------------------------------


@hookspec
def interop_after_approval(disclosure: Any) -> None:
    """Called after a supervisor approved a pending disclosure (``interop approve``).

    ``disclosure`` is an :class:`interop.privacy.disclosure.Disclosure`: the
    purpose-filtered, labelled Bundle (``bundle``), its exact bytes
    (``payload``) and ``sha256``, the partner's name and kind, the purpose and
    the element paths disclosed — never the case record. A partner plugin may
    enqueue its delivery here (e.g. the hospital referral's outbox); return
    nothing. Not called for disclosures that leave at once (pre-approved
    profiles, break-glass).
    """


@hookspec
def interop_plugin_info() -> dict[str, Any] | None:
    """Describe the plugin for ``interop plugins``: ``{"name", "version", "summary"}``."""
