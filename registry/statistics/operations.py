"""The monitoring tables. Counts only: never a name, address or narrative.

The unit is the melding (one acute call, however many organisations reported it): every table
counts meldingen, each once, except `reports_by_month`, which counts reports. What is counted is
the scope's (registry.statistics.scope): an organisation's share, or a region's whole. A melding
counts for an organisation when one of its reports does (registry.core.rules.report_counts_for:
on a plan it sees, recorded by its own people, or, for a Veilig Thuis, without a plan and heard
of), for a region when one of its reports was recorded by an organisation of the region or is on
a plan one owns (report_counts_for_region); what is counted of it comes from all its reports
together. Lookups count those its responders made or that showed its plans, for a region those
its organisations made. Months and times of day are in the configured time zone, by when the
call came in.
"""

from __future__ import annotations

import statistics as stats
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from registry.core import rules
from registry.core.models import (
    ClosedDay,
    FeedbackAcknowledgement,
    Gemeente,
    Lookup,
    Melding,
    Report,
    ReportAgreement,
)
from registry.core.vocabulary import (
    AgreementOutcome,
    CareInvolvement,
    HouseholdType,
    MentalHealthService,
    ReportMode,
    Responder,
    TypeInzet,
    ViolenceType,
)
from registry.feedback import working_days
from registry.statistics.scope import Scope

TIME_OF_DAY = ("day_weekday", "day_weekend", "evening", "night")
# the pilot's two subtotals: day 09.00–16.59 (any day), evening and night 17.00–08.59
TIME_OF_DAY_SUBTOTALS = {"day": ("day_weekday", "day_weekend"), "evening_night": ("evening", "night")}
CATEGORY_TABLES = {
    "violence_type": ViolenceType.codes(),
    "household_type": HouseholdType.codes(),
    "care_involvement": CareInvolvement.codes(),
    "mental_health_service": MentalHealthService.codes(),
}
UNREGISTERED = "unregistered"
# the modes from the least to the most intensive: a melding's mode is its reports' most intensive
MODE_INTENSITY = (
    ReportMode.PHONE_ADVICE,
    ReportMode.REMOTE_INTERVENTION,
    ReportMode.JOINT_ASSESSMENT,
    ReportMode.ON_SITE_INTERVENTION,
)


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

    def per_year(self) -> float:
        """What turns a count over the period into one per year: 12 / months for whole calendar
        months (the pilot's half year doubles: 83 -> 166), else 365 / days."""
        after_end = self.end + timedelta(days=1)
        if self.start.day == 1 and after_end.day == 1:
            return 12 / len(self.months())
        return 365 / ((self.end - self.start).days + 1)


def time_of_day(moment: datetime, zone: ZoneInfo) -> str:
    """day (09.00–16.59, weekday or weekend), evening (17.00–21.59), night (22.00–08.59)."""
    local = moment.astimezone(zone)
    if 9 <= local.hour < 17:
        return "day_weekend" if local.weekday() >= 5 else "day_weekday"
    if 17 <= local.hour < 22:
        return "evening"
    return "night"


def most_intensive(modes: list[str]) -> str:
    """on_site_intervention > joint_assessment > remote_intervention > phone_advice."""
    return max(modes, key=MODE_INTENSITY.index)


def type_inzet(responders: set[str], mode: str) -> TypeInzet:
    """The pilot's type of inzet, from who responded (all reports of the melding together) and
    the most intensive mode. VT is `veilig_thuis`, SEZ is `cit`; the police are the pilot's
    given (every melding is a police call) and are not looked for.

    | VT | SEZ | on site | joint assessment | remote | phone advice |
    | yes | no | vt_on_site_with_police | other | vt_remote | vt_phone_advice |
    | yes | yes | vt_sez_on_site | vt_sez_joint_assessment (also remote and phone: afstemming) |
    | no | yes | sez_on_site_with_police | other | sez_remote | other |
    | no | no | other |
    """
    vt, sez = Responder.VEILIG_THUIS in responders, Responder.CIT in responders
    on_site = mode == ReportMode.ON_SITE_INTERVENTION
    if vt and sez:
        return TypeInzet.VT_SEZ_ON_SITE if on_site else TypeInzet.VT_SEZ_JOINT_ASSESSMENT
    if vt:
        return _VT_ONLY.get(mode, TypeInzet.OTHER)
    if sez:
        return _SEZ_ONLY.get(mode, TypeInzet.OTHER)
    return TypeInzet.OTHER


_VT_ONLY: dict[str, TypeInzet] = {
    ReportMode.ON_SITE_INTERVENTION: TypeInzet.VT_ON_SITE_WITH_POLICE,
    ReportMode.REMOTE_INTERVENTION: TypeInzet.VT_REMOTE,
    ReportMode.PHONE_ADVICE: TypeInzet.VT_PHONE_ADVICE,
}
_SEZ_ONLY: dict[str, TypeInzet] = {
    ReportMode.ON_SITE_INTERVENTION: TypeInzet.SEZ_ON_SITE_WITH_POLICE,
    ReportMode.REMOTE_INTERVENTION: TypeInzet.SEZ_REMOTE,
}


@dataclass
class MeldingFigures:
    """What the tables count of one melding, from all its reports."""

    occurred_at: datetime
    gemeente_id: int | None
    responders: set[str] = field(default_factory=set)
    modes: list[str] = field(default_factory=list)
    hours: float = 0.0  # spent, all its reports together
    # per category, (created_at, value) of each report that filled it in
    categories: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)

    def category(self, name: str) -> str:
        """The most recent report's value; a later report that left it empty does not erase it."""
        filled = self.categories.get(name)
        return max(filled)[1] if filled else UNREGISTERED


_MELDING_COLUMNS = (
    Melding.id,
    Melding.occurred_at,
    Melding.gemeente_id,
    Report.responders,
    Report.mode,
    Report.created_at,
    Report.hours_spent,
    *(getattr(Report, name) for name in CATEGORY_TABLES),
)


def _meldingen(session: Session, scope: Scope, start: datetime, end: datetime) -> list[MeldingFigures]:
    """The meldingen whose call came in within the period and that count in the scope, each once
    with all its reports (also those of organisations outside the scope)."""
    counted = select(Report.melding_id).where(scope.reports())
    found: dict[uuid.UUID, MeldingFigures] = {}
    rows = session.execute(
        select(*_MELDING_COLUMNS)
        .join(Report, Report.melding_id == Melding.id)
        .where(Melding.occurred_at >= start, Melding.occurred_at < end, Melding.id.in_(counted))
    )
    for row in rows:
        melding = found.setdefault(row.id, MeldingFigures(row.occurred_at, row.gemeente_id))
        melding.responders.update(row.responders)
        melding.modes.append(row.mode)
        melding.hours += row.hours_spent or 0.0
        for name in CATEGORY_TABLES:
            value = getattr(row, name)
            if value:
                melding.categories.setdefault(name, []).append((row.created_at, value))
    return list(found.values())


def _per_gemeente(
    session: Session, region_id: int | None, meldingen: list[MeldingFigures], per_year: float
) -> tuple[dict[str, dict[str, Any]], int]:
    """{gemeente: {meldingen, population, per_1000}} for the gemeenten of the region (the
    organisation's, or the region counted; zeros too) and of the meldingen counted; per_1000 is
    per year at the period's rate. And the number of meldingen without a gemeente."""
    counts = Counter(melding.gemeente_id for melding in meldingen)
    gemeenten = session.scalars(
        select(Gemeente)
        .where(
            or_(
                Gemeente.region_id == region_id,
                Gemeente.id.in_([gemeente_id for gemeente_id in counts if gemeente_id is not None]),
            )
        )
        .order_by(Gemeente.name)
    ).all()
    rows = {
        gemeente.name: {
            "meldingen": counts.get(gemeente.id, 0),
            "population": gemeente.population,
            "per_1000": _per_1000(counts.get(gemeente.id, 0) * per_year, gemeente.population),
        }
        for gemeente in gemeenten
    }
    return rows, counts.get(None, 0)


def _per_1000(per_year: float, population: int) -> float | None:
    return round(per_year / population * 1000, 2) if population else None


def _projection(
    meldingen: int,
    by_type: dict[str, int],
    per_year: float,
    population: int,
    region_population: int | None,
    hours: dict[str, float],
) -> dict[str, Any]:
    """The pilot's projection: the period's meldingen per year at this rate and per 1.000
    inhabitants of the gemeenten; what that rate gives for the region's inhabitants (when
    configured); and the capacity: per type inzet, meldingen per year × hours per melding."""
    yearly = meldingen * per_year
    scale = region_population / population if region_population and population else None
    capacity: list[dict[str, Any]] = []
    for code in TypeInzet.codes():
        hours_each = hours.get(code)
        yearly_of_type = round(by_type[code] * per_year * (scale or 1))
        capacity.append(
            {
                "type_inzet": code,
                "hours_per_melding": hours_each,
                "meldingen_per_year": yearly_of_type,
                "hours_per_year": round(yearly_of_type * hours_each, 1) if hours_each is not None else None,
            }
        )
    return {
        "meldingen": meldingen,
        "per_year": round(yearly),
        "population": population,
        "per_1000": _per_1000(yearly, population),
        "region_population": region_population,
        "region_per_year": round(yearly * scale) if scale is not None else None,
        # for the region when its population is configured, else for the gemeenten counted
        "capacity_basis": "region" if scale is not None else "gemeenten",
        "capacity": capacity,
        "capacity_hours": round(sum(row["hours_per_year"] or 0 for row in capacity), 1),
    }


#: reached "at once", as the pilot put it: within a quarter of an hour
REACHED_WITHIN_MINUTES = 15


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _reachability(reports: list[Report], zone: ZoneInfo) -> dict[str, dict[str, Any]]:
    """Per time of day (and in total), of the reports that say after how many minutes the
    partner was on the line: how many, how many within 15 minutes, and the share."""
    counts: dict[str, list[int]] = {key: [0, 0] for key in (*TIME_OF_DAY, "total")}
    for report in reports:
        if report.reached_after_minutes is None:
            continue
        within = int(report.reached_after_minutes < REACHED_WITHIN_MINUTES)
        for key in (time_of_day(report.occurred_at, zone), "total"):
            counts[key][0] += 1
            counts[key][1] += within
    return {
        key: {"reported": reported, "within_15": within, "share_within_15": _share(within, reported)}
        for key, (reported, within) in counts.items()
    }


def _needed_vs_given(reports: list[Report], zone: ZoneInfo) -> dict[str, dict[str, Any]]:
    """Of the phone-advice reports that say what was needed, by day and by evening and night: how
    many, how many needed more (a more intensive mode than advice), and the share."""
    counts: dict[str, list[int]] = {key: [0, 0] for key in TIME_OF_DAY_SUBTOTALS}
    for report in reports:
        if report.needed_mode is None or report.mode != ReportMode.PHONE_ADVICE:
            continue
        part = time_of_day(report.occurred_at, zone)
        subtotal = next(key for key, parts in TIME_OF_DAY_SUBTOTALS.items() if part in parts)
        counts[subtotal][0] += 1
        counts[subtotal][1] += int(most_intensive([report.mode, report.needed_mode]) != report.mode)
    return {
        key: {"phone_advice": reported, "needed_more": more, "share_needed_more": _share(more, reported)}
        for key, (reported, more) in counts.items()
    }


def compute(
    session: Session,
    scope: Scope,
    period: Period,
    timezone: str,
    region_population: int | None = None,
    hours: dict[str, float] | None = None,
) -> dict[str, Any]:
    zone = ZoneInfo(timezone)
    start, end = period.bounds(zone)
    reports = session.scalars(
        select(Report).where(Report.occurred_at >= start, Report.occurred_at < end, scope.reports())
    ).all()
    reports_by_month = dict.fromkeys(period.months(), 0)
    for report in reports:
        local = report.occurred_at.astimezone(zone)
        reports_by_month[f"{local.year:04d}-{local.month:02d}"] += 1

    meldingen = _meldingen(session, scope, start, end)
    by_month = dict.fromkeys(period.months(), 0)
    tod: dict[str, int] = dict.fromkeys(TIME_OF_DAY, 0)
    by_type: dict[str, int] = dict.fromkeys(TypeInzet.codes(), 0)
    hours_by_type: dict[str, float] = dict.fromkeys(TypeInzet.codes(), 0.0)
    combos: Counter[tuple[tuple[str, ...], str]] = Counter()
    tables: dict[str, dict[str, int]] = {
        name: dict.fromkeys([*values, UNREGISTERED], 0) for name, values in CATEGORY_TABLES.items()
    }
    for melding in meldingen:
        local = melding.occurred_at.astimezone(zone)
        by_month[f"{local.year:04d}-{local.month:02d}"] += 1
        tod[time_of_day(melding.occurred_at, zone)] += 1
        mode = most_intensive(melding.modes)
        kind = type_inzet(melding.responders, mode)
        by_type[kind] += 1
        hours_by_type[kind] += melding.hours
        combos[(tuple(sorted(melding.responders)), mode)] += 1
        for name in CATEGORY_TABLES:
            tables[name][melding.category(name)] += 1
    for subtotal, parts in TIME_OF_DAY_SUBTOTALS.items():
        tod[subtotal] = sum(tod[part] for part in parts)

    per_year = period.per_year()
    per_gemeente, without_gemeente = _per_gemeente(session, scope.region_id, meldingen, per_year)
    population = sum(row["population"] for row in per_gemeente.values())

    report_ids = [report.id for report in reports]
    outcomes = dict.fromkeys(AgreementOutcome.codes(), 0)
    if report_ids:
        for outcome in session.scalars(
            select(ReportAgreement.outcome).where(ReportAgreement.report_id.in_(report_ids))
        ):
            outcomes[outcome] += 1
    judged = outcomes[AgreementOutcome.FOLLOWED] + outcomes[AgreementOutcome.NOT_FOLLOWED]

    lookups = session.scalars(
        select(Lookup).where(Lookup.performed_at >= start, Lookup.performed_at < end, scope.lookups())
    ).all()
    # one search, one lookup: a candidate list of a name alone that was opened counts as its
    # openings (which showed the plan, and are what a report names), not as well as them; a list
    # never opened counts, but showed no plan
    opened_lists = set(
        session.scalars(
            select(Lookup.opened_from).where(
                Lookup.opened_from.is_not(None),
                Lookup.performed_at >= start,
                Lookup.performed_at < end + rules.LOOKUP_GRACE,
            )
        )
    )
    lookups = [lookup for lookup in lookups if lookup.id not in opened_lists]
    lookup_ids = [lookup.id for lookup in lookups]
    reported = set(session.scalars(select(Report.lookup_id).where(Report.lookup_id.in_(lookup_ids))))
    with_match = [
        lookup
        for lookup in lookups
        if lookup.match_count > 0 and not (lookup.name_only and lookup.opened_from is None)
    ]

    closed = set(session.scalars(select(ClosedDay.day_on)))
    occurred = {report.id: report.occurred_at for report in reports}
    working_hours = []
    if report_ids:
        for report_id, acknowledged_at in session.execute(
            select(FeedbackAcknowledgement.report_id, FeedbackAcknowledgement.acknowledged_at).where(
                FeedbackAcknowledgement.report_id.in_(report_ids)
            )
        ):
            if report_id is None:
                continue
            working_hours.append(
                working_days.working_hours_between(occurred[report_id], acknowledged_at, closed, timezone)
            )

    return {
        "from": period.start,
        "to": period.end,
        "scope": scope.kind,
        "region": scope.region_name if scope.is_region else None,
        "meldingen": len(meldingen),
        "reports": len(reports),
        "meldingen_by_month": by_month,
        "reports_by_month": reports_by_month,
        "time_of_day": tod,
        "type_inzet": by_type,
        "responders_mode": [
            {"responders": list(responders), "mode": mode, "count": count}
            for (responders, mode), count in sorted(combos.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        **tables,
        "reachability": _reachability(list(reports), zone),
        "needed_vs_given": _needed_vs_given(list(reports), zone),
        "hours": {
            **{code: round(spent, 1) for code, spent in hours_by_type.items()},
            "total": round(sum(hours_by_type.values()), 1),
        },
        "per_gemeente": per_gemeente,
        "gemeente_unregistered": without_gemeente,
        "projection": _projection(
            len(meldingen), by_type, per_year, population, region_population, hours or {}
        ),
        "lookups": {
            "total": len(lookups),
            "with_match": len(with_match),
            "without_report": sum(1 for lookup in with_match if lookup.id not in reported),
        },
        "agreements": {
            **outcomes,
            "share_followed": round(outcomes[AgreementOutcome.FOLLOWED] / judged, 3) if judged else None,
        },
        "median_working_hours_to_acknowledgement": round(stats.median(working_hours), 1)
        if working_hours
        else None,
        "spoed": _spoed(session, [report for report in reports if report.feedback_due_at is not None]),
    }


def _spoed(session: Session, reports: list[Report]) -> dict[str, Any]:
    """The spoedmeldingen among the reports counted: how many meldingen had one, and per spoed
    report its first acknowledgement (by any organisation that heard of it): the share that came
    by the deadline (of all spoed reports, also those not acknowledged) and the median minutes
    from the incident."""
    first: dict[uuid.UUID, datetime] = {}
    if reports:
        for chunk in [reports[start : start + 900] for start in range(0, len(reports), 900)]:
            for report_id, acknowledged_at in session.execute(
                select(FeedbackAcknowledgement.report_id, func.min(FeedbackAcknowledgement.acknowledged_at))
                .where(FeedbackAcknowledgement.report_id.in_([report.id for report in chunk]))
                .group_by(FeedbackAcknowledgement.report_id)
            ):
                if report_id is not None:
                    first[report_id] = _aware(acknowledged_at)
    minutes = [
        (first[report.id] - report.occurred_at).total_seconds() / 60
        for report in reports
        if report.id in first
    ]
    within = sum(
        1
        for report in reports
        if report.id in first
        and report.feedback_due_at is not None
        and first[report.id] <= report.feedback_due_at
    )
    return {
        "meldingen": len({report.melding_id for report in reports}),
        "acknowledged_within_deadline_share": round(within / len(reports), 3) if reports else None,
        "median_minutes_to_acknowledgement": round(stats.median(minutes)) if minutes else None,
    }


def _aware(moment: datetime) -> datetime:
    """An aggregate's moment: SQLite hands min() back as text without the column's type."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def figures(session: Session, scope: Scope, period: Period, config: Any) -> dict[str, Any]:
    """compute() with the app's settings: time zone, the region's inhabitants, hours per type."""
    return compute(
        session,
        scope,
        period,
        config["TIMEZONE"],
        region_population=config.get("PROJECTION_POPULATION"),
        hours=config.get("HOURS_PER_TYPE_INZET"),
    )
