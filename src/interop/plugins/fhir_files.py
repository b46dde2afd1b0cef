"""Built-in plugin: FHIR R4 JSON and XML files (``interop map --format``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from interop.exchange.hookspecs import hookimpl
from interop.fhir import release


def dumps_json(resource: dict[str, Any]) -> bytes:
    return orjson.dumps(resource, option=orjson.OPT_INDENT_2) + b"\n"


@hookimpl
def interop_register_formats(register: Callable[..., None]) -> None:
    register("json", "application/fhir+json", dumps_json)
    # XML goes through fhir.resources and is ~10x slower: never on a hot path.
    register("xml", "application/fhir+xml", release.dumps_xml)


@hookimpl
def interop_plugin_info() -> dict[str, Any]:
    return {"name": "fhir-files", "summary": "FHIR R4 JSON and XML output"}
