"""Parts of a quote-free CSV file read on their own.

:mod:`interop.inbound.csvparts` cuts a list file into byte ranges at line
ends so that worker processes read them; :func:`interop.inbound.readers.csv_row`
turns each line into a row. Over all parts, that must give exactly the rows
the one-process reader (:class:`interop.inbound.readers.FileSource`) gives —
row numbers, values and problems — and any file the parts reader cannot
handle must be left to that reader (``plan`` returns None).

:class:`interop.inbound.mapping.RowShape` (key and raw digest of cell lists)
must agree with the dict-based :meth:`InboundMapping.key_of` and
:meth:`InboundMapping.raw_digest`: the archive stores one digest, whichever
way a row was read.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interop._errors import InputError
from interop.core.resident_id import make
from interop.inbound import csvparts
from interop.inbound.csvparts import CsvPlan
from interop.inbound.mapping import InboundMapping
from interop.inbound.readers import FileSource, csv_row
from interop.resources import mappings_dir

Row = tuple[int, dict[str, str], tuple[str, str] | None]

HEADER = ["序号", "姓名", "性别", "身份证号", "出生日期", "户籍地", "备注"]
PART_SIZES = [1, 50, 333, csvparts.PART_BYTES]


def _rid(i: int) -> str:
    return make("360102", dt.date(2012, 1, 1) + dt.timedelta(days=i), "1" if i % 2 else "2", i)


def _line(i: int) -> list[str]:
    return [str(i), f"测试{i}", "男" if i % 2 else "女", _rid(i), "2012-01-01", "江西省南昌市", ""]


def reference(source: FileSource) -> list[Row]:
    """The rows of the one-process reader."""
    return [(r.number, r.values, r.problem) for r in source]


def by_parts(plan: CsvPlan) -> list[Row]:
    """The rows of ``csvparts.lines`` and ``csv_row`` over every part, in order (and
    ``csvparts.byte_lines`` gives the same lines, as bytes, where it reads a part)."""
    out: list[Row] = []
    for part in plan.parts:
        raw = csvparts.byte_lines(plan, part)
        if raw is None:
            assert plan.encoding != "utf-8" or not plan.delimiter.isascii()
        else:
            text = [(n, line.decode(plan.encoding)) for n, line in raw]
            assert text == list(csvparts.lines(plan, part))
        for number, line in csvparts.lines(plan, part):
            row = csv_row(number, plan.header, csvparts.cells_of(line, plan.delimiter))
            if row is not None:
                out.append((row.number, row.values, row.problem))
    return out


def check_plan(plan: CsvPlan, part_bytes: int) -> None:
    """Parts are contiguous, cut at line ends, cover the file after the header; numbers agree."""
    data = plan.path.read_bytes()
    head = len(data.split(b"\n", 1)[0]) + 1 if b"\n" in data else len(data)
    body = data[head:]
    assert plan.rows == body.count(b"\n") + (1 if body and not body.endswith(b"\n") else 0)
    parts = plan.parts
    assert [p.index for p in parts] == list(range(len(parts)))
    if not body:
        assert parts == []
        return
    assert parts[0].start == head and parts[-1].end == len(data)
    tail_from = len(data) - csvparts.TAIL_PARTS * part_bytes
    for before, after in itertools.pairwise(parts):
        assert before.end == after.start
        assert data[before.end - 1 : before.end] == b"\n"  # cut at a line end …
        # … at the first line end once the part is big enough (less so in the last bytes)
        size = (
            part_bytes if before.start < tail_from else max(1, part_bytes // csvparts.TAIL_DIVISOR)
        )
        assert before.end - before.start >= size
        assert b"\n" not in data[before.start + size : before.end - 1]
    for p in parts:
        assert p.start < p.end
        assert p.first == 2 + data.count(b"\n", head, p.start)
    # every line after the header, once, numbered 2, 3, … in order
    numbers = [n for p in parts for n, _ in csvparts.lines(plan, p)]
    assert numbers == list(range(2, plan.rows + 2))


def assert_same_rows(path: Path, *, options: dict[str, Any] | None = None, **kw: Any) -> None:
    source = FileSource(path, **kw)
    if options:
        source.options = options
    expected = reference(source)
    for part_bytes in PART_SIZES:
        plan = csvparts.plan(source, part_bytes=part_bytes)
        assert plan is not None, "a quote-free file is split"
        check_plan(plan, part_bytes)
        if path.stat().st_size:  # (an empty file has no header line at all)
            assert plan.header == source.columns
        assert by_parts(plan) == expected, part_bytes
        if part_bytes <= 50 and plan.rows > 3:
            assert len(plan.parts) > 1


def _text(lines: list[str], end: str = "\n", *, last: bool = True) -> str:
    return end.join(lines) + (end if last else "")


def _rows(n: int, delimiter: str = ",") -> list[str]:
    return [delimiter.join(_line(i)) for i in range(1, n + 1)]


HEAD = ",".join(HEADER)
FILES: dict[str, str] = {
    "lf": _text([HEAD, *_rows(20)]),
    "crlf": _text([HEAD, *_rows(20)], "\r\n"),
    "mixed line ends": HEAD
    + "\r\n"
    + "".join(r + "\r\n\n"[i % 2 :] for i, r in enumerate(_rows(20))),
    "no trailing newline": _text([HEAD, *_rows(20)], last=False),
    "crlf, no trailing newline": _text([HEAD, *_rows(20)], "\r\n", last=False),
    "blank lines in the middle and at the end": _text(
        [HEAD, *_rows(3), "", "", *_rows(5)[3:], "   ", "", *_rows(9)[5:], "", "", ""]
    ),
    "blank lines, crlf": _text([HEAD, "", *_rows(4), "", "", *_rows(8)[4:], ""], "\r\n"),
    "blank line right after the header": _text([HEAD, "", *_rows(3)]),
    "blank last line without newline": _text([HEAD, *_rows(3), "  "], last=False),
    "short rows": _text([HEAD, *_rows(2), "3,测试3", "4", *_rows(6)[4:], "7,,,"]),
    "long rows": _text([HEAD, *_rows(2), _rows(3)[2] + ",多,余,列", *_rows(5)[3:]]),
    "rows of only delimiters": _text(
        [HEAD, ",,,,,,", *_rows(2), ",,,", ",,,,,,,,,", *_rows(4)[2:]]
    ),
    "cells with spaces and CJK punctuation": _text(
        [HEAD, " 1 , 测 试 ,男,  ,2012-01-01,江西省，南昌市、东湖区；某路, 备注 ", *_rows(3)[1:]]
    ),
    "header only": HEAD + "\n",
    "header only, no newline": HEAD,
    "header with spaces": " 序号 , 姓名 ,性别,身份证号 \n" + _text([",".join(_line(1)[:4])]),
    "empty file": "",
    "one data row without newline": HEAD + "\n" + _rows(1)[0],
}


@pytest.mark.parametrize("name", list(FILES))
def test_parts_give_the_rows_of_the_csv_reader(tmp_path: Path, name: str) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(FILES[name].encode("utf-8"))
    assert_same_rows(path)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk", "gb18030"])
def test_bom_and_chinese_encodings(tmp_path: Path, encoding: str) -> None:
    text = _text([HEAD, *_rows(30), "", "31,短行", *_rows(33)[31:]], "\r\n")
    path = tmp_path / "list.csv"
    path.write_bytes(text.encode(encoding))
    source = FileSource(path)
    assert source.encoding == ("utf-8-sig" if encoding == "utf-8-sig" else "gb18030")
    assert_same_rows(path)
    assert_same_rows(path, encoding=encoding)  # named, as with --encoding
    rows = reference(source)
    assert rows[0][1]["姓名"] == "测试1" and rows[0][1]["序号"] == "1"  # the BOM is gone


def test_ascii_and_gb2312_named(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(_text(["a,b,c", "1,2,3", "", "4,5"]).encode("ascii"))
    assert_same_rows(path, encoding="ascii")
    path.write_bytes(_text([HEAD, *_rows(12)]).encode("gb2312"))
    assert_same_rows(path, encoding="gb2312")


def test_custom_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    text = _text([";".join(HEADER), *_rows(15, ";"), "", "16;短", "17;a,b,c;x"])
    path.write_bytes(text.encode("utf-8"))
    assert_same_rows(path, options={"delimiter": ";"})
    source = FileSource(path)
    source.options = {"delimiter": ";"}
    plan = csvparts.plan(source, part_bytes=50)
    assert plan is not None and plan.delimiter == ";" and plan.header == HEADER
    path.write_bytes(text.replace(";", "\t").encode("utf-8"))
    assert_same_rows(path, options={"delimiter": "\t"})


def test_plan_counts_rows_and_parts(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(_text([HEAD, *_rows(100), "", ""], "\r\n").encode("utf-8"))
    source = FileSource(path)
    plan = csvparts.plan(source)
    assert plan is not None
    assert plan.rows == 102 and len(plan.parts) == 1  # one part by default
    assert plan.encoding == "utf-8" and plan.delimiter == ","
    small = csvparts.plan(source, part_bytes=333)
    assert small is not None and small.rows == 102 and len(small.parts) > 10
    check_plan(small, 333)


@pytest.mark.parametrize("block", [1, 2, 7, 64])
def test_plan_does_not_depend_on_the_read_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    """The file is read in blocks: a part, a line end or a CR may straddle two of them."""
    path = tmp_path / "list.csv"
    texts = [
        _text([HEAD, *_rows(12), "", "13,短"], "\r\n"),
        _text([HEAD, *_rows(12), ""], "\n", last=False),
        _text([HEAD, *_rows(5)], "\r\n", last=False),
    ]
    for text in texts:
        path.write_bytes(text.encode("utf-8"))
        source = FileSource(path)
        expected = {pb: csvparts.plan(source, part_bytes=pb) for pb in (1, 50, 333)}
        monkeypatch.setattr(csvparts, "_BLOCK", block)
        for pb, plan in expected.items():
            assert plan is not None
            assert csvparts.plan(source, part_bytes=pb) == plan
        monkeypatch.undo()
    # an unsplittable byte anywhere is seen whatever the blocks
    monkeypatch.setattr(csvparts, "_BLOCK", block)
    base = _text([HEAD, *_rows(12)]).encode("utf-8")
    for bad in (b'"', b"\x00", b"\r"):
        for at in (len(base) // 2, len(base) - 3):
            path.write_bytes(base[:at] + bad + base[at:])
            assert csvparts.plan(FileSource(path, encoding="utf-8"), part_bytes=50) is None


# -- files left to the one-process reader -------------------------------------


UNSPLITTABLE: dict[str, bytes] = {
    "quoted cell": (HEAD + '\n1,"测试,1",男\n').encode(),
    "quote in the header": ('"序号",姓名\n1,测试\n').encode(),
    "quote in a cell": (HEAD + '\n1,测"试,男\n').encode(),
    "quote far into the file": (_text([HEAD, *_rows(200)]) + '201,"x"\n').encode(),
    "quoted line end": (HEAD + '\n1,"a\nb",男\n2,c,女\n').encode(),
    "NUL byte": (HEAD + "\n1,测\x00试,男\n").encode(),
    "NUL byte far into the file": (_text([HEAD, *_rows(200)]) + "201,\x00\n").encode(),
    "lone CR in a cell": (HEAD + "\n1,测\r试,男\n").encode(),
    "CR line ends (old Mac)": _text([HEAD, *_rows(5)], "\r").encode(),
    "CR line ends after an LF header": (HEAD + "\n" + _text(_rows(5), "\r")).encode(),
    "CR CR LF": (HEAD + "\n1,2,3\r\r\n").encode(),
    "lone CR in the header": ("序号\r姓名,性别\n1,2\n").encode(),
}


@pytest.mark.parametrize("name", list(UNSPLITTABLE))
def test_unsplittable_files_are_left_to_the_csv_reader(tmp_path: Path, name: str) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(UNSPLITTABLE[name])
    for part_bytes in (1, 50, csvparts.PART_BYTES):
        assert csvparts.plan(FileSource(path, encoding="utf-8"), part_bytes=part_bytes) is None


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32", "latin-1", "big5", "cp1252"])
def test_other_encodings_are_left_to_the_csv_reader(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes("a,b\n1,2\n".encode(encoding))
    source = FileSource(path, encoding=encoding)
    assert csvparts.plan(source, part_bytes=1) is None
    assert [r.values for r in source]  # the one-process reader takes it


@pytest.mark.parametrize("delimiter", [";;", ", ", "", '"', "\n", "\r"])
def test_odd_delimiters_are_left_to_the_csv_reader(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(b"a,b\n1,2\n")
    source = FileSource(path)
    source.options = {"delimiter": delimiter}
    assert csvparts.plan(source, part_bytes=1) is None


@pytest.mark.parametrize(
    ("name", "content", "fmt"),
    [
        ("list.json", b'[{"a": "1"}]', None),
        ("list.ndjson", b'{"a": "1"}\n', None),
        ("list.xml", b"<list><r><a>1</a></r></list>", None),
        ("list.txt", b"<list><r><a>1</a></r></list>", "xml"),
    ],
)
def test_other_formats_are_not_split(
    tmp_path: Path, name: str, content: bytes, fmt: str | None
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert csvparts.plan(FileSource(path, fmt=fmt), part_bytes=1) is None


def test_a_txt_file_read_as_csv_is_split(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_bytes(_text([HEAD, *_rows(5)]).encode())
    assert_same_rows(path)


# -- bad bytes ----------------------------------------------------------------


def _part_of(plan: CsvPlan, row: int) -> csvparts.Part:
    return [p for p in plan.parts if p.first <= row][-1]


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
@pytest.mark.parametrize("bad_row", [2, 57, 140, 141])
def test_a_bad_byte_in_a_later_part_names_its_row(
    tmp_path: Path, encoding: str, bad_row: int
) -> None:
    lines = [HEAD.encode(encoding), *(r.encode(encoding) for r in _rows(140))]
    lines[bad_row - 1] = lines[bad_row - 1].replace(b",", b",\xff", 1)  # row N is line N
    path = tmp_path / "list.csv"
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    source = FileSource(path, encoding=encoding)
    plan = csvparts.plan(source, part_bytes=333)  # the plan reads bytes, decodes nothing
    assert plan is not None and len(plan.parts) > 10 and plan.rows == 140
    where = _part_of(plan, bad_row)
    for part in plan.parts:
        if part is where:
            with pytest.raises(InputError) as err:
                list(csvparts.lines(plan, part))
            assert err.value.code == "E131"
            assert f"list.csv: row {bad_row} is not valid" in err.value.message
        else:
            assert list(csvparts.lines(plan, part))  # every other part reads fine
    with pytest.raises(InputError) as whole:  # the one-process reader fails too
        list(source)
    assert whole.value.code == "E131"


def test_a_bad_byte_in_the_header(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(b"\xff" + _text([HEAD, *_rows(3)]).encode())
    with pytest.raises(InputError) as err:
        csvparts.plan(FileSource(path, encoding="utf-8"))
    assert err.value.code == "E131" and "row 1 " in err.value.message


# -- random files -------------------------------------------------------------

_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
_ANY = st.characters(exclude_categories=["Cs"], exclude_characters='"\r\n\x00,;|\t')
_cells = st.text(st.one_of(_CJK, _ANY, st.sampled_from(" 　、，；:")), max_size=6)


@st.composite
def _files(draw: st.DrawFn) -> tuple[str, str, list[list[str]], list[str], bool]:
    width = draw(st.integers(1, 6))
    header = draw(st.lists(_cells, min_size=width, max_size=width))
    rows = draw(
        st.lists(
            st.one_of(
                st.lists(_cells, min_size=width, max_size=width),
                st.lists(_cells, max_size=width + 2),  # blank, short or long
                st.just([]),
            ),
            max_size=25,
        )
    )
    ends = draw(st.lists(st.sampled_from(["\n", "\r\n"]), min_size=len(rows) + 1))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    delimiter = draw(st.sampled_from([",", ";", "|", "\t"]))
    return encoding, delimiter, [header, *rows], ends, draw(st.booleans())


@settings(max_examples=300, deadline=None)
@given(_files(), st.integers(1, 120))
def test_random_quote_free_files(
    tmp_path_factory: pytest.TempPathFactory,
    file: tuple[str, str, list[list[str]], list[str], bool],
    part_bytes: int,
) -> None:
    encoding, delimiter, lines, ends, last = file
    text = "".join(delimiter.join(cells) + end for cells, end in zip(lines, ends, strict=False))
    if not last:
        text = text[: -len(ends[len(lines) - 1])]
    path = tmp_path_factory.getbasetemp() / "random.csv"
    path.write_bytes(text.encode(encoding))
    source = FileSource(path)
    source.options = {"delimiter": delimiter}
    plan = csvparts.plan(source, part_bytes=part_bytes)
    assert plan is not None
    check_plan(plan, part_bytes)
    assert by_parts(plan) == reference(source)
    assert plan.header == source.columns


# -- known divergences ----------------------------------------------------------


def test_a_blank_line_in_a_one_column_file_is_no_row(tmp_path: Path) -> None:
    """A one-column list (e.g. only 身份证号): the csv reader skips a blank line.

    ``lines`` yields ``""`` for it; ``"".split(",") == [""]`` would have the
    header's width (1) and make a row with an empty cell, so ``cells_of``
    gives an empty line no cells, as the csv module does.
    """
    path = tmp_path / "ids.csv"
    path.write_bytes(_text(["身份证号", _rid(1), "", _rid(2), ""]).encode())
    source = FileSource(path)
    assert [n for n, _, _ in reference(source)] == [2, 4]
    plan = csvparts.plan(source, part_bytes=1)
    assert plan is not None
    assert by_parts(plan) == reference(source)


# -- RowShape ------------------------------------------------------------------

_MAPPING = InboundMapping.load(None)
_RID = "身份证号"


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> InboundMapping:
    """A layout with alternative columns of one field and a composite alternate key."""
    folder = tmp_path_factory.mktemp("mapping")
    data: dict[str, Any] = {
        "name": "county-shape",
        "key": ["resident_id"],
        "alternate_key": ["name", "birth_date"],
        "schema": str(mappings_dir() / "inbound" / "schemas" / "child-list-entry.schema.json"),
        "fields": {
            "name": {"column": ["儿童姓名", "姓名"], "required": True},
            "resident_id": {"column": ["公民身份号码", "身份证号"], "type": "resident-id"},
            "birth_date": {"column": "生日", "type": "date"},
            "home_address": {"column": ["现住址", "常住地址", "地址"]},
            "note": {"column": "备注"},
        },
    }
    path = folder / "county-shape.json"
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return InboundMapping.load(str(path))


_ids = st.builds(
    lambda i, low, pad: (f" {_rid(i)}\u3000" if pad else _rid(i)).lower() if low else _rid(i),
    st.integers(0, 4000),
    st.booleans(),
    st.booleans(),
)
_shape_cells = st.one_of(
    st.sampled_from(["", " ", "x" * 61, "张三", "2012-01-01", "\u3000", "ß"]),
    _ids,
    st.text(max_size=5),
)


@st.composite
def _header_and_rows(draw: st.DrawFn, columns: list[str]) -> tuple[list[str], list[list[str]]]:
    """A header with some mapped columns missing, some twice, and extra ones; rows for it."""
    kept = draw(st.lists(st.sampled_from(columns), unique=True))
    twice = draw(st.lists(st.sampled_from(columns), max_size=3))
    extra = draw(st.lists(st.sampled_from(["额外", "extra", "", "序号 "]), max_size=3))
    header = draw(st.permutations([*kept, *twice, *extra]))
    rows = draw(
        st.lists(
            st.lists(_shape_cells, min_size=len(header), max_size=len(header) + 2),
            min_size=1,
            max_size=5,
        )
    )
    return list(header), rows


def _assert_shape_agrees(mapping: InboundMapping, header: list[str], rows: list[list[str]]) -> None:
    shape = mapping.shape(header)
    for cells in rows:
        values = dict(zip(header, cells, strict=False))
        assert shape.key(cells) == mapping.key_of(values)
        assert shape.digest(cells) == mapping.raw_digest(values)
        for delimiter in (",", "\t"):
            by_line = shape.lines(delimiter)
            if by_line is None or len(cells) != len(header) or any(delimiter in c for c in cells):
                continue
            line_key, line_digest = by_line
            line = delimiter.join(cells)
            assert line_key(line) == mapping.key_of(values)[0]
            assert line_digest(line) == mapping.raw_digest(values)
            by_bytes = shape.byte_lines(delimiter)
            assert by_bytes is not None
            bytes_key, bytes_digest = by_bytes
            assert bytes_key(line.encode()) == mapping.key_of(values)[0]
            assert bytes_digest(line.encode()) == mapping.raw_digest(values)


def _own_layout(mapping: InboundMapping) -> list[str]:
    """The header of a list in the mapping's own layout: its columns in its order."""
    return [columns[0] for columns in mapping._columns_in_order]


def test_whole_lines_are_read_as_they_are_only_in_the_mappings_own_layout(
    county: InboundMapping,
) -> None:
    for mapping in (_MAPPING, county):
        own = _own_layout(mapping)
        assert mapping.shape(own).lines(",") is not None
        for header in (own[::-1], [*own, "额外"], own[1:], [*own, own[0]]):
            assert mapping.shape(header).lines(",") is None


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_whole_lines_key_and_digest_as_their_cells(
    county: InboundMapping, data: st.DataObject
) -> None:
    """A line read as it is gives its cells' key and digest (RowShape.lines)."""
    mapping = data.draw(st.sampled_from([_MAPPING, county]))
    header = _own_layout(mapping)
    rows = data.draw(
        st.lists(st.lists(_shape_cells, min_size=len(header), max_size=len(header)), max_size=5)
    )
    _assert_shape_agrees(mapping, header, rows)


_DEFAULT_COLUMNS = sorted(_MAPPING.columns)


@settings(max_examples=300, deadline=None)
@given(_header_and_rows(_DEFAULT_COLUMNS))
def test_row_shape_agrees_with_the_dict_methods(data: tuple[list[str], list[list[str]]]) -> None:
    _assert_shape_agrees(_MAPPING, *data)


def test_row_shape_on_fixed_headers() -> None:
    full = list(_DEFAULT_COLUMNS)
    rnd = random.Random(3)
    headers = [
        full,
        list(reversed(full)),
        [c for c in full if c != _RID],  # no ID column: the key falls back
        [c for c in full if c not in ("姓名", "民族")],
        [*full, "额外", "另一列"],
        [*full, _RID],  # the ID column twice: the last one wins
        [_RID, *full, "姓名"],
        [_RID],
        ["额外"],
    ]
    for header in headers:
        rows = [[rnd.choice(["", " ", "测试", _rid(rnd.randrange(99))]) for _ in header]]
        rows += [[_rid(i).lower() if c == _RID else f"{c}{i}" for c in header] for i in range(5)]
        rows += [[*rows[1], "多", "余"]]
        _assert_shape_agrees(_MAPPING, header, rows)


def test_row_shape_of_a_layout_with_alternative_columns(county: InboundMapping) -> None:
    mapping = county
    columns = sorted(mapping.columns | {"额外"})
    rnd = random.Random(5)
    for _ in range(300):
        header = rnd.sample(columns, rnd.randrange(1, len(columns) + 1))
        header += rnd.sample(columns, rnd.randrange(0, 3))
        rows = [
            [rnd.choice(["", " ", "张三", "2012-01-01", _rid(rnd.randrange(9))]) for _ in header]
            for _ in range(4)
        ]
        _assert_shape_agrees(mapping, header, rows)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_row_shape_of_a_layout_with_alternative_columns_random(
    county: InboundMapping, data: st.DataObject
) -> None:
    header, rows = data.draw(_header_and_rows(sorted(county.columns)))
    _assert_shape_agrees(county, header, rows)
