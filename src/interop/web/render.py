"""A Bundle as a reviewer reads it (审批): one card per resource with its fields as
"path: value" lines, its security labels, and what is redacted or flagged picked out —
the exact content that would leave, not raw JSON."""

from __future__ import annotations

from typing import Any

__all__ = ["readable_bundle"]

#: Security-label codes a reviewer must notice (redacted content, restricted, crisis).
_NOTICE = frozenset({"REDACTED", "R", "V", "NORDSCLCD", "PSY", "ETH", "SOC"})
_SKIP = frozenset({"resourceType", "id", "meta", "text"})


def _lines(value: Any, path: str, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if k in _SKIP and not path:
                continue
            _lines(v, f"{path}.{k}" if path else k, out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _lines(v, f"{path}[{i}]", out)
    else:
        out.append((path, "" if value is None else str(value)))


def _labels(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "code": s.get("code", ""),
            "display": s.get("display") or s.get("code", ""),
            "notice": s.get("code") in _NOTICE,
        }
        for s in (resource.get("meta") or {}).get("security") or ()
    ]


def readable_bundle(bundle: dict[str, Any] | None) -> dict[str, Any] | None:
    """The Bundle's labels and resources in a form the review page lays out."""
    if not bundle:
        return None
    resources = []
    for entry in bundle.get("entry") or ():
        r = entry.get("resource") or {}
        fields: list[tuple[str, str]] = []
        _lines(r, "", fields)
        labels = _labels(r)
        resources.append(
            {
                "type": r.get("resourceType", "?"),
                "id": r.get("id", ""),
                "labels": labels,
                "redacted": any(x["code"] == "REDACTED" for x in labels),
                "flag": r.get("resourceType") == "Flag",
                "fields": fields,
            }
        )
    return {"labels": _labels(bundle), "resources": resources, "type": bundle.get("type")}
