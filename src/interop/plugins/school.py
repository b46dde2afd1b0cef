"""Built-in plugin: schools (学校; 6.1.4.2 re-enrolment support, 7.3 regular contact).

Transport only (ARCHITECTURE): privacy has already built the non-clinical
status summary, filtered the case for purpose ``school-support``
(requirements §4.6, column SCHOOL), labelled, validated, gated and audited
it; exchange queued it in the outbox. This plugin puts those exact bytes on
the wire or in a file, one attempt at a time (:mod:`interop.exchange.carrier`
has the configuration keys)::

    [partners.school-mingde]
    kind = "school"
    url = "https://school.example.org/interop/inbox"   # or base_url, or out_dir
    auth = { type = "bearer", token_env = "SCHOOL_MINGDE_TOKEN" }
"""

from __future__ import annotations

from typing import Any

from interop.exchange.carrier import carrier_factory
from interop.exchange.hookspecs import hookimpl
from interop.exchange.transport import RegisterPartnerKind

KIND = "school"


@hookimpl
def interop_register_partner_kinds(register: RegisterPartnerKind) -> None:
    register(KIND, carrier_factory(KIND), disclosures=True)


@hookimpl
def interop_plugin_info() -> dict[str, Any]:
    return {"name": KIND, "summary": "schools: non-clinical status and re-enrolment support"}
