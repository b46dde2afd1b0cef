"""argparse's help in Chinese is wrapped by display width: Chinese breaks between
characters, other text between words, a wide character counts two columns."""

from __future__ import annotations

import unicodedata

from interop.i18n.parser import wrap


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def test_chinese_wraps_within_the_width_and_keeps_words_whole() -> None:
    text = (
        "档案库数据库 URL（sqlite:///路径 或 postgresql://…）；默认取 $INTEROP_DB、"
        "[settings] db，或用户数据文件夹中的 SQLite 文件"
    )
    lines = wrap(text, 30)
    assert len(lines) > 2
    assert all(_width(line) <= 30 for line in lines), lines
    joined = " ".join(lines)
    for word in ("postgresql://…", "$INTEROP_DB", "[settings]", "SQLite"):
        assert any(word in line for line in lines), (word, lines)
    assert joined.replace(" ", "") == text.replace(" ", "")  # nothing lost or added


def test_a_long_word_stands_alone_on_its_line() -> None:
    assert wrap("中文 abcdefghij 中文", 6) == ["中文", "abcdefghij", "中文"]
