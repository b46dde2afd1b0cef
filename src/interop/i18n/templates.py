"""A message made from a catalogue template, said in another language.

Much operator-facing text is formatted where it arises, in English, from a template with
named fields (``MSG_QUEUED = N_("queued for {partner} as …")``) and travels as a string:
in an exception, in a disclosure's stored reasons. :func:`localise` finds the template the
string was made from, takes the fields' values out of it and puts them into the
template's translation — so a raise site or a stored reason need not know the language.
"""

from __future__ import annotations

import re
import string
from functools import cache, lru_cache

from interop.i18n import N_, catalogue, translate

__all__ = ["localise"]

#: A head put before a message (a column, a file): the separator as the language writes it.
HEADED = N_("{head}: {message}")

#: A template needs this many letters of fixed text to be matched against a message.
_MIN_LETTERS = 8
#: A part of a matched message (a field's value) needs fewer: it is already known to be
#: one of the parts its template was filled with, not any text.
_MIN_PART_LETTERS = 3
#: A field's value that is a code (``worker``, ``disclosure.approve``, ``E820``).
_CODE = re.compile(r"[A-Za-z0-9_.:/-]+")


@lru_cache(maxsize=8192)  # (a list's findings repeat: the same column, the same reason)
def localise(message: str, lang: str) -> str:
    """``message`` in ``lang``: its translation whole, else the translation of the catalogue
    template it was made from (its fields carried over, each localised in turn: a field may
    hold a message of its own), else — for ``"head: rest"`` — a head said whole (a rule) with
    the rest as its part, or a head kept (a column, a file) before a rest made from a
    template, else ``message`` as it is."""
    said = translate(message, lang)
    if said != message or lang == "en":
        return said
    made = _templated(message, lang, _MIN_LETTERS)
    if made is not None:
        return made
    start, headed = message.find(": "), None
    while start > 0:
        head, rest = message[:start], message[start + 2 :]
        if (head_said := translate(head, lang)) != head:
            # a rule said whole, then what the data shows ("…: 18 or older on …")
            return translate(HEADED, lang).format(head=head_said, message=_value(rest, lang))
        if headed is None and (rest_said := _templated(rest, lang, _MIN_LETTERS)) is not None:
            # a column or a file put before a message of its own (not any word: "row 3: valid")
            headed = translate(HEADED, lang).format(head=head, message=rest_said)
        start = message.find(": ", start + 2)
    return headed or message


def _templated(message: str, lang: str, least: int) -> str | None:
    """``message`` said from the catalogue template it was made from, if one was."""
    for pattern, template in _templates(lang, least):
        m = pattern.fullmatch(message)
        if m is not None:
            return template.format(**{k: _value(v, lang) for k, v in m.groupdict().items()})
    return None


def _value(value: str, lang: str) -> str:
    """A field's value taken out of a message, localised: a message of its own, or a short
    part (``row 3``, ``column 12``) that the whole message was put together from; parts
    joined by ``; `` (the rules a step broke) each in turn."""
    if not value or _CODE.fullmatch(value):
        return value  # (a role, a partner, an action: said as configured, never translated)
    said = localise(value, lang)
    if said != value:
        return said
    made = _templated(value, lang, _MIN_PART_LETTERS)
    if made is not None:
        return made
    pieces = value.split("; ")
    if len(pieces) > 1:
        return "; ".join(_value(piece, lang) for piece in pieces)
    return value


@cache
def _templates(lang: str, least: int = _MIN_LETTERS) -> list[tuple[re.Pattern[str], str]]:
    """The catalogue's messages with plain named fields and at least ``least`` letters of
    fixed text, as patterns that take a message apart; the one with the most fixed text
    first (the most specific)."""
    found: list[tuple[int, re.Pattern[str], str]] = []
    for msgid, said in catalogue(lang).items():
        try:
            parts = list(string.Formatter().parse(msgid))
        except ValueError:
            continue
        fields = [f for _t, f, spec, conv in parts if f is not None]
        if not fields or any(
            not f.isidentifier() or spec or conv for _t, f, spec, conv in parts if f is not None
        ):
            continue
        fixed = "".join(text for text, *_rest in parts)
        if sum(ch.isalpha() for ch in fixed) < least:
            continue  # "{id} {label}" would take apart any message
        out, names = [], set()
        for text, name, _spec, _conv in parts:
            out.append(re.escape(text))
            if name is not None:
                # (a field may be empty: a refusal's {where} for a file without sheets)
                out.append(f"(?P={name})" if name in names else f"(?P<{name}>.*?)")
                names.add(name)
        found.append((len(fixed), re.compile("".join(out), re.DOTALL), said))
    found.sort(key=lambda t: -t[0])
    return [(pattern, said) for _n, pattern, said in found]
