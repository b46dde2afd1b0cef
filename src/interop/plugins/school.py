"""Built-in plugin: schools (学校; 6.1.4.2 re-enrolment support, 7.3 regular contact).

Transport only (ARCHITECTURE): the engine has already built the non-clinical
status summary, filtered the case for purpose ``school-support`` (requirements
§4.6, column SCHOOL), labelled, validated, gated and audited it. This plugin
receives that Disclosure and puts its exact bytes on the wire or in a file.

Configuration (``--config``)::

    [partners.school-mingde]
    kind = "school"
    url = "https://school.example.org/interop/inbox"   # POST the Bundle here
    # or: base_url = "https://fhir.school.example.org/fhir"  → POST {base_url}/Bundle
    # or: out_dir = "outbox/mingde"   # write <purpose>-<id>.json for manual transfer
    auth = { type = "bearer", token_env = "SCHOOL_MINGDE_TOKEN" }
    timeout = 15      # seconds per attempt
    retries = 2       # further attempts on no answer, 408, 429, 5xx
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from interop._errors import InputError
from interop._errors import SchoolDeliveryError as SchoolDeliveryError
from interop.config import Partner
from interop.exchange.hookspecs import hookimpl
from interop.exchange.http import FHIR_JSON, HttpTransport

log = logging.getLogger(__name__)

KIND = "school"
_KNOWN = frozenset({"url", "base_url", "out_dir", "auth", "timeout", "retries", "backoff", "note"})


class SchoolPartner:
    """Delivers filtered school Bundles over HTTP or into a folder."""

    def __init__(self, name: str, settings: dict[str, Any]) -> None:
        self.name = name
        for key in settings:
            if key not in _KNOWN:
                raise InputError(
                    f"partner {name}: unknown key '{key}' for kind school", code="E631"
                )
        url = settings.get("url")
        base = settings.get("base_url")
        out_dir = settings.get("out_dir")
        if sum(x is not None for x in (url, base, out_dir)) != 1:
            raise InputError(
                f"partner {name}: give exactly one of 'url', 'base_url' or 'out_dir'", code="E631"
            )
        self.out_dir = Path(str(out_dir)) if out_dir is not None else None
        self.transport: HttpTransport | None = None
        self.path = ""
        try:
            timeout = float(settings.get("timeout", 15))
            self.retries = int(settings.get("retries", 2))
            self.backoff = float(settings.get("backoff", 0.5))
        except (TypeError, ValueError):
            raise InputError(
                f"partner {name}: 'timeout', 'retries' and 'backoff' must be numbers", code="E631"
            ) from None
        self.sleep: Callable[[float], None] = time.sleep
        if self.out_dir is None:
            token = Partner(name, KIND, settings).bearer_token()
            if url is not None:
                head, _, tail = str(url).rstrip("/").rpartition("/")
                endpoint_base, self.path = (head, tail) if "://" in head else (str(url), "")
            else:
                endpoint_base, self.path = str(base), "Bundle"
            self.transport = HttpTransport(name, endpoint_base, token=token, timeout=timeout)

    def deliver(self, disclosure: Any) -> dict[str, Any]:
        """Send the disclosure's exact payload; return a receipt."""
        payload: bytes = disclosure.payload
        if self.out_dir is not None:
            return self._write(disclosure.id, disclosure.purpose, payload)
        assert self.transport is not None
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            result = self.transport.request(
                "POST",
                self.path,
                body=payload,
                content_type=FHIR_JSON,
                headers={"X-Disclosure-Id": disclosure.id, "X-Payload-SHA256": disclosure.sha256},
            )
            if result.verdict == "delivered":
                receipt: dict[str, Any] = {"status": result.status}
                location = result.headers.get("location") if result.headers else None
                if location:
                    receipt["location"] = location
                return receipt
            problem = result.error or "refused"
            if result.verdict == "fatal":
                break
            log.warning(
                "school %s: %s (try %d of %d)", self.name, problem, attempt + 1, self.retries + 1
            )
        raise SchoolDeliveryError(problem)

    def _write(self, disclosure_id: str, purpose: str, payload: bytes) -> dict[str, Any]:
        assert self.out_dir is not None
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            final = self.out_dir / f"{purpose}-{disclosure_id}.json"
            tmp = final.with_suffix(".json.part")
            tmp.write_bytes(payload)
            os.replace(tmp, final)
        except OSError as exc:
            raise SchoolDeliveryError(
                f"cannot write to the out_dir of {self.name} ({exc.strerror})"
            ) from None
        return {"file": str(final)}

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


@hookimpl
def interop_register_partner_kinds(register: Callable[..., None]) -> None:
    register(KIND, SchoolPartner)


@hookimpl
def interop_plugin_info() -> dict[str, Any]:
    return {"name": KIND, "summary": "schools: non-clinical status and re-enrolment support"}
