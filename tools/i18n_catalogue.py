"""Compare the zh_CN catalogue with the messages the code uses: missing and stale entries.

Usage (from the repository root)::

    python tools/i18n_catalogue.py          # list missing and stale msgids; exit 1 if any
    python tools/i18n_catalogue.py --stub   # also append the missing ones with an empty msgstr

A msgid the code uses is, found with Babel's extractors:

- the literal argument of ``_()`` or ``N_()`` in ``src/interop`` (Python) and of ``_()`` in
  the console's Jinja templates;
- a command's ``HELP`` (the CLI translates it; the overview reads it without importing);
- the meaning and the action of every code in ``interop._errors.REGISTRY``.

These must have a translation (an empty msgstr counts as missing). The literal message of a
raised interop error (``raise InputError("…")``) may have one — it is then said whole in
zh_CN — and such an entry is not stale. Any other entry is stale: no code names it.
After a merge, ``--stub`` adds what the merged code needs; translate the stubs (terms:
docs/glossary.md) and delete the stale entries it lists.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import interop._errors as errors
from interop._errors import REGISTRY, InteropError

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "interop"
PO = SRC / "i18n" / "zh_CN" / "interop.po"

_METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
_TEMPLATE_OPTIONS = {"**/templates/**.html": {"extensions": "", "trimmed": "false"}}
# DataFileError's first argument is a file name, not a message.
_NOT_A_MESSAGE = {"DataFileError"}


@dataclass
class Report:
    """What the code asks of the catalogue and what the catalogue holds."""

    required: dict[str, list[str]] = field(default_factory=dict)  # msgid → where
    optional: set[str] = field(default_factory=set)
    entries: dict[str, str] = field(default_factory=dict)  # msgid → msgstr

    @property
    def missing(self) -> list[str]:
        return sorted(m for m in self.required if not self.entries.get(m))

    @property
    def stale(self) -> list[str]:
        return sorted(m for m in self.entries if m not in self.required and m not in self.optional)


def _extract(keywords: dict[str, tuple[int, ...] | None], quiet: bool) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    out = io.StringIO() if quiet else sys.stderr
    with contextlib.redirect_stderr(out):
        for filename, lineno, message, _comments, _context in extract_from_dir(
            SRC, method_map=_METHODS, options_map=_TEMPLATE_OPTIONS, keywords=keywords
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault(msgid, []).append(f"src/interop/{filename}:{lineno}")
    return found


def _command_helps() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted((SRC / "commands").glob("*.py")):
        for node in ast.parse(path.read_text("utf-8")).body:
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "HELP" for t in node.targets)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                found.setdefault(node.value.value, []).append(where)
    return found


def _error_classes() -> set[str]:
    return {
        name
        for name, obj in vars(errors).items()
        if isinstance(obj, type) and issubclass(obj, InteropError) and name not in _NOT_A_MESSAGE
    }


def report(po: Path | None = None) -> Report:
    """Extract the code's msgids and read the catalogue ``po`` (default: zh_CN's)."""
    rep = Report()
    rep.required = _extract({"_": None, "N_": None}, quiet=False)
    for msgid, where in _command_helps().items():
        rep.required.setdefault(msgid, []).extend(where)
    for code, entry in REGISTRY.items():
        for text in (entry.meaning, entry.action):
            rep.required.setdefault(text, []).append(f"interop._errors.REGISTRY[{code}]")
    rep.optional = set(_extract(dict.fromkeys(_error_classes(), (1,)), quiet=True))
    with (po or PO).open("rb") as fh:
        cat = read_po(fh, locale="zh_CN")
    rep.entries = {
        str(m.id): str(m.string) if isinstance(m.string, str) else ""
        for m in cat
        if m.id and isinstance(m.id, str)
    }
    return rep


def _po_string(text: str) -> str:
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    )
    return f'"{escaped}"'


def stub(rep: Report, po: Path | None = None) -> int:
    """Append the missing msgids that have no entry at all, with an empty msgstr."""
    new = [m for m in rep.missing if m not in rep.entries]
    if new:
        lines = ["", "# stubs (tools/i18n_catalogue.py --stub): translate, then move to a block"]
        for msgid in new:
            lines += ["", f"#: {rep.required[msgid][0]}", f"msgid {_po_string(msgid)}", 'msgstr ""']
        with (po or PO).open("a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
    return len(new)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stub", action="store_true", help="append missing msgids as stubs")
    args = parser.parse_args(argv)
    rep = report()
    for msgid in rep.missing:
        print(f"missing: {msgid!r}  ({rep.required[msgid][0]})")
    for msgid in rep.stale:
        print(f"stale:   {msgid!r}")
    print(
        f"{len(rep.required)} msgids used, {len(rep.entries)} entries, "
        f"{len(rep.missing)} missing, {len(rep.stale)} stale"
    )
    if args.stub:
        print(f"{stub(rep)} stubs appended to {PO.relative_to(ROOT)}")
    return 1 if rep.missing or rep.stale else 0


if __name__ == "__main__":
    sys.exit(main())
