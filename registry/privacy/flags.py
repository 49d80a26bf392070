"""Unusual lookups, flagged for the privacy officer (role auditor), who reviews each flag and
closes it with a note.

A flag is one user, one rule, one day (in the configured time zone); its count is how far the
day went past the rule. The rules (FlagRule, thresholds in the app's settings, docs/privacy.md):

- many_lookups: at least FLAG_LOOKUPS_PER_HOUR lookups within one hour (any 60 minutes);
- many_name_only: at least FLAG_NAME_ONLY_PER_DAY lookups on a name alone (candidate lists and
  the candidates opened from them);
- without_report: at least FLAG_WITHOUT_REPORT_PER_DAY lookups that showed a plan without a
  report on it by the same user within 12 hours (a lookup younger than that is not counted yet);
- off_hours: lookups in an hour of the day in which the user made none in the 28 days before,
  once those days hold at least FLAG_HISTORY_MINIMUM lookups (a new colleague is not flagged);
- limit_reached: raised at once when a lookup is refused for the budget of the last hour.

`scan` finds the first four (`samenop privacy scan`, periodically, and each time the page is
opened); a flag that exists already is brought up to date while it is open and left alone once
it is closed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from registry.core import audit, rules
from registry.core.db import keep
from registry.core.models import Lookup, LookupFlag, LookupResult, Report, User
from registry.core.timeutil import utcnow
from registry.core.vocabulary import FlagRule, Role

ROLE = Role.AUDITOR
HISTORY = timedelta(days=28)


@dataclass(frozen=True)
class Thresholds:
    lookups_per_hour: int
    name_only_per_day: int
    without_report_per_day: int
    history_minimum: int

    @classmethod
    def of(cls, config: Any) -> Thresholds:
        return cls(
            int(config["FLAG_LOOKUPS_PER_HOUR"]),
            int(config["FLAG_NAME_ONLY_PER_DAY"]),
            int(config["FLAG_WITHOUT_REPORT_PER_DAY"]),
            int(config["FLAG_HISTORY_MINIMUM"]),
        )


def raise_flag(
    session: Session,
    user_id: int,
    organisation_id: int,
    rule: str,
    day: date,
    count: int,
    detail: dict[str, Any],
) -> bool:
    """The flag of this user, rule and day: added, or brought up to date while open. True when it
    was added. Two servers raising the same flag at once: the second finds the first's."""
    existing = session.scalar(
        select(LookupFlag).where(
            LookupFlag.user_id == user_id, LookupFlag.rule == rule, LookupFlag.day == day
        )
    )
    if existing is not None:
        if existing.closed_at is None and count > existing.count:
            existing.count = count
            existing.detail = detail
        return False
    try:
        with session.begin_nested():
            session.add(
                LookupFlag(
                    user_id=user_id,
                    organisation_id=organisation_id,
                    rule=rule,
                    day=day,
                    count=count,
                    detail=detail,
                    raised_at=utcnow(),
                )
            )
    except IntegrityError:
        return False
    return True


def raise_kept(
    session: Session,
    user_id: int,
    organisation_id: int,
    rule: str,
    day: date,
    count: int,
    detail: dict[str, Any],
) -> None:
    """raise_flag, kept (registry.core.db.keep): it stands when the request is refused."""
    keep(session, lambda kept: raise_flag(kept, user_id, organisation_id, rule, day, count, detail))


@dataclass(frozen=True)
class _Seen:
    id: Any
    user_id: int
    organisation_id: int
    at: datetime  # local
    name_only: bool
    showed_plan: bool
    reported: bool


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone)


def scan(session: Session, now: datetime, timezone: str, thresholds: Thresholds, days: int = 2) -> int:
    """Flag the unusual lookups of the last `days` days (today included); returns how many flags
    were added."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=days - 1)
    start = datetime.combine(first_day, time.min, tzinfo=zone)
    showed = exists().where(LookupResult.lookup_id == Lookup.id)
    first_report = (
        select(func.min(Report.created_at))
        .where(Report.lookup_id == Lookup.id, Report.created_by_id == Lookup.user_id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Lookup.id,
            Lookup.user_id,
            Lookup.organisation_id,
            Lookup.performed_at,
            Lookup.name_only,
            showed.label("showed"),
            first_report.label("first_report"),
        )
        .where(Lookup.performed_at >= start, Lookup.performed_at <= now)
        .order_by(Lookup.performed_at)
    ).all()
    per_day: dict[tuple[int, date], list[_Seen]] = defaultdict(list)
    for row in rows:
        local = _local(row.performed_at, zone)
        reported = row.first_report is not None and row.first_report <= row.performed_at + rules.LOOKUP_GRACE
        per_day[(row.user_id, local.date())].append(
            _Seen(
                row.id,
                row.user_id,
                row.organisation_id,
                local,
                bool(row.name_only),
                bool(row.showed),
                reported,
            )
        )
    added = 0
    for (user_id, day), lookups in per_day.items():
        organisation_id = lookups[-1].organisation_id
        for rule, count, detail in _unusual(session, user_id, day, lookups, now, zone, thresholds):
            added += raise_flag(session, user_id, organisation_id, rule, day, count, detail)
    return added


def _unusual(
    session: Session,
    user_id: int,
    day: date,
    seen: list[_Seen],
    now: datetime,
    zone: ZoneInfo,
    thresholds: Thresholds,
) -> list[tuple[str, int, dict[str, Any]]]:
    found: list[tuple[str, int, dict[str, Any]]] = []
    # the busiest hour: the most lookups within 60 minutes of one another
    busiest, begin, busiest_from = 0, 0, seen[0].at
    for end, lookup in enumerate(seen):
        while lookup.at - seen[begin].at >= timedelta(hours=1):
            begin += 1
        if end - begin + 1 > busiest:
            busiest, busiest_from = end - begin + 1, seen[begin].at
    if busiest >= thresholds.lookups_per_hour:
        found.append((FlagRule.MANY_LOOKUPS, busiest, {"from": busiest_from.strftime("%H:%M")}))
    names = sum(1 for lookup in seen if lookup.name_only)
    if names >= thresholds.name_only_per_day:
        found.append((FlagRule.MANY_NAME_ONLY, names, {"of": len(seen)}))
    settled = now.astimezone(zone) - rules.LOOKUP_GRACE
    unreported = sum(
        1 for lookup in seen if lookup.showed_plan and not lookup.reported and lookup.at <= settled
    )
    if unreported >= thresholds.without_report_per_day:
        found.append((FlagRule.WITHOUT_REPORT, unreported, {"of": len(seen)}))
    usual = _usual_hours(session, user_id, day, zone, thresholds.history_minimum)
    if usual is not None:
        odd = sorted({lookup.at.hour for lookup in seen if lookup.at.hour not in usual})
        if odd:
            count = sum(1 for lookup in seen if lookup.at.hour in odd)
            found.append((FlagRule.OFF_HOURS, count, {"hours": [f"{hour:02d}:00" for hour in odd]}))
    return found


def _usual_hours(session: Session, user_id: int, day: date, zone: ZoneInfo, minimum: int) -> set[int] | None:
    """The hours of the day in which the user made lookups in the HISTORY before `day`; None when
    those days hold fewer than `minimum` (too little to tell what is usual)."""
    end = datetime.combine(day, time.min, tzinfo=zone)
    moments = session.scalars(
        select(Lookup.performed_at).where(
            Lookup.user_id == user_id, Lookup.performed_at >= end - HISTORY, Lookup.performed_at < end
        )
    ).all()
    if len(moments) < minimum:
        return None
    return {moment.astimezone(zone).hour for moment in moments}


# --- the page -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagList:
    open: list[LookupFlag]
    closed: list[LookupFlag]


def listing(session: Session, auditor: User, closed_limit: int = 50) -> FlagList:
    """Open flags, oldest day first; the last `closed_limit` closed ones, newest first. Reading
    them is a read of who looked up what, audited."""
    load = (
        joinedload(LookupFlag.user),
        joinedload(LookupFlag.organisation),
        joinedload(LookupFlag.closed_by),
    )
    open_flags = list(
        session.scalars(
            select(LookupFlag)
            .options(*load)
            .where(LookupFlag.closed_at.is_(None))
            .order_by(LookupFlag.day, LookupFlag.id)
        )
    )
    closed = list(
        session.scalars(
            select(LookupFlag)
            .options(*load)
            .where(LookupFlag.closed_at.is_not(None))
            .order_by(LookupFlag.closed_at.desc())
            .limit(closed_limit)
        )
    )
    audit.record(
        session,
        "lookup_flags",
        "success",
        user=auditor,
        role=ROLE,
        object_type="lookup_flags",
        detail={"open": len(open_flags), "closed_shown": len(closed)},
    )
    return FlagList(open_flags, closed)


class FlagNotFound(Exception):
    pass


class NoteRequired(Exception):
    pass


MAX_NOTE = 2000


def close(session: Session, auditor: User, flag_id: int, note: str) -> LookupFlag:
    """Close an open flag with the reviewer's note (required): who and when are kept with it."""
    note = note.strip()
    if not note:
        raise NoteRequired("Schrijf in de notitie wat u heeft nagegaan en wat de uitkomst is.")
    if len(note) > MAX_NOTE:
        raise NoteRequired(f"De notitie is te lang: ten hoogste {MAX_NOTE} tekens.")
    flag = session.scalar(
        select(LookupFlag).where(LookupFlag.id == flag_id, LookupFlag.closed_at.is_(None)).with_for_update()
    )
    if flag is None:
        raise FlagNotFound(flag_id)
    flag.closed_at = utcnow()
    flag.closed_by_user_id = auditor.id
    flag.note = note
    audit.record(
        session,
        "lookup_flag_close",
        "success",
        user=auditor,
        role=ROLE,
        object_type="lookup_flag",
        object_id=flag.id,
        detail={"rule": flag.rule, "user_id": flag.user_id, "day": flag.day.isoformat()},
    )
    return flag
