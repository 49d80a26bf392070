"""The period of the monitoring tables: ?from=&to= (inclusive dates), by default the last 6 months."""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from registry.statistics.operations import Period
from registry.timeutil import local_today

MAX_DAYS = 3 * 366


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
    start = (end.replace(day=1) - relativedelta(months=5)) if not fields else today
    if raw_from:
        try:
            start = date.fromisoformat(raw_from)
        except ValueError:
            fields["from"] = ["Gebruik een datum als JJJJ-MM-DD."]
    if not fields:
        if start > end:
            fields["from"] = ["De begindatum ligt na de einddatum."]
        elif end - start > timedelta(days=MAX_DAYS):
            fields["to"] = ["Kies een periode van hoogstens drie jaar."]
    if fields:
        raise PeriodError(fields)
    return Period(start, end)
