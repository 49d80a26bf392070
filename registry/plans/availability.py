"""When a contact can be reached: weekly windows, the presets the practice uses, and the
questions asked of them (reachable now? when next? all night?). Pure functions.

A window is {"days": [1..7], "from": "HH:MM", "to": "HH:MM"}: ISO weekdays (1 = Monday) on
which it starts, and the local times it runs; `to` may be "24:00", and a window whose `to`
is not after its `from` runs past midnight into the next day ("17:00"–"09:00").
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

DAY = 24 * 60
WEEK = 7 * DAY
TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])|24:00")
DAY_NAMES = ("ma", "di", "wo", "do", "vr", "za", "zo")
ALL_DAYS = [1, 2, 3, 4, 5, 6, 7]
WORKDAYS = [1, 2, 3, 4, 5]
WEEKEND = [6, 7]

#: the presets of the form, code -> (Dutch label, windows)
PRESETS: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "always": ("24/7 (dag en nacht)", [{"days": ALL_DAYS, "from": "00:00", "to": "24:00"}]),
    "office_hours": ("Werkdagen 09.00–17.00", [{"days": WORKDAYS, "from": "09:00", "to": "17:00"}]),
    "out_of_hours": (
        "17.00–09.00 en weekend",
        [
            {"days": ALL_DAYS, "from": "17:00", "to": "09:00"},
            {"days": WEEKEND, "from": "09:00", "to": "17:00"},
        ],
    ),
}
#: the night the "one is none" check asks about (docs/words.md: Nacht 22.00–09.00 uur)
NIGHT = (22 * 60, 9 * 60)


def minutes(text: str) -> int:
    hours, _, mins = text.partition(":")
    return int(hours) * 60 + int(mins)


def _spans(windows: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Each window on each of its days as [start, end) in minutes of the week (end may pass
    the week's end: Sunday night into Monday)."""
    spans = []
    for window in windows:
        start, end = minutes(str(window["from"])), minutes(str(window["to"]))
        length = end - start if end > start else end + DAY - start
        for day in window["days"]:
            begin = (int(day) - 1) * DAY + start
            spans.append((begin, begin + length))
    return spans


def _week_minute(moment: datetime) -> int:
    return (moment.isoweekday() - 1) * DAY + moment.hour * 60 + moment.minute


def reachable_at(windows: list[dict[str, Any]], moment: datetime) -> bool:
    """Whether a window covers the local `moment`."""
    now = _week_minute(moment)
    return any(begin <= at < end for begin, end in _spans(windows) for at in (now, now + WEEK))


def next_reachable(windows: list[dict[str, Any]], moment: datetime) -> datetime | None:
    """The next local moment from which a window covers, None without windows."""
    now = _week_minute(moment)
    waits = [(begin - now) % WEEK for begin, _end in _spans(windows)]
    if not waits:
        return None
    start = moment.replace(second=0, microsecond=0)
    return start + timedelta(minutes=min(waits))


def reachable_all_night(windows: list[dict[str, Any]]) -> bool:
    """Whether the windows cover every night of the week, 22.00 to 09.00, without a gap."""
    covered = bytearray(WEEK)
    for begin, end in _spans(windows):
        for part_begin, part_end in ((begin, min(end, WEEK)), (0, max(end - WEEK, 0))):
            if part_end > part_begin:
                covered[part_begin:part_end] = b"\x01" * (part_end - part_begin)
    evening, morning = NIGHT
    for day in range(7):
        base = day * DAY
        if 0 in covered[base + evening : base + DAY] or 0 in covered[base : base + morning]:
            return False
    return True


def preset_of(windows: list[dict[str, Any]]) -> str | None:
    """The preset these windows are, if any."""
    normal = _normal(windows)
    return next((code for code, (_label, preset) in PRESETS.items() if _normal(preset) == normal), None)


def _normal(windows: list[dict[str, Any]]) -> list[tuple[tuple[int, ...], str, str]]:
    return sorted((tuple(sorted(int(d) for d in w["days"])), str(w["from"]), str(w["to"])) for w in windows)


def _days_text(days: list[int]) -> str:
    ordered = sorted(set(days))
    if ordered == ALL_DAYS:
        return "dagelijks"
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{DAY_NAMES[ordered[0] - 1]}–{DAY_NAMES[ordered[-1] - 1]}"
    return ", ".join(DAY_NAMES[day - 1] for day in ordered)


def describe(windows: list[dict[str, Any]]) -> str:
    """In Dutch, as the page shows it: "Werkdagen 09.00–17.00", "ma, wo 18.00–08.00"."""
    preset = preset_of(windows)
    if preset is not None:
        return PRESETS[preset][0]
    return "; ".join(
        f"{_days_text(list(w['days']))} {str(w['from']).replace(':', '.')}–{str(w['to']).replace(':', '.')}"
        for w in windows
    )
