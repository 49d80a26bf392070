"""The feedback due date: the first working day after the Amsterdam calendar date of an incident.

Expectations are written out by hand or derived independently (Easter from dateutil, the Dutch
rules for King's Day and Liberation Day), never read back from the module under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest
from dateutil.easter import easter
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.feedback.working_days import (
    end_of_day,
    feedback_due,
    is_overdue,
    is_working_day,
    next_working_day,
    public_holiday_name,
    working_hours_between,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
YEARS = (2025, 2026, 2027)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, fold: int = 0
) -> datetime:
    """A wall-clock time in Amsterdam; `fold=1` is the second 02.30 of the October night."""
    return datetime(year, month, day, hour, minute, second, tzinfo=AMSTERDAM, fold=fold)


def dutch_public_holidays(year: int) -> dict[date, str]:
    """The Dutch public holidays as the rules state them, computed without the holidays package."""
    easter_sunday = easter(year)
    kings_day = date(year, 4, 27)
    if kings_day.weekday() == 6:  # on a Sunday King's Day moves to the Saturday before
        kings_day = date(year, 4, 26)
    days = {
        date(year, 1, 1): "New Year's Day",
        easter_sunday - timedelta(days=2): "Good Friday",
        easter_sunday: "Easter Sunday",
        easter_sunday + timedelta(days=1): "Easter Monday",
        kings_day: "King's Day",
        easter_sunday + timedelta(days=39): "Ascension Day",
        easter_sunday + timedelta(days=49): "Pentecost",
        easter_sunday + timedelta(days=50): "Pentecost Monday",
        date(year, 12, 25): "Christmas Day",
        date(year, 12, 26): "Second Day of Christmas",
    }
    if year % 5 == 0:  # Liberation Day is a day off in lustrum years
        days[date(year, 5, 5)] = "Liberation Day"
    return days


# --- the holidays package lists what we expect --------------------------------------------------


@pytest.mark.parametrize("year", YEARS)
def test_the_package_lists_exactly_the_dutch_public_holidays(year: int) -> None:
    listed = holidays.country_holidays("NL", years=year)
    assert set(listed) == set(dutch_public_holidays(year))


@pytest.mark.parametrize(
    "day",
    [day for year in YEARS for day in dutch_public_holidays(year)],
    ids=lambda day: day.isoformat(),
)
def test_no_public_holiday_is_a_working_day(day: date) -> None:
    assert not is_working_day(day)
    assert public_holiday_name(day) is not None


def test_kings_day_moves_to_saturday_26_april_when_27_april_is_a_sunday() -> None:
    assert date(2025, 4, 27).weekday() == 6
    assert public_holiday_name(date(2025, 4, 26)) == "King's Day"
    assert public_holiday_name(date(2025, 4, 27)) is None
    # in 2026 and 2027 it is on the 27th, a Monday and a Tuesday: no working day
    assert not is_working_day(date(2026, 4, 27))
    assert not is_working_day(date(2027, 4, 27))
    assert is_working_day(date(2027, 4, 26))


def test_liberation_day_is_a_day_off_in_2025_only() -> None:
    assert not is_working_day(date(2025, 5, 5))  # a Monday in a lustrum year
    assert is_working_day(date(2026, 5, 5))  # a Tuesday
    assert is_working_day(date(2027, 5, 5))  # a Wednesday


# --- due dates ----------------------------------------------------------------------------------

WEEK = [
    # (what happened on, due): Monday 2 March 2026 .. Sunday 8 March 2026
    (date(2026, 3, 2), date(2026, 3, 3)),
    (date(2026, 3, 3), date(2026, 3, 4)),
    (date(2026, 3, 4), date(2026, 3, 5)),
    (date(2026, 3, 5), date(2026, 3, 6)),
    (date(2026, 3, 6), date(2026, 3, 9)),  # Friday -> Monday
    (date(2026, 3, 7), date(2026, 3, 9)),  # Saturday -> Monday
    (date(2026, 3, 8), date(2026, 3, 9)),  # Sunday -> Monday
]


@pytest.mark.parametrize(("happened_on", "due"), WEEK, ids=lambda d: d.strftime("%a"))
def test_due_the_next_working_day_and_weekends_roll_to_monday(happened_on: date, due: date) -> None:
    assert next_working_day(happened_on) == due
    assert feedback_due(local(happened_on.year, happened_on.month, happened_on.day, 14, 0)) == due


AROUND_HOLIDAYS = [
    # 2025
    (date(2024, 12, 31), date(2025, 1, 2), "New Year's Day (Wed)"),
    (date(2025, 4, 17), date(2025, 4, 22), "Good Friday, the weekend and Easter Monday"),
    (date(2025, 4, 25), date(2025, 4, 28), "King's Day on Saturday 26 April: Monday stays"),
    (date(2025, 5, 2), date(2025, 5, 6), "Liberation Day (Mon 5 May, lustrum year)"),
    (date(2025, 5, 4), date(2025, 5, 6), "Sunday before Liberation Day"),
    (date(2025, 5, 28), date(2025, 5, 30), "Ascension Day (Thu)"),
    (date(2025, 6, 6), date(2025, 6, 10), "Pentecost and Pentecost Monday"),
    (date(2025, 12, 24), date(2025, 12, 29), "Christmas (Thu, Fri) and the weekend"),
    # 2026
    (date(2025, 12, 31), date(2026, 1, 2), "New Year's Day (Thu)"),
    (date(2026, 4, 2), date(2026, 4, 7), "Good Friday, the weekend and Easter Monday"),
    (date(2026, 4, 26), date(2026, 4, 28), "King's Day (Mon 27 April)"),
    (date(2026, 4, 24), date(2026, 4, 28), "Friday before King's Day"),
    (date(2026, 5, 4), date(2026, 5, 5), "Liberation Day 2026 is a working day"),
    (date(2026, 5, 13), date(2026, 5, 15), "Ascension Day (Thu)"),
    (date(2026, 5, 22), date(2026, 5, 26), "Pentecost and Pentecost Monday"),
    (date(2026, 12, 24), date(2026, 12, 28), "Christmas (Fri, Sat) and Sunday"),
    (date(2026, 12, 25), date(2026, 12, 28), "on Christmas Day itself"),
    # 2027
    (date(2026, 12, 31), date(2027, 1, 4), "New Year's Day (Fri) and the weekend"),
    (date(2027, 3, 25), date(2027, 3, 30), "Good Friday, the weekend and Easter Monday"),
    (date(2027, 3, 28), date(2027, 3, 30), "on Easter Sunday"),
    (date(2027, 4, 26), date(2027, 4, 28), "King's Day (Tue 27 April)"),
    (date(2027, 5, 5), date(2027, 5, 7), "Ascension Day (Thu 6 May)"),
    (date(2027, 5, 14), date(2027, 5, 18), "Pentecost and Pentecost Monday"),
    (date(2027, 12, 24), date(2027, 12, 27), "Christmas on the weekend: no day off moved"),
]


@pytest.mark.parametrize(
    ("happened_on", "due", "why"), AROUND_HOLIDAYS, ids=[case[2] for case in AROUND_HOLIDAYS]
)
def test_public_holidays_are_skipped(happened_on: date, due: date, why: str) -> None:
    evening = local(happened_on.year, happened_on.month, happened_on.day, 21, 15)
    assert feedback_due(evening) == due, why


def _independent_next_working_day(day: date) -> date:
    days_off = {d for year in (day.year, day.year + 1) for d in dutch_public_holidays(year)}
    candidate = day + timedelta(days=1)
    while candidate.weekday() >= 5 or candidate in days_off:
        candidate += timedelta(days=1)
    return candidate


def test_every_day_of_2025_to_2027_agrees_with_the_rules() -> None:
    day = date(2024, 12, 31)
    while day <= date(2027, 12, 31):
        assert next_working_day(day) == _independent_next_working_day(day), day
        day += timedelta(days=1)


# --- the day boundary is Amsterdam's, not UTC's -------------------------------------------------

BOUNDARY = [
    # winter (CET, UTC+1)
    (utc(2026, 1, 9, 23, 30), date(2026, 1, 12), "Fri 23:30 UTC is Sat 00:30 in Amsterdam"),
    (utc(2026, 1, 9, 22, 30), date(2026, 1, 12), "Fri 22:30 UTC is Fri 23:30: Monday too"),
    (utc(2026, 1, 8, 22, 59, 59), date(2026, 1, 9), "Thu 23:59:59 in Amsterdam: Friday"),
    (utc(2026, 1, 8, 23, 0), date(2026, 1, 12), "Thu 23:00 UTC is Fri 00:00: Monday"),
    (utc(2026, 1, 11, 22, 59), date(2026, 1, 12), "Sun 23:59 in Amsterdam: Monday"),
    (utc(2026, 1, 11, 23, 0), date(2026, 1, 13), "Sun 23:00 UTC is Mon 00:00: Tuesday"),
    # summer (CEST, UTC+2)
    (utc(2026, 7, 9, 22, 30), date(2026, 7, 13), "Thu 22:30 UTC is Fri 00:30 in Amsterdam: Monday"),
    (utc(2026, 7, 9, 21, 30), date(2026, 7, 10), "Thu 21:30 UTC is Thu 23:30: Friday"),
    (utc(2026, 7, 9, 21, 59, 59), date(2026, 7, 10), "last second of Thursday in Amsterdam"),
    (utc(2026, 7, 9, 22, 0), date(2026, 7, 13), "first moment of Friday in Amsterdam"),
]


@pytest.mark.parametrize(("occurred_at", "due", "why"), BOUNDARY, ids=[case[2] for case in BOUNDARY])
def test_the_calendar_date_is_taken_in_amsterdam(occurred_at: datetime, due: date, why: str) -> None:
    assert feedback_due(occurred_at) == due, why


def test_another_configured_time_zone_moves_the_boundary() -> None:
    # 23:30 UTC on a Thursday: already Friday in Amsterdam, still Thursday in London
    moment = utc(2026, 1, 8, 23, 30)
    assert feedback_due(moment) == date(2026, 1, 12)
    assert feedback_due(moment, timezone="Europe/London") == date(2026, 1, 9)


# --- summer time starts (last Sunday of March) and ends (last Sunday of October) ----------------

DST = [
    # 29/30 March 2025: at 02:00 CET the clock jumps to 03:00 CEST (01:00 UTC)
    (utc(2025, 3, 29, 22, 59), date(2025, 3, 31), "Sat 23:59 CET"),
    (utc(2025, 3, 29, 23, 0), date(2025, 3, 31), "Sun 00:00 CET"),
    (utc(2025, 3, 30, 0, 59, 59), date(2025, 3, 31), "Sun 01:59:59 CET, just before the jump"),
    (utc(2025, 3, 30, 1, 0), date(2025, 3, 31), "Sun 03:00 CEST, just after the jump"),
    (utc(2025, 3, 30, 21, 59, 59), date(2025, 3, 31), "Sun 23:59:59 CEST"),
    (utc(2025, 3, 30, 22, 0), date(2025, 4, 1), "Mon 00:00 CEST: 22:00 UTC, no longer 23:00"),
    (utc(2025, 3, 30, 22, 30), date(2025, 4, 1), "Mon 00:30 CEST, still Sunday in UTC"),
    # 25/26 October 2025: at 03:00 CEST the clock goes back to 02:00 CET (01:00 UTC)
    (utc(2025, 10, 25, 21, 59), date(2025, 10, 27), "Sat 23:59 CEST"),
    (utc(2025, 10, 25, 22, 0), date(2025, 10, 27), "Sun 00:00 CEST"),
    (utc(2025, 10, 26, 0, 30), date(2025, 10, 27), "Sun 02:30 CEST, the first time"),
    (utc(2025, 10, 26, 1, 30), date(2025, 10, 27), "Sun 02:30 CET, the second time"),
    (utc(2025, 10, 26, 22, 59, 59), date(2025, 10, 27), "Sun 23:59:59 CET"),
    (utc(2025, 10, 26, 23, 0), date(2025, 10, 28), "Mon 00:00 CET: 23:00 UTC, no longer 22:00"),
]


@pytest.mark.parametrize(("occurred_at", "due", "why"), DST, ids=[case[2] for case in DST])
def test_daylight_saving_changes(occurred_at: datetime, due: date, why: str) -> None:
    assert feedback_due(occurred_at) == due, why


def test_both_readings_of_an_ambiguous_local_time_fall_on_the_same_day() -> None:
    first = local(2025, 10, 26, 2, 30, fold=0)
    second = local(2025, 10, 26, 2, 30, fold=1)
    assert first.astimezone(UTC) == utc(2025, 10, 26, 0, 30)
    assert second.astimezone(UTC) == utc(2025, 10, 26, 1, 30)
    assert feedback_due(first) == feedback_due(second) == date(2025, 10, 27)


def test_a_local_time_the_clock_skipped_still_belongs_to_that_sunday() -> None:
    assert feedback_due(local(2025, 3, 30, 2, 30)) == date(2025, 3, 31)


# --- the same instant, written with different offsets -------------------------------------------

SAME_INSTANT_OFFSETS = [
    timedelta(0),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=-5),
    timedelta(hours=5, minutes=30),
    timedelta(hours=-9, minutes=-30),
    timedelta(hours=14),
    timedelta(hours=-12),
]


@pytest.mark.parametrize(
    "instant",
    [utc(2026, 1, 9, 23, 30), utc(2026, 7, 9, 22, 30), utc(2025, 3, 30, 22, 0), utc(2025, 10, 26, 23, 0)],
    ids=lambda moment: moment.isoformat(),
)
def test_the_offset_it_is_written_in_does_not_matter(instant: datetime) -> None:
    written = [instant.astimezone(timezone(offset)) for offset in SAME_INSTANT_OFFSETS]
    written.append(instant.astimezone(AMSTERDAM))
    written.append(datetime.fromisoformat(instant.strftime("%Y-%m-%dT%H:%M:%SZ")))
    assert {feedback_due(moment) for moment in written} == {feedback_due(instant)}


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        feedback_due(datetime(2026, 1, 9, 23, 30))


# --- closed days an administrator configured ----------------------------------------------------


def test_a_closed_day_is_skipped_like_a_holiday() -> None:
    friday_night = local(2026, 3, 6, 23, 0)
    assert feedback_due(friday_night) == date(2026, 3, 9)
    assert feedback_due(friday_night, closed=[date(2026, 3, 9)]) == date(2026, 3, 10)
    assert feedback_due(friday_night, closed={date(2026, 3, 9), date(2026, 3, 10)}) == date(2026, 3, 11)


def test_closed_days_next_to_holidays_and_weekends_add_up() -> None:
    # the Friday after Ascension Day 2026 (a "brugdag") closed: Wednesday -> Monday
    assert feedback_due(local(2026, 5, 13, 10, 0), closed=[date(2026, 5, 15)]) == date(2026, 5, 18)
    # a closed day that is a holiday or a Saturday anyway changes nothing
    assert feedback_due(local(2026, 5, 13, 10, 0), closed=[date(2026, 5, 14)]) == date(2026, 5, 15)
    assert feedback_due(local(2026, 3, 6, 10, 0), closed=[date(2026, 3, 7)]) == date(2026, 3, 9)


def test_closed_days_may_be_any_iterable_even_a_generator() -> None:
    closed = (day for day in [date(2026, 3, 9), date(2026, 3, 10)])
    assert feedback_due(local(2026, 3, 6, 10, 0), closed=closed) == date(2026, 3, 11)


def test_a_closed_day_before_or_on_the_incident_does_not_matter() -> None:
    assert feedback_due(local(2026, 3, 4, 10, 0), closed=[date(2026, 3, 3), date(2026, 3, 4)]) == date(
        2026, 3, 5
    )


# --- overdue: not acknowledged by the end of the due day ----------------------------------------


@pytest.mark.parametrize(
    ("due", "midnight"),
    [
        (date(2026, 1, 12), utc(2026, 1, 12, 23, 0)),  # winter: midnight is 23:00 UTC
        (date(2026, 7, 13), utc(2026, 7, 13, 22, 0)),  # summer: midnight is 22:00 UTC
        (date(2025, 3, 30), utc(2025, 3, 30, 22, 0)),  # the 23-hour day: ends in CEST
        (date(2025, 10, 26), utc(2025, 10, 26, 23, 0)),  # the 25-hour day: ends in CET
        (date(2025, 3, 29), utc(2025, 3, 29, 23, 0)),  # the day before summer time: still CET
        (date(2025, 10, 25), utc(2025, 10, 25, 22, 0)),  # the day before winter time: still CEST
    ],
    ids=lambda value: value.isoformat(),
)
def test_overdue_from_amsterdam_midnight_at_the_end_of_the_due_day(due: date, midnight: datetime) -> None:
    assert end_of_day(due) == midnight
    assert not is_overdue(due, midnight - timedelta(microseconds=1))
    assert is_overdue(due, midnight)
    assert is_overdue(due, midnight + timedelta(seconds=1))
    # the same instants written in Amsterdam time
    assert not is_overdue(due, (midnight - timedelta(microseconds=1)).astimezone(AMSTERDAM))
    assert is_overdue(due, midnight.astimezone(AMSTERDAM))


def test_a_due_day_lasts_23_hours_in_march_and_25_in_october() -> None:
    def length(day: date) -> timedelta:
        # in UTC: Python subtracts two times of the same zone by their wall clocks
        return end_of_day(day).astimezone(UTC) - end_of_day(day - timedelta(days=1)).astimezone(UTC)

    assert length(date(2025, 3, 30)) == timedelta(hours=23)
    assert length(date(2025, 10, 26)) == timedelta(hours=25)
    assert length(date(2025, 10, 27)) == timedelta(hours=24)


def test_during_the_due_day_it_is_not_overdue_yet() -> None:
    due = date(2026, 1, 12)
    assert not is_overdue(due, local(2026, 1, 12, 0, 0))
    assert not is_overdue(due, local(2026, 1, 12, 23, 59, 59))
    assert not is_overdue(due, local(2026, 1, 9, 23, 30))
    assert is_overdue(due, local(2026, 1, 13, 0, 0))


# --- working hours (for the statistics: how long feedback took) ---------------------------------


def test_working_hours_of_one_working_day() -> None:
    assert working_hours_between(local(2026, 3, 2, 9, 0), local(2026, 3, 2, 17, 0)) == 8
    assert working_hours_between(local(2026, 3, 2, 7, 0), local(2026, 3, 2, 20, 0)) == 8
    assert working_hours_between(local(2026, 3, 2, 10, 30), local(2026, 3, 2, 12, 0)) == 1.5


def test_working_hours_skip_nights_weekends_holidays_and_closed_days() -> None:
    # Friday 16:00 -> Monday 10:00: one hour on Friday, one on Monday
    assert working_hours_between(local(2026, 3, 6, 16, 0), local(2026, 3, 9, 10, 0)) == 2
    # Thursday 2 April 2026 16:00 -> Tuesday 7 April 10:00, over Easter
    assert working_hours_between(local(2026, 4, 2, 16, 0), local(2026, 4, 7, 10, 0)) == 2
    # the Monday closed too
    assert (
        working_hours_between(local(2026, 3, 6, 16, 0), local(2026, 3, 10, 10, 0), closed=[date(2026, 3, 9)])
        == 2
    )


def test_working_hours_over_a_summer_time_weekend_and_from_utc() -> None:
    assert working_hours_between(local(2025, 3, 28, 16, 0), local(2025, 3, 31, 10, 0)) == 2
    # 15:00 UTC on Friday 28 March 2025 is 16:00 in Amsterdam; 08:00 UTC on Monday is 10:00 CEST
    assert working_hours_between(utc(2025, 3, 28, 15, 0), utc(2025, 3, 31, 8, 0)) == 2


def test_no_working_hours_when_the_end_is_not_after_the_start() -> None:
    moment = local(2026, 3, 2, 12, 0)
    assert working_hours_between(moment, moment) == 0
    assert working_hours_between(moment, moment - timedelta(hours=2)) == 0
    assert working_hours_between(local(2026, 3, 7, 9, 0), local(2026, 3, 8, 17, 0)) == 0  # a weekend


# --- properties over many moments ---------------------------------------------------------------

ZONES = st.sampled_from(
    [
        UTC,
        AMSTERDAM,
        ZoneInfo("America/New_York"),
        ZoneInfo("Asia/Kolkata"),
        ZoneInfo("Pacific/Kiritimati"),
        timezone(timedelta(hours=-11)),
        timezone(timedelta(hours=1)),
    ]
)
# no deadline: the first date in a year builds that year's holiday list, and CI machines are busy
PROPERTIES = settings(deadline=None)
MOMENTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2060, 12, 31), timezones=ZONES)


@PROPERTIES
@given(MOMENTS)
def test_due_is_a_working_day_after_the_local_date_and_within_ten_days(occurred_at: datetime) -> None:
    happened_on = occurred_at.astimezone(AMSTERDAM).date()
    due = feedback_due(occurred_at)
    assert due.weekday() < 5
    assert due not in holidays.country_holidays("NL", years=due.year)
    assert is_working_day(due)
    assert happened_on < due <= happened_on + timedelta(days=10)
    # every day in between is a day off
    between = [happened_on + timedelta(days=n) for n in range(1, (due - happened_on).days)]
    assert not any(is_working_day(day) for day in between)


@PROPERTIES
@given(MOMENTS)
def test_the_same_instant_in_utc_has_the_same_due_date(occurred_at: datetime) -> None:
    assert feedback_due(occurred_at) == feedback_due(occurred_at.astimezone(UTC))


@PROPERTIES
@given(MOMENTS, st.sets(st.dates(min_value=date(2000, 1, 1), max_value=date(2061, 1, 31)), max_size=8))
def test_due_is_never_a_closed_day(occurred_at: datetime, closed: set[date]) -> None:
    due = feedback_due(occurred_at, closed=closed)
    assert due not in closed
    assert is_working_day(due)
    assert due >= feedback_due(occurred_at)


@PROPERTIES
@given(MOMENTS)
def test_overdue_exactly_from_the_end_of_the_due_day(occurred_at: datetime) -> None:
    due = feedback_due(occurred_at)
    end = end_of_day(due)
    assert end.astimezone(AMSTERDAM).time() == time(0, 0)
    assert end.astimezone(AMSTERDAM).date() == due + timedelta(days=1)
    assert not is_overdue(due, occurred_at)
    assert not is_overdue(due, end - timedelta(microseconds=1))
    assert is_overdue(due, end)
