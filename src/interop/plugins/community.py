"""Built-in plugin: communities and villages (村（居）委员会 / 儿童主任; 7.3).

Transport only: the purpose engine decides what a community may see (the
``community-linkage`` and ``crisis`` policies); exchange queues the approved, filtered
Bundle in the outbox; this plugin POSTs its exact bytes or drops them in a
folder (keys as in :mod:`interop.exchange.carrier`)::

    [partners.village-shangwan]
    kind = "community"
    url = "https://village.example.org/interop/inbox"   # or base_url, or out_dir
    auth = { type = "bearer", token_env = "VILLAGE_SHANGWAN_TOKEN" }
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from interop.exchange.carrier import BundleCarrier
from interop.exchange.hookspecs import hookimpl
from interop.exchange.transport import RegisterPartnerKind

KIND = "community"


def community(name: str, settings: Mapping[str, Any]) -> BundleCarrier:
    """The carrier of one community (village or residents' committee) partner."""
    return BundleCarrier(name, KIND, settings)


@hookimpl
def interop_register_partner_kinds(register: RegisterPartnerKind) -> None:
    register(KIND, community, disclosures=True)


@hookimpl
def interop_plugin_info() -> dict[str, Any]:
    return {"name": KIND, "summary": "communities and villages: the children's director's part"}
