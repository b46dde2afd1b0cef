"""A partner plugin only ever receives the filtered, labelled Bundle (ARCHITECTURE):
a spy plugin tries to reach the unfiltered case through every hook argument and
every object it is handed."""

from __future__ import annotations

import gc
from collections.abc import Mapping
from typing import Any

import orjson
import pytest
from privacy_support import case_doc, make_discloser

import interop
from interop.config import Config
from interop.core.record import CaseRecord
from interop.engine import Engine
from interop.exchange.driver import Driver
from interop.exchange.http import HttpResult
from interop.exchange.outbox import OutboxItem
from interop.exchange.plugins import Plugins, plugin_manager
from interop.exchange.retry import RetryPolicy
from interop.exchange.transport import RegisterPartnerKind
from interop.store import Archive


def _walk(obj: Any, seen: set[int], out: list[Any], depth: int = 0) -> None:
    """Everything reachable from obj through attributes, dicts, lists, closures."""
    if id(obj) in seen or depth > 12:
        return
    seen.add(id(obj))
    out.append(obj)
    if isinstance(obj, dict):
        for k, v in obj.items():
            _walk(k, seen, out, depth + 1)
            _walk(v, seen, out, depth + 1)
    elif isinstance(obj, list | tuple | set | frozenset):
        for v in obj:
            _walk(v, seen, out, depth + 1)
    elif isinstance(obj, str | bytes | int | float | bool | type(None)):
        return
    else:
        for name in dir(obj):
            if name.startswith("__"):
                continue
            try:
                value = getattr(obj, name)
            except Exception:  # a property that cannot be read is not a way in
                continue
            if callable(value) and hasattr(value, "__self__") and value.__self__ is obj:
                continue
            _walk(value, seen, out, depth + 1)


class Spy:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    @interop.hookimpl
    def interop_register_partner_kinds(self, register: RegisterPartnerKind) -> None:
        self.seen.append(("register", register))
        spy = self

        class SpyTransport:
            retry = RetryPolicy(max_attempts=1)

            def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
                spy.seen.append(("factory", (name, settings)))

            def attempt(self, item: OutboxItem) -> HttpResult:
                spy.seen.append(("attempt", item))
                return HttpResult("delivered", 200)

            def close(self) -> None:
                pass

        register("spy", SpyTransport, disclosures=True)

    @interop.hookimpl
    def interop_after_approval(self, disclosure: Any) -> None:
        self.seen.append(("after_approval", disclosure))


def test_plugin_sees_nothing_but_the_filtered_bundle(
    archive: Archive, engine: Engine, config: Config
) -> None:
    from interop.config import Partner

    spy = Spy()
    plugins = Plugins(plugin_manager(extra=[spy]))
    partners = dict(config.partners)
    partners["school-spy"] = Partner("school-spy", "spy", {"note": "test"})
    cfg = Config(partners=partners)
    doc = case_doc("05-disability-reenrolment.json")
    doc["consents"].append(
        {
            "id": "c-s",
            "topic": "school-contact",
            "status": "active",
            "grantor": "adult-01",
            "date": "2026-11-20",
            "child_assent": True,
        }
    )
    from privacy_support import store

    case = store(archive, engine, doc)
    discloser = make_discloser(archive, engine, cfg)
    # the spy kind has no policy: nothing reaches it (deny by default)
    refused = discloser.request(
        case, purpose="school-support", partner="school-spy", requester="staff-01"
    )
    assert refused.status == "refused" and not [s for s in spy.seen if s[0] != "register"]
    # give the spy the school's policy and let a disclosure through
    policy = discloser.policies.find("school-support", "school")
    assert policy is not None
    import dataclasses

    spied = dataclasses.replace(policy, partner_kinds=("school", "spy"))
    discloser.policies = dataclasses.replace(
        discloser.policies,
        policies=tuple(spied if p is policy else p for p in discloser.policies.policies),
    )
    d = discloser.request(
        case, purpose="school-support", partner="school-spy", requester="staff-01"
    )
    assert d.status == "pending"
    with Driver(discloser, plugins=plugins) as driver:
        approved, handover = driver.approve(d.id, approver="staff-03")
    assert handover is not None and handover.state == "delivered"
    kinds = [k for k, _ in spy.seen]
    assert "after_approval" in kinds and "attempt" in kinds and "factory" in kinds
    forbidden = [v.decode() for v in _secrets(doc)]
    reachable: list[Any] = []
    for _, arg in spy.seen:
        _walk(arg, set(), reachable)
    for obj in reachable:
        assert not isinstance(obj, CaseRecord | Archive | Engine), type(obj)
        if isinstance(obj, str | bytes):
            text = obj.decode() if isinstance(obj, bytes) else obj
            for value in forbidden:
                assert value not in text, value
    delivered = next(a for k, a in spy.seen if k == "attempt")
    assert delivered.payload == approved.payload
    bundle = orjson.loads(delivered.payload)
    assert {s["code"] for s in bundle["meta"]["security"]} >= {"R"}
    assert {t["code"] for t in bundle["meta"]["tag"]} == {"school-support"}
    gc.collect()


def _secrets(doc: dict[str, Any]) -> list[bytes]:
    child = doc["child"]
    out = [child["resident_id"], child["home_address"]["text"], doc["intake"]["family_situation"]]
    out += [s["process"] for s in doc["sessions"]] + [a["phone"] for a in doc["adults"]]
    return [v.encode() for v in out]


def test_every_hook_has_a_typed_facade_method() -> None:
    assert callable(Plugins(plugin_manager(load_entrypoints=False)).after_approval)


@pytest.mark.parametrize("kind", ["school", "civil-affairs", "community"])
def test_builtin_kinds_take_disclosures(kind: str) -> None:
    assert kind in Plugins().disclosure_kinds()
