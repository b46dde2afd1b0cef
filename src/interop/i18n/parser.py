"""argparse in the current language: its own texts ("usage:", "options", the -h help,
its error messages) from our catalogue.

argparse takes those texts from the process-wide gettext domain, which follows the
environment, not ``--lang``, and has no Chinese catalogue of ours. Rather than install a
global domain (or patch argparse), the parser sets the titles and the -h help it creates,
the formatter supplies the usage prefix, and :meth:`Parser.error` translates argparse's
English message by its template (below, as msgids): a message argparse words in a way no
template matches stays English.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from functools import cache
from typing import Any, NoReturn

from interop.i18n import N_, _

__all__ = ["Formatter", "Parser", "wrap"]

_USAGE = N_("usage: ")
_POSITIONALS = N_("positional arguments")
_OPTIONS = N_("options")
_HELP = N_("show this help message and exit")
_ERROR = N_("%(prog)s: error: %(message)s\n")

#: argparse's error messages (Python 3.11–3.13), most specific first.
_MESSAGES = (
    N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"),
    N_("one of the arguments %s is required"),
    N_("unrecognized arguments: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("not allowed with argument %s"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("ignored explicit argument %r"),
)

_FIELD = re.compile(r"%(?:\((\w+)\))?[sr]")


@cache
def _pattern(template: str) -> re.Pattern[str]:
    out, pos = [], 0
    for n, m in enumerate(_FIELD.finditer(template)):
        out.append(re.escape(template[pos : m.start()]))
        name = m.group(1) or f"_{n}"
        out.append(f"(?P<{name}>.+?)" if m.end() < len(template) else f"(?P<{name}>.+)")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def translate_message(message: str) -> str:
    """argparse's English ``message`` in the current language (nested messages too)."""
    for template in _MESSAGES:
        m = _pattern(template).match(message)
        if m is None:
            continue
        said = _(template)
        if said == template:
            return message
        fields = m.groupdict()
        if "message" in fields:
            fields["message"] = translate_message(fields["message"])
        # the captured texts are already formatted (%r quoting kept): fill them as %s
        said = _FIELD.sub(lambda f: f"%({f.group(1)})s" if f.group(1) else "%s", said)
        positional = [v for k, v in sorted(fields.items()) if k.startswith("_")]
        return said % (tuple(positional) if positional else fields)
    return message


#: A run of wide (CJK) characters, one at a time, or a word of other characters, or spaces.
_WIDE = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
_TOKEN = re.compile(f"[{_WIDE}]|[^\\s{_WIDE}]+|\\s+")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns: Chinese breaks between any two
    characters (it has no spaces), other text between words; wide characters count two."""
    lines: list[str] = []
    line, used = "", 0
    for token in _TOKEN.findall(" ".join(text.split())):
        w = _width(token)
        if used + w > width and line.strip():
            lines.append(line.rstrip())
            line, used = "", 0
            if token.isspace():
                continue
        line, used = line + token, used + w
    if line.strip():
        lines.append(line.rstrip())
    return lines


class Formatter(argparse.HelpFormatter):
    """The help formatter: the usage prefix in the current language, Chinese wrapped by
    its display width (textwrap breaks only at spaces, which Chinese has none of)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        if _width(text) == len(text):
            return super()._split_lines(text, width)
        return wrap(text, width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if _width(text) == len(text):
            return super()._fill_text(text, width, indent)
        return "\n".join(indent + line for line in wrap(text, width - len(indent)))

    def add_usage(
        self,
        usage: str | None,
        actions: Any,
        groups: Any,
        prefix: str | None = None,
    ) -> None:
        super().add_usage(usage, actions, groups, _(_USAGE) if prefix is None else prefix)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose own texts come from the catalogue (sub-parsers too)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)
        self._positionals.title = _(_POSITIONALS)
        self._optionals.title = _(_OPTIONS)
        for action in self._actions:
            if isinstance(action, argparse._HelpAction):
                action.help = _(_HELP)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        said = _(_ERROR) % {"prog": self.prog, "message": translate_message(message)}
        self.exit(2, said)
