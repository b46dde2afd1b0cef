"""Hook specifications of interop plugins (specs only; see docs/plugins.md).

Plugins own transport and partner formats only: the engine maps, filters by
purpose, validates and audits before a plugin sees anything (ARCHITECTURE).
Hooks named ``interop_register_*`` hand the plugin a ``register`` callback;
the host decides what to keep.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from interop.exchange.transport import RegisterFeed, RegisterFormat, RegisterPartnerKind
    from interop.privacy.disclosure_model import Disclosure

hookspec = pluggy.HookspecMarker("interop")
hookimpl = pluggy.HookimplMarker("interop")

# ---------------------------------------------------------------------------
# Output formats
# ---------------------------------------------------------------------------


@hookspec
def interop_register_formats(register: RegisterFormat) -> None:
    """Register serialisations of FHIR resources for ``interop map --format``.

    Called once when the plugin manager is built. Call
    ``register(name, media_type, dumps)`` where ``dumps(resource: dict) -> bytes``
    turns a FHIR R4 resource (plain JSON dict) into the wire bytes.
    """


# ---------------------------------------------------------------------------
# Partners
# ---------------------------------------------------------------------------


@hookspec
def interop_register_partner_kinds(register: RegisterPartnerKind) -> None:
    """Register partner kinds (``kind = "…"`` in the partners configuration).

    Call ``register(kind, factory, disclosures=…)`` where
    ``factory(name: str, settings: Mapping) -> Transport`` builds the
    :class:`~interop.exchange.transport.Transport` of one configured partner:
    ``attempt(item) -> HttpResult`` makes one attempt to deliver an outbox
    item (never raising for network trouble), ``retry`` is the partner's
    :class:`~interop.exchange.retry.RetryPolicy`, ``close()`` frees it.
    ``disclosures=True``: approved disclosures to this kind are queued for it
    as they are (the filtered Bundle's exact bytes).
    """


@hookspec
def interop_register_feeds(register: RegisterFeed) -> None:
    """Register inbound list feeds (``interop sync --partner NAME``).

    Call ``register(kind, factory)`` where ``factory(name, settings) -> Feed``
    gives a :class:`~interop.exchange.transport.Feed`: ``pages(cursor)``
    yields :class:`~interop.exchange.transport.Page` objects, ``mapping`` names
    the inbound mapping, ``close()`` frees it.
    """


# ---------------------------------------------------------------------------
# Disclosures (interop.privacy)
# ---------------------------------------------------------------------------


@hookspec
def interop_after_approval(disclosure: Disclosure) -> None:
    """Called after a supervisor approved a pending disclosure (``interop approve``).

    ``disclosure`` is an :class:`interop.privacy.disclosure_model.Disclosure`: the
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
