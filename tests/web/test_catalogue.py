"""The message catalogue: every text of the console has its zh_CN translation (the
console is Chinese first), placeholders survive translation, and the language is chosen
by --lang over LANG."""

from __future__ import annotations

import re
import string
from pathlib import Path

from interop.i18n import catalogue, choose, translate

SRC = Path(__file__).resolve().parents[2] / "src" / "interop"
_CALL = re.compile(r"""\b_\((["'])(.+?)\1\)""")


def _msgids() -> set[str]:
    found = set()
    commands = SRC / "commands"
    files = [
        *(SRC / "web" / "templates").glob("*.html"),
        *(commands / f"{name}.py" for name in ("staff", "serve", "approve", "reject", "consent")),
    ]
    for path in files:
        found |= {m.group(2) for m in _CALL.finditer(path.read_text("utf-8"))}
    from interop.web.app import NAV

    return found | {title for _p, _a, title in NAV}


def test_every_console_text_has_a_zh_cn_translation() -> None:
    zh = catalogue("zh_CN")
    missing = sorted(m for m in _msgids() if m not in zh)
    assert missing == []


def test_placeholders_survive_translation() -> None:
    for msgid, text in catalogue("zh_CN").items():
        names = {f[1] for f in string.Formatter().parse(msgid) if f[1]}
        assert names == {f[1] for f in string.Formatter().parse(text) if f[1]}, msgid


def test_language_choice() -> None:
    assert choose(None, "zh_CN.UTF-8") == "zh_CN"
    assert choose("en", "zh_CN.UTF-8") == "en"
    assert choose(None, "C.UTF-8") == "en" and choose(None, None) == "en"
    assert translate("Approvals", "zh_CN") == "审批"
    assert translate("a message the catalogue lacks", "zh_CN") == "a message the catalogue lacks"
