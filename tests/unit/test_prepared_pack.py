"""Prepared rows as they cross from a worker process (interop.inbound.prepare.pack)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from interop.inbound.mapping import Finding
from interop.inbound.prepare import Prepared, pack, unpack

_text = st.text(max_size=12)
_finding = st.builds(
    Finding,
    _text,
    _text,
    _text,
    st.sampled_from(["error", "warning"]),
    st.none() | _text,
)
_prepared = st.builds(
    Prepared,
    st.integers(2, 10**7),
    st.none() | st.dictionaries(_text, _text, max_size=4),
    st.lists(_finding, max_size=3),
    st.none() | _text,
    _text,
    st.binary(max_size=40),
    _text,
    st.none() | _text,
    st.none() | _text,
    st.none() | st.binary(max_size=40),
    st.none() | st.tuples(st.integers(), _text, st.none(), st.floats(allow_nan=False)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_prepared, max_size=20))
def test_packed_rows_unpack_as_they_were(rows: list[Prepared]) -> None:
    back = unpack(pack(rows))
    assert back == rows
    assert all(type(p) is Prepared for p in back)
    assert all(type(f) is Finding for p in back for f in p.findings)


def test_a_quarantined_row_keeps_its_cells_and_reasons() -> None:
    row = Prepared(7, {"身份证号": "x"}, [Finding("身份证号", "resident-id", "身份证号: bad")])
    (back,) = unpack(pack([row]))
    assert back.values == {"身份证号": "x"}
    assert back.findings == row.findings
    assert back.key is None


@settings(max_examples=50, deadline=None)
@given(st.lists(_prepared, max_size=200))
def test_a_packer_packs_a_few_dozen_rows_a_blob_and_keeps_their_order(
    rows: list[Prepared],
) -> None:
    from interop.inbound.prepare import PACK_ROWS, Packer, unpack_all

    packer = Packer()
    for row in rows:
        packer.add(row)
    blobs = packer.done()
    assert len(blobs) == -(-len(rows) // PACK_ROWS)  # (none when there are no rows)
    assert unpack_all(blobs) == rows
