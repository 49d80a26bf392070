"""Clock and calendar helpers: aware UTC datetimes, and dates in the configured time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_today(timezone: str = "Europe/Amsterdam") -> date:
    return datetime.now(ZoneInfo(timezone)).date()


def nl_date(day: date) -> str:
    """'dinsdag 26 mei 2026', as the users write dates."""
    from registry.core.vocabulary import MONTHS, WEEKDAYS

    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"
