"""The period of the monitoring tables: ?from=&to= (inclusive dates), by default the last 6 months."""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from registry.core.timeutil import local_today
from registry.statistics.operations import Period

MAX_DAYS = 3 * 366
# wide enough for anything the registry holds; outside it the default start (end minus five
# months) and the day bounds in the time zone left the calendar: ?to=0001-01-07 answered 500
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
_OUT_OF_RANGE = f"Kies een datum van {EARLIEST.isoformat()} tot en met {LATEST.isoformat()}."


class PeriodError(ValueError):
    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__(fields)
        self.fields = fields


def parse_period(raw_from: str | None, raw_to: str | None, timezone: str) -> Period:
    fields: dict[str, list[str]] = {}
    today = local_today(timezone)
    end = today
    if raw_to:
        try:
            end = date.fromisoformat(raw_to)
        except ValueError:
            fields["to"] = ["Gebruik een datum als JJJJ-MM-DD."]
        else:
            if not EARLIEST <= end <= LATEST:
                fields["to"] = [_OUT_OF_RANGE]
    start = (end.replace(day=1) - relativedelta(months=5)) if not fields else today
    if raw_from:
        try:
            start = date.fromisoformat(raw_from)
        except ValueError:
            fields["from"] = ["Gebruik een datum als JJJJ-MM-DD."]
        else:
            if not EARLIEST <= start <= LATEST:
                fields["from"] = [_OUT_OF_RANGE]
    if not fields:
        if start > end:
            fields["from"] = ["De begindatum ligt na de einddatum."]
        elif end - start > timedelta(days=MAX_DAYS):
            fields["to"] = ["Kies een periode van hoogstens drie jaar."]
    if fields:
        raise PeriodError(fields)
    return Period(start, end)
