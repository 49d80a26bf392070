"""The monitoring tables. Counts only: never a name, address or narrative.

Scope for a coordinator's organisation: reports on plans it owns or that are shared with
it, and reports its own responders recorded; lookups its responders made or that showed
its plans. Times of day and months are counted in the configured time zone.
"""

from __future__ import annotations

import statistics as stats
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from registry.core.models import (
    ClosedDay,
    FeedbackAcknowledgement,
    Lookup,
    LookupResult,
    Report,
    ReportAgreement,
)
from registry.core.rules import visible_plan_ids
from registry.core.vocabulary import (
    AgreementOutcome,
    CareInvolvement,
    HouseholdType,
    MentalHealthService,
    ViolenceType,
)
from registry.feedback import working_days

TIME_OF_DAY = ("day_weekday", "day_weekend", "evening", "night")
CATEGORY_TABLES = {
    "violence_type": ViolenceType.codes(),
    "household_type": HouseholdType.codes(),
    "care_involvement": CareInvolvement.codes(),
    "mental_health_service": MentalHealthService.codes(),
}
UNREGISTERED = "unregistered"


@dataclass(frozen=True)
class Period:
    start: date  # inclusive
    end: date  # inclusive

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        return (
            datetime.combine(self.start, time.min, tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone),
        )

    def months(self) -> list[str]:
        months, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months


def time_of_day(moment: datetime, zone: ZoneInfo) -> str:
    """day (09.00–16.59, weekday or weekend), evening (17.00–21.59), night (22.00–08.59)."""
    local = moment.astimezone(zone)
    if 9 <= local.hour < 17:
        return "day_weekend" if local.weekday() >= 5 else "day_weekday"
    if 17 <= local.hour < 22:
        return "evening"
    return "night"


def compute(session: Session, organisation_id: int, period: Period, timezone: str) -> dict[str, Any]:
    zone = ZoneInfo(timezone)
    start, end = period.bounds(zone)
    plan_ids = visible_plan_ids(organisation_id)
    reports = session.scalars(
        select(Report).where(
            Report.occurred_at >= start,
            Report.occurred_at < end,
            or_(Report.plan_id.in_(plan_ids), Report.organisation_id == organisation_id),
        )
    ).all()

    by_month = dict.fromkeys(period.months(), 0)
    tod = dict.fromkeys(TIME_OF_DAY, 0)
    combos: Counter[tuple[tuple[str, ...], str]] = Counter()
    tables: dict[str, dict[str, int]] = {
        name: dict.fromkeys([*values, UNREGISTERED], 0) for name, values in CATEGORY_TABLES.items()
    }
    for report in reports:
        occurred = report.occurred_at
        local = occurred.astimezone(zone)
        by_month[f"{local.year:04d}-{local.month:02d}"] = (
            by_month.get(f"{local.year:04d}-{local.month:02d}", 0) + 1
        )
        tod[time_of_day(occurred, zone)] += 1
        combos[(tuple(sorted(report.responders)), report.mode)] += 1
        for name in CATEGORY_TABLES:
            tables[name][getattr(report, name) or UNREGISTERED] += 1

    report_ids = [report.id for report in reports]
    outcomes = dict.fromkeys(AgreementOutcome.codes(), 0)
    if report_ids:
        for outcome in session.scalars(
            select(ReportAgreement.outcome).where(ReportAgreement.report_id.in_(report_ids))
        ):
            outcomes[outcome] += 1
    judged = outcomes[AgreementOutcome.FOLLOWED] + outcomes[AgreementOutcome.NOT_FOLLOWED]

    lookups = session.scalars(
        select(Lookup).where(
            Lookup.performed_at >= start,
            Lookup.performed_at < end,
            or_(
                Lookup.organisation_id == organisation_id,
                exists().where(LookupResult.lookup_id == Lookup.id, LookupResult.plan_id.in_(plan_ids)),
            ),
        )
    ).all()
    lookup_ids = [lookup.id for lookup in lookups]
    reported = set(session.scalars(select(Report.lookup_id).where(Report.lookup_id.in_(lookup_ids))))
    with_match = [lookup for lookup in lookups if lookup.match_count > 0]

    closed = set(session.scalars(select(ClosedDay.day_on)))
    hours = []
    if report_ids:
        for report_id, acknowledged_at in session.execute(
            select(FeedbackAcknowledgement.report_id, FeedbackAcknowledgement.acknowledged_at).where(
                FeedbackAcknowledgement.report_id.in_(report_ids)
            )
        ):
            report = next(r for r in reports if r.id == report_id)
            hours.append(
                working_days.working_hours_between(report.occurred_at, acknowledged_at, closed, timezone)
            )

    return {
        "from": period.start,
        "to": period.end,
        "reports": len(reports),
        "reports_by_month": by_month,
        "time_of_day": tod,
        "responders_mode": [
            {"responders": list(responders), "mode": mode, "count": count}
            for (responders, mode), count in sorted(combos.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        **tables,
        "lookups": {
            "total": len(lookups),
            "with_match": len(with_match),
            "without_report": sum(1 for lookup in with_match if lookup.id not in reported),
        },
        "agreements": {
            **outcomes,
            "share_followed": round(outcomes[AgreementOutcome.FOLLOWED] / judged, 3) if judged else None,
        },
        "median_working_hours_to_acknowledgement": round(stats.median(hours), 1) if hours else None,
    }
