"""Case records as a sync changes them: what needs no database (worker processes use it)."""

from __future__ import annotations

from typing import Any

__all__ = ["merge_list_fields"]


def merge_list_fields(body: dict[str, Any], merge: dict[str, Any]) -> dict[str, Any]:
    """The case record with the list-owned parts replaced (the rest is kept as is).

    ``body`` is left as it was: the parts replaced are new objects, the others shared.
    """
    out: dict[str, Any] = dict(body)
    out["child"] = {**out.get("child", {}), **merge["child"]}
    out["case"] = {**out["case"], **merge["case"]}
    adults = [a for a in out.get("adults", []) if a.get("id") != "guardian-list"]
    out["adults"] = adults + merge["adults"]
    orgs = {o["id"]: o for o in out.get("organisations", [])}
    for o in merge["organisations"]:
        orgs[o["id"]] = o
    out["organisations"] = list(orgs.values())
    return out
