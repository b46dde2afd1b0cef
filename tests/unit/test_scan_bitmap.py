"""The first pass's bitmap of rows needing work (interop.inbound.sync.Scan)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from interop.inbound.sync import Scan, SeenChildren


@settings(max_examples=300, deadline=None)
@given(
    st.sets(st.integers(2, 300), max_size=60),
    st.integers(0, 320),
    st.integers(0, 320),
)
def test_rows_needing_work_in_a_range_are_the_marked_ones(
    marked: set[int], start: int, end: int
) -> None:
    scan = Scan(seen=SeenChildren(0))
    for number in sorted(marked):
        scan.mark(number, 0)
    expected = [n for n in range(start, end) if scan.needs_work(n)]
    assert expected == sorted(n for n in marked if start <= n < end)
    assert scan.rows_needing_work(start, end) == expected
    assert scan.any_work(start, end) or not expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(2, 400), max_size=30), max_size=5))
def test_fresh_rows_marked_at_once_as_one_by_one(chunks: list[list[int]]) -> None:
    one, many = Scan(seen=SeenChildren(0)), Scan(seen=SeenChildren(0))
    for numbers in chunks:
        for number in numbers:
            one.mark(number, 0)
            one.mark_fresh(number)
        many.mark_fresh_rows(numbers)
    for n in range(0, 410):
        assert many.needs_work(n) == one.needs_work(n)
        assert many.is_fresh(n) == one.is_fresh(n)
    assert (many.kept is None) == (one.kept is None)
