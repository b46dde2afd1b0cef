"""The PII guard of free text (自由文本个人信息防护, 9.3 最小必要): recognizers and operators.

Free text is what workers type — plan sections, goals, summaries — and it
carries what they know: resident ID numbers, phone numbers, home addresses,
the names of the adults around the child. A policy may let a free-text element
out (the school needs the re-enrolment plan); the guard makes sure the
element does not carry personal data the purpose does not allow.

The design follows the analyser/anonymiser split of Microsoft Presidio (see
docs/decisions.md D-25): *recognizers* find spans and say what they are
(:class:`Finding`), *operators* decide what happens to them — ``redact``
(the span is replaced by a marker), ``review`` (left as is; the disclosure
waits for a supervisor, who sees the spans) or ``block`` (nothing leaves).
Which operator applies is the policy's choice, per element
(:mod:`interop.privacy.policy`, ``free_text``).

Recognizers (rule based; no language model):

- ``resident-id`` — 18 characters, digits with the last one ``X`` or a digit,
  with or without spaces, hyphens or dots between them, full-width forms
  too, kept only when the GB 11643 MOD 11-2 check character holds;
- ``phone`` — mainland mobile numbers (11 digits from ``13``–``19``, with an
  optional ``+86``/``0086`` prefix and separators) and landline numbers
  (area code ``0xx``/``0xxx`` then 7–8 digits, brackets and separators
  allowed, an optional extension);
- ``address`` — street and village addresses: an optional run of division
  names (…省/市/区/县/乡/镇/街道), a place name ending in 路/街/巷/道/弄/里/村
  or a 组, then a house number (…号) with 栋/幢/单元/室/组 parts; and the
  addresses the case record itself holds, wherever they appear;
- ``name`` — the names of people known to the case record (the child's
  adults, staff, organisations' contacts) that the purpose does not already
  let out in structured fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from interop.core.masking import mask_id, mask_phone
from interop.core.resident_id import check_character

__all__ = [
    "ACTIONS",
    "KINDS",
    "Finding",
    "Guard",
    "is_free_text",
    "marker",
]

#: What a policy may say happens to a free-text element that holds personal data.
ACTIONS = ("redact", "review", "block")
#: What the recognizers find, with the words of the marker left in its place.
KINDS = {
    "resident-id": "身份证号",
    "phone": "电话",
    "address": "地址",
    "name": "姓名",
}
#: Keys of JSON strings that are free text: narrative, descriptions, notes and
#: string values of extensions. ``text`` of a HumanName or Address is structured
#: (the purpose decides on it as an element), see :func:`is_free_text`.
_FREE_KEYS = frozenset(
    {"text", "valueString", "valueMarkdown", "description", "comment", "div", "summary"}
)
_STRUCTURED_PARENTS = frozenset({"name", "address", "valueAddress", "valueHumanName"})

# Full-width digits, letters X and separators, to their ASCII forms: one
# character for one, so the spans found stay the spans of the original text.
_WIDTH = str.maketrans(
    "０１２３４５６７８９Ｘｘ－（）　＋", "0123456789Xx-() +"
)  # fmt: skip
_SEP = r"[ \-.\u00a0]?"
_RESIDENT_ID = re.compile(r"(?<![0-9])\d(?:" + _SEP + r"\d){16}" + _SEP + r"[0-9Xx](?![0-9])")
_MOBILE = re.compile(
    r"(?<![0-9])(?:(?:\+|00)86" + _SEP + r")?1[3-9]\d(?:" + _SEP + r"\d){8}(?![0-9])"
)
_LANDLINE = re.compile(
    r"(?<![0-9])(?:\(0\d{2,3}\)|0\d{2,3})" + _SEP + r"[2-9]\d{2,3}" + _SEP + r"\d{4}"
    r"(?:(?:转|-|ext\.?|x)\d{1,5})?(?![0-9])"
)
_HAN = r"[\u4e00-\u9fff]"
_NUM = r"[0-9一二三四五六七八九十百〇零两]+"
_DIVISION = rf"(?:{_HAN}{{1,8}}?(?:省|自治区|市|自治州|地区|盟|区|县|旗|乡|镇|街道))"
_HOUSE = rf"(?:{_NUM}(?:号楼|号院|号|栋|幢|单元|室|组|楼|层))+"
_ADDRESS = re.compile(
    rf"{_DIVISION}*"
    rf"(?:{_HAN}{{1,8}}?(?:大道|路|街|巷|道|弄|里|村|社区|小区|花园|公寓)){{1,2}}"
    rf"(?:{_NUM}(?:组|队))?{_HOUSE}"
    rf"|{_DIVISION}{{1,}}{_HAN}{{1,8}}?村(?:{_NUM}组)?"
    rf"|{_NUM}(?:栋|幢|号楼){_NUM}单元(?:{_NUM}室)?"
)
_DIGITS = re.compile(r"[0-9Xx]")


@dataclass(frozen=True, slots=True)
class Finding:
    """One span of personal data in one free-text element.

    ``element`` is the element's path (``CarePlan.extension(reenrolment-support)
    .valueString``), ``start``/``end`` the span in its text; ``shown`` the
    span as a message may show it (masked; never the value).
    """

    element: str
    kind: str
    start: int
    end: int
    shown: str
    action: str = "redact"

    def line(self) -> str:
        what = {"resident-id": "a resident ID number", "phone": "a phone number"}.get(
            self.kind, "an address" if self.kind == "address" else "a person's name"
        )
        return (
            f"{self.element}: {what} {self.shown} at characters "
            f"{self.start + 1}–{self.end} ({self.action})"
        )


def marker(kind: str) -> str:
    """The text left in place of a redacted span (the receiver reads Chinese)."""
    return f"[已隐去:{KINDS[kind]}]"


def is_free_text(key: str, parent_key: str | None) -> bool:
    """Whether a JSON string under ``key`` (inside ``parent_key``) is free text."""
    return key in _FREE_KEYS and not (key == "text" and parent_key in _STRUCTURED_PARENTS)


def _valid_id(span: str) -> bool:
    chars: list[str] = _DIGITS.findall(span)
    if len(chars) != 18 or any(c in "Xx" for c in chars[:17]):
        return False
    return check_character("".join(chars[:17])) == chars[17].upper()


def _mask_span(kind: str, span: str) -> str:
    if kind == "resident-id":
        return mask_id("".join(_DIGITS.findall(span)).upper())
    if kind == "phone":
        return mask_phone(re.sub(r"[^0-9]", "", span))
    return f"({len(span)} characters)"


class Guard:
    """The recognizers of one case: patterns plus the case's own names and addresses.

    ``names`` and ``addresses`` are what the case record knows (they are
    found literally); ``allowed_names`` are names the purpose lets out in
    structured fields, which the guard leaves alone in free text too.
    """

    __slots__ = ("_known",)

    def __init__(
        self,
        *,
        names: Iterable[str] = (),
        addresses: Iterable[str] = (),
        allowed_names: Iterable[str] = (),
    ) -> None:
        allowed = {n.strip() for n in allowed_names}
        known: list[tuple[str, str]] = []
        for n in {n.strip() for n in names}:
            if len(n) >= 2 and n not in allowed:
                known.append((n, "name"))
        for a in {a.strip() for a in addresses}:
            if len(a) >= 4:
                known.append((a, "address"))
        # longest first: an address holding a name is found as the address
        known.sort(key=lambda x: -len(x[0]))
        self._known = tuple(known)

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """Spans ``(start, end, kind)`` of personal data in ``text``, sorted, not overlapping."""
        norm = text.translate(_WIDTH)
        spans: list[tuple[int, int, str]] = []
        for value, kind in self._known:
            pos = norm.find(value)
            while pos >= 0:
                spans.append((pos, pos + len(value), kind))
                pos = norm.find(value, pos + len(value))
        for m in _RESIDENT_ID.finditer(norm):
            if _valid_id(m.group()):
                spans.append((m.start(), m.end(), "resident-id"))
        for pattern in (_MOBILE, _LANDLINE):
            for m in pattern.finditer(norm):
                spans.append((m.start(), m.end(), "phone"))
        for m in _ADDRESS.finditer(norm):
            spans.append((m.start(), m.end(), "address"))
        if not spans:
            return []
        # merge overlaps: the earliest start wins, a longer span absorbs the shorter
        spans.sort(key=lambda s: (s[0], -s[1]))
        merged: list[tuple[int, int, str]] = []
        for s in spans:
            if merged and s[0] < merged[-1][1]:
                last = merged[-1]
                if s[1] > last[1]:
                    merged[-1] = (last[0], s[1], last[2])
                continue
            merged.append(s)
        return merged

    def check(self, text: str, element: str, action: str) -> tuple[str, list[Finding]]:
        """Apply the recognizers to one element; ``redact`` returns the redacted text."""
        spans = self.find(text)
        if not spans:
            return text, []
        norm = text.translate(_WIDTH)
        findings = [
            Finding(element, kind, a, b, _mask_span(kind, norm[a:b]), action)
            for a, b, kind in spans
        ]
        if action != "redact":
            return text, findings
        out: list[str] = []
        pos = 0
        for a, b, kind in spans:
            out.append(text[pos:a])
            out.append(marker(kind))
            pos = b
        out.append(text[pos:])
        return "".join(out), findings


def names_in(resource: dict[str, Any]) -> list[str]:
    """The HumanName texts (and family + given) of one resource, contacts included."""
    out: list[str] = []
    for holder in (resource, *resource.get("contact", ())):
        if not isinstance(holder, dict):
            continue
        names = holder.get("name")
        for n in names if isinstance(names, list) else [names]:
            if not isinstance(n, dict):
                continue
            if isinstance(n.get("text"), str):
                out.append(n["text"])
            family = n["family"] if isinstance(n.get("family"), str) else ""
            given = "".join(g for g in n.get("given", ()) if isinstance(g, str))
            if family or given:
                out.append(family + given)
    return out


def addresses_in(resource: dict[str, Any]) -> list[str]:
    """The Address texts of one resource."""
    addresses = resource.get("address")
    return [
        a["text"]
        for a in (addresses if isinstance(addresses, list) else [addresses])
        if isinstance(a, dict) and isinstance(a.get("text"), str)
    ]
