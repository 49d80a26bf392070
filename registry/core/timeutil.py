"""Clock and calendar helpers: aware UTC datetimes, and dates in the configured time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_today(timezone: str = "Europe/Amsterdam") -> date:
    return datetime.now(ZoneInfo(timezone)).date()
