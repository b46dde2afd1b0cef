"""The message catalogue (消息目录): operator-facing text in zh_CN and en.

Messages are written in English in the code (the msgid) and translated by the gettext
catalogue ``interop/i18n/<lang>/interop.po``, read with Babel on first use. The language
is chosen per command (``--lang``, else ``LANG``: zh_CN where it says zh) or per console
request; English is the fallback for a message the catalogue lacks. Requirement IDs stay in
the message as references, never replace it.

``N_`` marks a text that code translates later, as data (a state, a column, a registry
meaning): the extractor (``tools/i18n_catalogue.py``) finds it there, so a catalogue
entry that no code names any more shows as stale. Errors are said to an operator by
:func:`interop.i18n.errors.explain`; argparse's own texts by :mod:`interop.i18n.parser`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from importlib.resources import files

__all__ = [
    "LANGUAGES",
    "N_",
    "_",
    "choose",
    "current",
    "set_language",
    "speaking",
    "translate",
]

#: Languages with a catalogue (en is the msgid itself).
LANGUAGES = ("zh_CN", "en")

_current: ContextVar[str] = ContextVar("interop_language", default="en")


def choose(override: str | None, env_lang: str | None) -> str:
    """The language: ``override`` (``--lang``) when given, else zh_CN where ``LANG`` says zh."""
    for value in (override, env_lang):
        if value:
            return "zh_CN" if value.lower().replace("-", "_").startswith("zh") else "en"
    return "en"


def set_language(lang: str) -> None:
    _current.set(lang if lang in LANGUAGES else "en")


@contextmanager
def speaking(lang: str) -> Iterator[None]:
    """``lang`` for the code run inside, then the language before (a command's choice does
    not outlive it: the next command in the same process, a test, chooses again)."""
    token = _current.set(lang if lang in LANGUAGES else "en")
    try:
        yield
    finally:
        _current.reset(token)


def current() -> str:
    return _current.get()


@cache
def catalogue(lang: str) -> dict[str, str]:
    """msgid → translation of one language (empty for en)."""
    if lang == "en":
        return {}
    from babel.messages.pofile import read_po

    with files("interop.i18n").joinpath(lang, "interop.po").open("rb") as fh:
        cat = read_po(fh, locale=lang)
    return {
        str(m.id): str(m.string)
        for m in cat
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string
    }


def translate(message: str, lang: str) -> str:
    return catalogue(lang).get(message, message)


def _(message: str) -> str:
    """``message`` in the current language (the English text when it has no translation)."""
    return translate(message, _current.get())


def N_(message: str) -> str:
    """``message`` itself: marks a msgid that is translated later, where it is used."""
    return message
