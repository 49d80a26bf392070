"""Dates, numbers and plurals as Dutch users write them (registry/core/dutch.py, through Babel),
and no page or message that writes a plural by hand ('inzet(ten)', 'item(s)') or in slang."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from registry.core import dutch
from registry.core.config import PROJECT_ROOT


def test_dates_and_times_as_the_users_write_them() -> None:
    assert dutch.long_date(date(2026, 5, 26)) == "dinsdag 26 mei 2026"
    assert dutch.day_month(date(2026, 11, 12)) == "12 nov"
    assert dutch.month_year(date(2026, 3, 1)) == "mrt 2026"
    assert dutch.clock(datetime(2026, 3, 13, 23, 40, tzinfo=UTC)) == "23.40 uur"
    assert [dutch.weekday(day) for day in (0, 6)] == ["maandag", "zondag"]


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0 inzetten"), (1, "1 inzet"), (2, "2 inzetten"), (1234, "1.234 inzetten")],
)
def test_a_count_takes_the_form_dutch_gives_it(value: int, text: str) -> None:
    assert dutch.count(value, "inzet", "inzetten") == text


def test_numbers_with_dutch_separators() -> None:
    assert dutch.number(301727) == "301.727"
    assert dutch.number(0.55, 2) == "0,55"
    assert dutch.number(12.0, 2) == "12"


def test_no_page_or_message_writes_a_plural_by_hand_or_in_slang() -> None:
    """'veld(en)', 'item(s)', 'inzet(ten)' in what a user reads, and the words the issue found.
    Pages entirely; in Python the Dutch forms (the command line and the logs speak English to
    administrators, where 'message(s)' may stay)."""
    on_pages = re.compile(r"\w\((?:s|en|ten|n)\)|Exacte match|erop-affer", re.IGNORECASE)
    in_code = re.compile(
        r"\w\((?:en|ten)\)|item\(s\)|handelingskader\(s\)|Exacte match|erop-affer", re.IGNORECASE
    )
    found = [
        f"{path.relative_to(PROJECT_ROOT)}: {match.group(0)}"
        for path in (PROJECT_ROOT / "templates").rglob("*.html")
        for match in on_pages.finditer(path.read_text(encoding="utf-8"))
    ]
    for path in [*(PROJECT_ROOT / "registry").rglob("*.py"), *(PROJECT_ROOT / "lookup").rglob("*.py")]:
        if path == PROJECT_ROOT / "registry" / "core" / "dutch.py":
            continue  # names what it replaces
        lines = [
            line
            for line in path.read_text(encoding="utf-8").splitlines()
            if not line.lstrip().startswith("#")
        ]
        found += [
            f"{path.relative_to(PROJECT_ROOT)}: {match.group(0)}"
            for match in in_code.finditer("\n".join(lines))
        ]
    assert found == []
