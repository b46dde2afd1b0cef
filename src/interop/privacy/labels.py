"""Security labels (``meta.security``, requirements §4.5) of outbound resources.

Each outbound resource and the Bundle carry in ``meta.security`` only codes of
the R4 security-labels value set: the confidentiality (v3 Confidentiality
``R`` or ``V`` …), the HL7 v3 PurposeOfUse where the ConceptMap
``purpose-to-purposeofuse`` has one, the obligations for the receiver
(``NORDSCLCD``, ``NOPERSISTP`` …) and ``REDACTED`` where elements were removed
(v3 ObservationValue), so a receiver knows it holds an extract. The
programme's own purpose code (``cs:purpose``, finer than PurposeOfUse and
sometimes without one) goes in ``meta.tag``, where any code system is allowed
and a receiver can search it with ``_tag`` (D-49).
"""

from __future__ import annotations

from typing import Any

from interop.fhir import canonical
from interop.fhir.terminology import Terminology
from interop.privacy.policy import CONFIDENTIALITY_ORDER, Policy

__all__ = [
    "ACT_CODE",
    "ACT_REASON",
    "CONFIDENTIALITY",
    "OBSERVATION_VALUE",
    "Labeller",
    "confidentiality_of",
]

CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_VALUE = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
_CONF_DISPLAY = {
    "U": "unrestricted",
    "L": "low",
    "M": "moderate",
    "N": "normal",
    "R": "restricted",
    "V": "very restricted",
}
_OBLIGATION_DISPLAY = {
    "NORDSCLCD": "no redisclosure without consent directive",
    "NORDSCLCDS": "no redisclosure without consent directive (sensitive)",
    "NOPERSISTP": "no collection beyond purpose of use",
    "NOREUSE": "no reuse beyond purpose of use",
    "NOPRINT": "no print",
}
_RANK = {c: i for i, c in enumerate(CONFIDENTIALITY_ORDER)}


def confidentiality_of(resource: dict[str, Any], default: str) -> str:
    """The resource's own confidentiality label, at least ``default``."""
    meta = resource.get("meta")
    best = default
    if isinstance(meta, dict):
        for label in meta.get("security", ()):
            if not isinstance(label, dict) or label.get("system") != CONFIDENTIALITY:
                continue
            code = label.get("code")
            if code in _RANK and _RANK[code] > _RANK[best]:
                best = code
    return best


class Labeller:
    """Builds ``meta.security`` lists; the purpose → v3 PurposeOfUse map is read once."""

    def __init__(self, terminology: Terminology) -> None:
        system = canonical.cs("purpose")
        cm = canonical.BASE + "/ConceptMap/purpose-to-purposeofuse"
        self._pou: dict[str, tuple[str, str] | None] = {
            code: terminology.translate(cm, system, code)
            for s, code in terminology.valueset_codes(canonical.vs("purpose"))
            if s == system
        }
        self._displays = {
            code: display
            for s, code in terminology.valueset_codes(canonical.vs("purpose"))
            if s == system and (display := terminology.display(system, code))
        }
        self._cache: dict[tuple[str, str, tuple[str, ...], bool], tuple[dict[str, str], ...]] = {}

    def tags(self, policy: Policy) -> list[dict[str, str]]:
        """The ``meta.tag`` list: the programme's purpose code, with its display (fresh dicts)."""
        tag = {"system": canonical.cs("purpose"), "code": policy.purpose}
        if policy.purpose in self._displays:
            tag["display"] = self._displays[policy.purpose]
        return [tag]

    def purpose_of_use(self, purpose: str) -> tuple[str, str] | None:
        """(system, code) of the HL7 v3 PurposeOfUse of a programme purpose, if one fits."""
        return self._pou.get(purpose)

    def labels(self, policy: Policy, conf: str, *, redacted: bool) -> list[dict[str, str]]:
        """The ``meta.security`` list of one outbound resource or Bundle (fresh dicts)."""
        key = (policy.purpose, conf, policy.obligations, redacted)
        found = self._cache.get(key)
        if found is None:
            out: list[dict[str, str]] = [
                {"system": CONFIDENTIALITY, "code": conf, "display": _CONF_DISPLAY[conf]},
            ]
            pou = self._pou.get(policy.purpose)
            if pou is not None:
                out.append({"system": pou[0], "code": pou[1]})
            for o in policy.obligations:
                out.append({"system": ACT_CODE, "code": o, "display": _OBLIGATION_DISPLAY[o]})
            if redacted:
                out.append({"system": OBSERVATION_VALUE, "code": "REDACTED", "display": "redacted"})
            found = self._cache[key] = tuple(out)
        return [dict(d) for d in found]
