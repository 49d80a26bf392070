"""Dates, times, numbers and counted nouns as Dutch users write them, through Babel (CLDR's
Dutch): 'dinsdag 26 mei 2026', '12 nov', '23.40 uur', '1 inzet' and '3 inzetten', never
'inzet(ten)'. Pages reach these as template filters (registry/app.py), texts and e-mails
directly."""

from __future__ import annotations

from datetime import date, datetime

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal

LOCALE = Locale.parse("nl_NL")


def long_date(day: date) -> str:
    """'dinsdag 26 mei 2026'"""
    return format_date(day, "EEEE d MMMM y", locale=LOCALE)


def day_month(day: date) -> str:
    """'12 nov', '3 mei'"""
    return format_date(day, "d MMM", locale=LOCALE)


def month_year(day: date) -> str:
    """'nov 2026'"""
    return format_date(day, "MMM y", locale=LOCALE)


def weekday(index: int) -> str:
    """'maandag' for 0 ... 'zondag' for 6 (date.weekday())"""
    return str(LOCALE.days["format"]["wide"][index])


def clock(moment: datetime) -> str:
    """'23.40 uur', the local time of an aware moment as it is already in local time."""
    return format_time(moment, "HH.mm 'uur'", locale=LOCALE)


def number(value: float, decimals: int = 0) -> str:
    """'1.234', '0,55', '301.727': a number as Dutch writes it, a whole number without decimals,
    any other with `decimals` of them."""
    if decimals == 0 or float(value).is_integer():
        return format_decimal(round(value), format="#,##0", locale=LOCALE)
    return format_decimal(value, format="#,##0." + "0" * decimals, locale=LOCALE)


def minutes(value: int) -> str:
    """'1 minuut', '15 minuten'"""
    return count(value, "minuut", "minuten")


def count(value: int, one: str, other: str) -> str:
    """'1 inzet', '3 inzetten', '0 inzetten': the number and the noun in the form Dutch gives it
    for that number (CLDR's plural rule for Dutch)."""
    return f"{number(value)} {one if LOCALE.plural_form(value) == 'one' else other}"
