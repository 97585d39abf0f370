"""Time, dates, Japanese eras (和暦) and fiscal years (年度).

All timestamps are stored as naive UTC; they are shown in Asia/Tokyo through
Flask-Babel.  ``utcnow`` and ``today`` are the only clocks the app reads, so
tests can move time by monkeypatching them.
"""
from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def today() -> dt.date:
    """Today's date in Japan (the body's working day)."""
    return utcnow().replace(tzinfo=dt.UTC).astimezone(JST).date()


def local_date(moment: dt.datetime | None) -> dt.date | None:
    """The day in Japan of a stored (UTC) moment."""
    return moment.replace(tzinfo=dt.UTC).astimezone(JST).date() if moment else None


# (start date, kanji name, English name).  Newest first.
ERAS: tuple[tuple[dt.date, str, str], ...] = (
    (dt.date(2019, 5, 1), "令和", "Reiwa"),
    (dt.date(1989, 1, 8), "平成", "Heisei"),
    (dt.date(1926, 12, 25), "昭和", "Showa"),
    (dt.date(1912, 7, 30), "大正", "Taisho"),
    (dt.date(1868, 10, 23), "明治", "Meiji"),
)


def era_of(day: dt.date) -> tuple[str, str, int]:
    """Return (kanji era, English era, year within the era) for a date."""
    for start, kanji, roman in ERAS:
        if day >= start:
            return kanji, roman, day.year - start.year + 1
    raise ValueError(f"{day} is before the Meiji era")


def wareki(day: dt.date) -> str:
    """2026-11-26 → 令和8年11月26日 (the first year of an era is 元年)."""
    kanji, _, year = era_of(day)
    year_text = "元" if year == 1 else str(year)
    return f"{kanji}{year_text}年{day.month}月{day.day}日"


def fiscal_year(day: dt.date) -> int:
    """The 年度 a date falls in: April to March, named by its starting year."""
    return day.year if day.month >= 4 else day.year - 1


def fiscal_year_range(year: int) -> tuple[dt.date, dt.date]:
    """First and last day of 年度 ``year`` (1 April year – 31 March year+1)."""
    return dt.date(year, 4, 1), dt.date(year + 1, 3, 31)


def fiscal_year_label(year: int, locale: str = "ja") -> str:
    """2026 → 令和8年度 (ja) or FY2026 (en)."""
    if locale.startswith("en"):
        return f"FY{year}"
    # Named after the era in force on 1 April — except that an era which
    # begins later in that same calendar year names the year as its first
    # (FY2019 is 令和元年度, as bodies renamed it; FY1988 stays 昭和63年度).
    first_day, last_day = fiscal_year_range(year)
    for start, kanji, _ in ERAS:
        if first_day < start <= last_day and start.year == year:
            return f"{kanji}元年度"
    kanji, _, era_year = era_of(first_day)
    return f"{kanji}{'元' if era_year == 1 else era_year}年度"


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day-of-month n months later, clipped to the month's end."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
