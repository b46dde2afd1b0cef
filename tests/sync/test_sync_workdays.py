"""Working days (§1.9.1, G-05) and start deadlines (DL-01..DL-03, G-04, G-06)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from interop._errors import DataFileError
from interop.core.deadlines import start_deadline
from interop.core.workdays import CHINA_TZ, WorkCalendar, end_of_day, load_year_file

D = dt.date


@pytest.fixture()
def cal(tmp_path: Path) -> WorkCalendar:
    return WorkCalendar.load(tmp_path)  # no operator files: package data + fallback


def test_event_day_not_counted_and_weekend_skipped(cal: WorkCalendar) -> None:
    # Friday 2025-12-19 → Mon 22 is the 1st working day
    assert cal.add_workdays(D(2025, 12, 19), 1) == (D(2025, 12, 22), False)


def test_national_day_holiday_and_makeup_saturday(cal: WorkCalendar) -> None:
    # 2025: 1–8 Oct off; Sun 28 Sep and Sat 11 Oct are make-up working days (调休)
    assert cal.is_workday(D(2025, 9, 28))
    assert not cal.is_workday(D(2025, 10, 3))
    assert cal.is_workday(D(2025, 10, 11))
    # received Fri 26 Sep: Sun 28, Mon 29, Tue 30, (1–8 Oct off) Thu 9, Fri 10
    assert cal.add_workdays(D(2025, 9, 26), 5) == (D(2025, 10, 10), False)
    assert cal.add_workdays(D(2025, 9, 26), 6) == (D(2025, 10, 11), False)


def test_unknown_year_falls_back_and_is_provisional(cal: WorkCalendar) -> None:
    due, provisional = cal.add_workdays(D(2026, 12, 28), 5)
    assert provisional  # reaches into 2027, not published in the package
    # Tue 29, Wed 30, Thu 31 (2026), Fri 1 Jan is 元旦 (fixed), Mon 4, Tue 5 Jan 2027
    assert due == D(2027, 1, 5)
    assert not cal.is_workday(D(2027, 10, 1))  # fixed holidays still known
    assert cal.add_workdays(D(2026, 12, 1), 3) == (D(2026, 12, 4), False)


def test_operator_file_adds_a_year(tmp_path: Path) -> None:
    (tmp_path / "2027.json").write_text(
        json.dumps(
            {
                "year": 2027,
                "source": "test notice",
                "holidays": ["2027-01-01", "2027-01-04"],
                "workdays": ["2027-01-09"],
            }
        ),
        "utf-8",
    )
    cal = WorkCalendar.load(tmp_path)
    assert cal.is_known(2027)
    assert not cal.is_workday(D(2027, 1, 4))
    assert cal.is_workday(D(2027, 1, 9))  # a Saturday made a working day
    assert cal.add_workdays(D(2026, 12, 31), 2) == (D(2027, 1, 6), False)


def test_operator_file_errors_name_file_and_entry(tmp_path: Path) -> None:
    bad = tmp_path / "2027.json"
    bad.write_text('{"year": 2027, "source": "x", "holidays": ["2027-02-30"]}', "utf-8")
    with pytest.raises(DataFileError) as err:
        load_year_file(bad)
    assert err.value.entry == "holidays[0]" and "2027.json" in err.value.file
    bad.write_text('{"year": 2026, "source": "x", "holidays": []}', "utf-8")
    with pytest.raises(DataFileError, match="file name says 2027"):
        load_year_file(bad)
    bad.write_text("{", "utf-8")
    with pytest.raises(DataFileError, match="not valid JSON"):
        load_year_file(bad)


def test_bundled_calendar_folder_loads() -> None:
    WorkCalendar.load()  # mappings/calendar: every file valid


def test_deadline_rules_and_earliest_wins(cal: WorkCalendar) -> None:
    r = D(2025, 12, 22)  # Monday
    high = start_deadline("high", r, cal)
    medium = start_deadline("medium", r, cal)
    assert high is not None and (high.rule, high.due) == ("DL-03", D(2025, 12, 29))
    assert medium is not None and (medium.rule, medium.due) == ("DL-02", D(2026, 1, 6))
    assert start_deadline("low", r, cal) is None
    low = start_deadline("low", r, cal, agreement_date=D(2025, 12, 1))
    # G-04: DL-01 runs from the later of agreement and inclusion (receipt)
    assert low is not None and low.rule == "DL-01" and low.start == r
    # G-06: for high risk the 5-wd DL-03 is earlier than DL-01's 15 wd
    both = start_deadline("high", r, cal, agreement_date=D(2025, 12, 1))
    assert both is not None and both.rule == "DL-03"
    late = start_deadline("medium", r, cal, agreement_date=D(2025, 11, 1))
    assert late is not None and late.rule == "DL-02"


def test_deadline_expires_at_end_of_day_in_china() -> None:
    due = D(2025, 12, 29)
    assert end_of_day(due) == dt.datetime(2025, 12, 29, 23, 59, 59, tzinfo=CHINA_TZ)
    cal = WorkCalendar.load(Path("/nonexistent"))
    d = start_deadline("high", D(2025, 12, 22), cal)
    assert d is not None
    assert not d.overdue(dt.datetime(2025, 12, 29, 23, 59, 0, tzinfo=CHINA_TZ))
    # 16:00 UTC on the 29th is already 00:00 on the 30th in China
    assert d.overdue(dt.datetime(2025, 12, 29, 16, 0, 1, tzinfo=dt.UTC))


def test_the_package_years_are_read_as_its_own_functions_give_them() -> None:
    """The arrangement is read from chinese_calendar's tables; its functions agree."""
    import chinese_calendar

    from interop.core.workdays import _package_year

    years = sorted({d.year for d in chinese_calendar.holidays})
    assert 2025 in years and 2026 in years
    for year in years:
        start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
        arr = _package_year(year)
        assert arr is not None
        assert arr.holidays == set(chinese_calendar.get_holidays(start, end, False))
        assert arr.workdays == {
            d for d in chinese_calendar.get_workdays(start, end, True) if d.weekday() >= 5
        }
    assert _package_year(years[0] - 1) is None and _package_year(years[-1] + 1) is None
