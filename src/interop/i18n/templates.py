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
from functools import cache

from interop.i18n import catalogue, translate

__all__ = ["localise"]

#: A template needs this many letters of fixed text to be matched against a message.
_MIN_LETTERS = 8


def localise(message: str, lang: str) -> str:
    """``message`` in ``lang``: its translation whole, else the translation of the catalogue
    template it was made from (its fields carried over), else ``message`` as it is."""
    said = translate(message, lang)
    if said != message or lang == "en":
        return said
    for pattern, template in _templates(lang):
        m = pattern.fullmatch(message)
        if m is not None:
            return template.format(**m.groupdict())
    return message


@cache
def _templates(lang: str) -> list[tuple[re.Pattern[str], str]]:
    """The catalogue's messages with plain named fields, as patterns that take a message
    apart; the one with the most fixed text first (the most specific)."""
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
        if sum(ch.isalpha() for ch in fixed) < _MIN_LETTERS:
            continue  # "{id} {label}" would take apart any message
        out, names = [], set()
        for text, name, _spec, _conv in parts:
            out.append(re.escape(text))
            if name is not None:
                out.append(f"(?P={name})" if name in names else f"(?P<{name}>.+?)")
                names.add(name)
        found.append((len(fixed), re.compile("".join(out), re.DOTALL), said))
    found.sort(key=lambda t: -t[0])
    return [(pattern, said) for _n, pattern, said in found]
