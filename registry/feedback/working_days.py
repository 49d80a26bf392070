"""Working days and the feedback due date: pure functions, no database, no clock.

A working day is Monday to Friday, except Dutch public holidays (the `holidays` package)
and the extra closed days an administrator configured. Feedback on something that happened
is due on the first working day after the calendar date on which it happened, in the
configured time zone (Europe/Amsterdam): 23.40 on Friday and 00.10 on Saturday are both
due on Monday, although 00.10 Saturday local time is still Friday in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

AMSTERDAM = "Europe/Amsterdam"


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("NL", years=year))


def public_holiday_name(day: date) -> str | None:
    return holidays.country_holidays("NL", years=day.year).get(day)


def is_working_day(day: date, closed: Iterable[date] = ()) -> bool:
    return day.weekday() < 5 and day not in _public_holidays(day.year) and day not in set(closed)


def next_working_day(day: date, closed: Iterable[date] = ()) -> date:
    """The first working day strictly after `day`."""
    closed_days = frozenset(closed)
    candidate = day + timedelta(days=1)
    while not is_working_day(candidate, closed_days):
        candidate += timedelta(days=1)
    return candidate


def working_days_before(day: date, count: int, closed: Iterable[date] = ()) -> date:
    """The working day `count` working days before `day` (which itself need not be one): two
    working days before Monday is Thursday."""
    closed_days = frozenset(closed)
    candidate = day
    for _ in range(count):
        candidate -= timedelta(days=1)
        while not is_working_day(candidate, closed_days):
            candidate -= timedelta(days=1)
    return candidate


def local_date(moment: datetime, timezone: str = AMSTERDAM) -> date:
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is needed: the day depends on the time zone")
    return moment.astimezone(ZoneInfo(timezone)).date()


def feedback_due(occurred_at: datetime, closed: Iterable[date] = (), timezone: str = AMSTERDAM) -> date:
    """The first working day after the local calendar date of `occurred_at`."""
    return next_working_day(local_date(occurred_at, timezone), closed)


def end_of_day(day: date, timezone: str = AMSTERDAM) -> datetime:
    """The first moment after `day` in the time zone (DST-safe: midnight of the next day)."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=ZoneInfo(timezone))


def is_overdue(due: date, now: datetime, timezone: str = AMSTERDAM) -> bool:
    """Not acknowledged by the end of its due day."""
    return now >= end_of_day(due, timezone)


def working_hours_between(
    start: datetime,
    end: datetime,
    closed: Iterable[date] = (),
    timezone: str = AMSTERDAM,
    day_start: time = time(9),
    day_end: time = time(17),
) -> float:
    """Hours between two moments counted only on working days between day_start and day_end
    (for the statistics: how long feedback took in working time)."""
    if end <= start:
        return 0.0
    zone = ZoneInfo(timezone)
    closed_days = frozenset(closed)
    total = 0.0
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    while day <= last:
        if is_working_day(day, closed_days):
            opens = datetime.combine(day, day_start, tzinfo=zone)
            closes = datetime.combine(day, day_end, tzinfo=zone)
            span_start, span_end = max(opens, start), min(closes, end)
            if span_end > span_start:
                total += (span_end - span_start).total_seconds() / 3600
        day += timedelta(days=1)
    return total
