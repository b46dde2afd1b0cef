"""Working days (工作日) of the PRC statutory calendar, for the deadlines of the standard.

Counting rules (§1.9.1, G-05): the event day is not counted; only working
days count — weekdays that are not statutory holidays, plus the make-up
working weekend days (调休上班日) of the State Council's annual notice; a
deadline ends at 23:59:59 Asia/Shanghai on the n-th working day.

Where a year's arrangement comes from, first match wins:

1. an operator data file ``mappings/calendar/<year>.json`` (or any folder
   given to :meth:`WorkCalendar.load`), so a newly published notice can be
   added without upgrading the program;
2. the maintained ``chinese_calendar`` package (PyPI ``chinesecalendar``);
3. otherwise Monday–Friday minus the holidays fixed in the solar calendar
   (元旦, 劳动节, 国庆节). Dates counted this way are *provisional*: the
   lunar holidays and the 调休 swaps of that year are not known yet.

Nothing here raises for an unknown year.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interop._errors import DataFileError
from interop.datafile import read_data_file

log = logging.getLogger(__name__)

#: China Standard Time (no daylight saving since 1991); deadlines end in this zone.
CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")

#: Statutory holidays fixed in the solar calendar (全国年节及纪念日放假办法, 2025 revision):
#: 元旦 1 Jan, 劳动节 1–2 May, 国庆节 1–3 Oct. Used only for years without data.
FIXED_HOLIDAYS: tuple[tuple[int, int], ...] = ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))


@dataclass(frozen=True, slots=True)
class YearArrangement:
    """One year's official arrangement: holidays and make-up working days (调休)."""

    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]  # weekend days that are working days (调休上班)
    source: str


def _parse_dates(file: str, entry: str, values: Any, year: int) -> frozenset[dt.date]:
    if not isinstance(values, list):
        raise DataFileError(file, entry, "must be a list of dates YYYY-MM-DD")
    out = set()
    for i, v in enumerate(values):
        try:
            d = dt.date.fromisoformat(v) if isinstance(v, str) else None
        except ValueError:
            d = None
        if d is None:
            raise DataFileError(file, f"{entry}[{i}]", "not a date YYYY-MM-DD")
        if d.year != year:
            raise DataFileError(file, f"{entry}[{i}]", f"date is not in the year {year}")
        out.add(d)
    return frozenset(out)


def load_year_file(path: Path) -> YearArrangement:
    """Read one operator calendar file; :class:`DataFileError` names file and entry.

    Format::

        {"year": 2027, "source": "国办发明电〔2026〕…号",
         "holidays": ["2027-01-01", …], "workdays": ["2027-02-06", …]}
    """
    name = str(path)
    data = read_data_file(path)[1]
    unknown = set(data) - {"year", "source", "holidays", "workdays", "note"}
    if unknown:
        raise DataFileError(name, sorted(unknown)[0], "unknown key")
    year = data.get("year")
    if not isinstance(year, int) or not 1949 < year < 2200:
        raise DataFileError(name, "year", "must be the calendar year as a number")
    if path.stem.isdigit() and int(path.stem) != year:
        raise DataFileError(name, "year", f"file name says {path.stem} but year is {year}")
    holidays = _parse_dates(name, "holidays", data.get("holidays"), year)
    workdays = _parse_dates(name, "workdays", data.get("workdays", []), year)
    both = holidays & workdays
    if both:
        raise DataFileError(name, "workdays", f"{min(both)} is also listed as a holiday")
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise DataFileError(name, "source", "name the official notice the dates come from")
    return YearArrangement(year, holidays, workdays, source)


def _package_year(year: int) -> YearArrangement | None:
    """The year's arrangement from ``chinese_calendar``, or None when it has no data."""
    # imported here: no import-time cost for commands that never count working days
    import chinese_calendar  # type: ignore[import-untyped,unused-ignore]

    # The package's own tables (its public ``holidays`` and ``workdays``), read directly:
    # its get_holidays/get_workdays check every date of the year against them one by one
    # (25 ms a year, paid by every sync). The same dates: a test holds them together.
    holidays: dict[dt.date, Any] = chinese_calendar.holidays
    workdays: dict[dt.date, Any] = chinese_calendar.workdays
    if not holidays or not min(holidays).year <= year <= max(holidays).year:
        return None
    return YearArrangement(
        year,
        frozenset(d for d in holidays if d.year == year),
        frozenset(d for d in workdays if d.year == year and d.weekday() >= 5),
        "chinese_calendar",
    )


@dataclass(slots=True)
class WorkCalendar:
    """The working-day calendar: known years plus the Monday–Friday fallback."""

    overrides: dict[int, YearArrangement] = field(default_factory=dict)
    use_package: bool = True
    _years: dict[int, YearArrangement | None] = field(default_factory=dict, repr=False)
    _added: dict[tuple[dt.date, int], tuple[dt.date, bool]] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def load(cls, folder: Path | None = None, *, use_package: bool = True) -> WorkCalendar:
        """Load operator files ``<year>.json`` from ``folder`` (default ``mappings/calendar``)."""
        if folder is None:
            from interop.resources import mappings_dir

            folder = mappings_dir() / "calendar"
        overrides: dict[int, YearArrangement] = {}
        if folder.is_dir():
            for path in sorted(folder.glob("*.json")):
                arr = load_year_file(path)
                overrides[arr.year] = arr
        return cls(overrides=overrides, use_package=use_package)

    def arrangement(self, year: int) -> YearArrangement | None:
        """The published arrangement of ``year``, or None when it is not known."""
        if year not in self._years:
            arr = self.overrides.get(year)
            if arr is None and self.use_package:
                arr = _package_year(year)
            if arr is None:
                log.warning(
                    "no published working-day arrangement for %d: counting Monday-Friday "
                    "minus fixed holidays; deadlines in %d are provisional",
                    year,
                    year,
                )
            self._years[year] = arr
        return self._years[year]

    def is_known(self, year: int) -> bool:
        return self.arrangement(year) is not None

    def is_workday(self, day: dt.date) -> bool:
        arr = self.arrangement(day.year)
        if arr is None:
            return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS
        if day in arr.workdays:
            return True
        if day in arr.holidays:
            return False
        return day.weekday() < 5

    def add_workdays(self, start: dt.date, days: int) -> tuple[dt.date, bool]:
        """The ``days``-th working day after ``start`` (start not counted, G-05).

        Returns ``(date, provisional)``; ``provisional`` is True when any day
        counted lies in a year without a published arrangement.
        """
        if days < 1:
            raise ValueError("days must be at least 1")
        cached = self._added.get((start, days))
        if cached is not None:
            return cached
        day, left, provisional = start, days, False
        while left:
            day += dt.timedelta(days=1)
            if not self.is_known(day.year):
                provisional = True
            if self.is_workday(day):
                left -= 1
        self._added[(start, days)] = (day, provisional)
        return day, provisional


def end_of_day(day: dt.date) -> dt.datetime:
    """23:59:59 Asia/Shanghai on ``day``: when a deadline on that day expires (§1.9.1)."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=CHINA_TZ)


def today() -> dt.date:
    """Today's date in China."""
    return dt.datetime.now(CHINA_TZ).date()
