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

from typing import Any

from interop.exchange.carrier import carrier_factory
from interop.exchange.hookspecs import hookimpl
from interop.exchange.transport import RegisterPartnerKind

KIND = "community"


@hookimpl
def interop_register_partner_kinds(register: RegisterPartnerKind) -> None:
    register(KIND, carrier_factory(KIND), disclosures=True)


@hookimpl
def interop_plugin_info() -> dict[str, Any]:
    return {"name": KIND, "summary": "communities and villages: the children's director's part"}
