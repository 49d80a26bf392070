"""The feedback items the plan's owners work through: reports on their plans and lookups without
a report, each acknowledged once per organisation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, exists, select
from sqlalchemy.orm import Session

from registry.core import audit, rules
from registry.core.models import (
    FeedbackAcknowledgement,
    Lookup,
    LookupResult,
    Organisation,
    Plan,
    PlanVersion,
    Report,
    User,
)
from registry.core.timeutil import utcnow
from registry.core.vocabulary import Role
from registry.feedback import working_days
from registry.meldingen import operations as meldingen
from registry.reports.operations import chunks, closed_days, report_records, timezone
from registry.webhooks import operations as webhooks

REGISTRANT = Role.REGISTRANT

_LOOKUP = Lookup.__table__.c
_USER = User.__table__.c
_ORGANISATION = Organisation.__table__.c
_PLAN = Plan.__table__.c
_VERSION = PlanVersion.__table__.c
_LOOKUPS = (
    select(
        _LOOKUP.id,
        _LOOKUP.performed_at,
        _LOOKUP.incident_ref,
        _LOOKUP.query_kind,
        _ORGANISATION.name,
        _USER.display_name,
    )
    .select_from(Lookup.__table__)
    .outerjoin(Organisation.__table__, _ORGANISATION.id == _LOOKUP.organisation_id)
    .outerjoin(User.__table__, _USER.id == _LOOKUP.user_id)
    .where(_LOOKUP.id.in_(bindparam("ids", expanding=True)))
)
_TITLES = (
    select(_PLAN.id, _VERSION.title)
    .select_from(Plan.__table__)
    .join(PlanVersion.__table__, rules.is_current_version(_PLAN, _VERSION))
    .where(_PLAN.id.in_(bindparam("ids", expanding=True)))
)


# --- feedback for the plan's owners -------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One open item: what it is and when it is due. Its details, for all items at once, come
    from item_dicts."""

    kind: str  # report | lookup_without_report
    item_id: uuid.UUID  # the report's id, or the lookup's
    plan_id: uuid.UUID | None  # None: a melding without a handelingskader (a report)
    feedback_due: date
    overdue: bool  # past the end of its terugkoppeldag
    # a spoedmelding's deadline (None: not a spoedmelding), and whether it has passed
    feedback_due_at: datetime | None = None
    spoed_overdue: bool = False

    @property
    def spoed(self) -> bool:
        return self.feedback_due_at is not None

    @property
    def late(self) -> bool:
        """What the coordinator's Te laat shows: past the terugkoppeldag, or past the deadline
        of a spoedmelding."""
        return self.overdue or self.spoed_overdue


def open_items(
    session: Session, organisation_id: int, now: datetime | None = None, due: date | None = None
) -> list[Item]:
    """Unacknowledged reports the organisation hears of (rules.heard_by: on its plans, owned or
    shared; for a Veilig Thuis every report of the regions that name it, with or without a plan),
    and lookups on its plans that got no report within 12 hours; oldest due first."""
    now = now or utcnow()
    zone = timezone()
    reports = session.execute(
        select(Report.id, Report.plan_id, Report.feedback_due, Report.feedback_due_at)
        .where(rules.heard_by(organisation_id))
        .where(
            ~exists().where(
                FeedbackAcknowledgement.report_id == Report.id,
                FeedbackAcknowledgement.organisation_id == organisation_id,
            )
        )
    ).all()
    items = [
        Item(
            "report",
            report_id,
            plan_id,
            report_due,
            working_days.is_overdue(report_due, now, zone),
            due_at,
            due_at is not None and due_at < now,
        )
        for report_id, plan_id, report_due, due_at in reports
    ]
    reported = exists().where(Report.lookup_id == Lookup.id, Report.plan_id == LookupResult.plan_id)
    lookups = session.execute(
        select(Lookup.id, Lookup.performed_at, LookupResult.plan_id)
        .join(LookupResult, LookupResult.lookup_id == Lookup.id)
        .where(LookupResult.plan_id.in_(rules.visible_plan_ids(organisation_id)))
        .where(Lookup.performed_at <= now - rules.LOOKUP_GRACE, ~reported)
        .where(
            ~exists().where(
                and_(
                    FeedbackAcknowledgement.lookup_id == Lookup.id,
                    FeedbackAcknowledgement.organisation_id == organisation_id,
                )
            )
        )
    ).all()
    closed = closed_days(session) if lookups else set()
    for lookup_id, performed_at, plan_id in lookups:
        lookup_due = working_days.feedback_due(performed_at, closed, zone)
        items.append(
            Item(
                "lookup_without_report",
                lookup_id,
                plan_id,
                lookup_due,
                working_days.is_overdue(lookup_due, now, zone),
            )
        )
    if due is not None:
        items = [item for item in items if item.feedback_due == due]
    items.sort(key=lambda item: (item.feedback_due, str(item.item_id)))
    return items


@dataclass(frozen=True, slots=True)
class LookupShown:
    """A lookup as a feedback item shows it: who searched, when, for which incident."""

    id: uuid.UUID
    performed_at: datetime
    incident_ref: str
    query_kind: str
    organisation: str
    user: str


def lookup_records(session: Session, lookup_ids: list[uuid.UUID]) -> dict[uuid.UUID, LookupShown]:
    found: dict[uuid.UUID, LookupShown] = {}
    for chunk in chunks(lookup_ids):
        for lookup_id, performed_at, incident_ref, query_kind, organisation, user in session.execute(
            _LOOKUPS, {"ids": chunk}
        ):
            found[lookup_id] = LookupShown(
                lookup_id, performed_at, incident_ref, query_kind, organisation or "", user or ""
            )
    return found


def item_dicts(session: Session, items: list[Item]) -> list[dict[str, Any]]:
    """The items as the schema and the inbox read them, in the items' order: a fixed number of
    queries (per CHUNK items), however many items."""
    reports = report_records(session, [item.item_id for item in items if item.kind == "report"])
    lookups = lookup_records(session, [item.item_id for item in items if item.kind != "report"])
    # the melding's shared record (the five core questions) with each report: whoever hears of a
    # report reads its melding (rules.melding_read_by)
    records = meldingen.records(session, [report.melding_id for report in reports.values()])
    return [
        {
            "kind": item.kind,
            "plan_id": item.plan_id,
            "feedback_due": item.feedback_due,
            "overdue": item.overdue,
            "spoed": item.spoed,
            "feedback_due_at": item.feedback_due_at,
            "report": reports[item.item_id] if item.kind == "report" else None,
            "lookup": lookups[item.item_id] if item.kind != "report" else None,
            "melding": records[reports[item.item_id].melding_id] if item.kind == "report" else None,
        }
        for item in items
    ]


#: what the inbox shows in place of a plan's title for a report without a plan
WITHOUT_PLAN = "Melding zonder handelingskader"


def plan_titles(session: Session, plan_ids: list[uuid.UUID | None]) -> dict[uuid.UUID | None, str]:
    """The title of each plan's current version: all the inbox shows of the plan itself; for
    no plan (None), WITHOUT_PLAN."""
    found: dict[uuid.UUID | None, str] = {}
    for chunk in chunks(sorted({plan_id for plan_id in plan_ids if plan_id is not None})):
        found.update((plan_id, title) for plan_id, title in session.execute(_TITLES, {"ids": chunk}))
    found[None] = WITHOUT_PLAN
    return found


def decidable_plans(
    session: Session, organisation_id: int, plan_ids: list[uuid.UUID | None]
) -> set[uuid.UUID]:
    """Of these plans, those the organisation owns or shares: it decides on the agreements
    proposed for them (registry.feedback.proposals); a Veilig Thuis that only hears of a report
    reads them."""
    wanted = sorted({plan_id for plan_id in plan_ids if plan_id is not None})
    found: set[uuid.UUID] = set()
    for chunk in chunks(wanted):
        found.update(
            session.scalars(select(Plan.id).where(Plan.id.in_(chunk), rules.visible_among(organisation_id)))
        )
    return found


def audit_detail(items: list[Item]) -> dict[str, Any]:
    """What the audit row of a list says was shown (NEN 7513: which personal data was seen):
    every report and lookup by id."""
    return {"items": [str(item.item_id) for item in items]}


class NotFound(Exception):
    pass


def acknowledge(session: Session, user: User, item_id: uuid.UUID, note: str) -> FeedbackAcknowledgement:
    """Mark a report (or a lookup without report) as read and acted on by the user's organisation."""
    report = session.get(Report, item_id)
    lookup = None if report is not None else session.get(Lookup, item_id)
    if report is None and lookup is None:
        raise NotFound
    if report is not None:
        heard = exists().where(Report.id == report.id, rules.heard_by(user.organisation_id))
        allowed = bool(session.scalar(select(heard)))
    else:
        assert lookup is not None
        plan_ids = list(
            session.scalars(select(LookupResult.plan_id).where(LookupResult.lookup_id == lookup.id))
        )
        allowed = (
            session.scalars(
                select(Plan.id).where(Plan.id.in_(plan_ids), rules.visible_among(user.organisation_id))
            ).first()
            is not None
        )
    if not allowed:
        audit.record_kept(
            session,
            "feedback_acknowledge",
            "not_found",
            user=user,
            role=REGISTRANT,
            object_type="feedback",
            object_id=item_id,
        )
        raise NotFound
    column = FeedbackAcknowledgement.report_id if report is not None else FeedbackAcknowledgement.lookup_id
    existing = session.scalars(
        select(FeedbackAcknowledgement).where(
            column == item_id, FeedbackAcknowledgement.organisation_id == user.organisation_id
        )
    ).first()
    if existing is not None:
        return existing
    ack = FeedbackAcknowledgement(
        organisation_id=user.organisation_id,
        report_id=report.id if report is not None else None,
        lookup_id=lookup.id if lookup is not None else None,
        user_id=user.id,
        note=note,
        acknowledged_at=utcnow(),
    )
    session.add(ack)
    session.flush()
    audit.record(
        session,
        "feedback_acknowledge",
        "success",
        user=user,
        role=REGISTRANT,
        object_type="feedback",
        object_id=item_id,
    )
    webhooks.acknowledged(session, ack)
    return ack


_BEFORE_ALL = datetime.min.replace(tzinfo=UTC)


def spoed_first(items: list[Item]) -> list[Item]:
    """Spoedmeldingen first, the earliest deadline first; then the others in their order."""
    return sorted(items, key=lambda item: (not item.spoed, item.feedback_due_at or _BEFORE_ALL))


def overdue_items(session: Session, organisation_id: int, now: datetime | None = None) -> list[Item]:
    """What the organisation's coordinator is shown: spoedmeldingen past their deadline first,
    then items past the end of their due day."""
    late = [item for item in open_items(session, organisation_id, now) if item.late]
    return sorted(late, key=lambda item: not item.spoed_overdue)


@dataclass(frozen=True, slots=True)
class Unheard:
    """A melding without a plan the organisation recorded that reached nobody."""

    report_id: uuid.UUID
    incident_ref: str
    occurred_at: datetime
    recorded_by: str


def reaches_nobody(session: Session, organisation_id: int, report_id: uuid.UUID) -> bool:
    """Whether this report of the organisation is a melding without a plan no VT hears of."""
    unheard = exists().where(Report.id == report_id, rules.without_recipient(organisation_id))
    return bool(session.scalar(select(unheard)))


def without_recipient(session: Session, organisation_id: int) -> list[Unheard]:
    """The organisation's reports without a plan that no Veilig Thuis hears of (its region names
    none, or it is in no region): stored and counted all the same, and shown to its coordinator,
    newest first, until the region names its VT."""
    rows = session.execute(
        select(Report.id, Report.incident_ref, Report.occurred_at, User.display_name)
        .join(User, User.id == Report.created_by_id)
        .where(rules.without_recipient(organisation_id))
        .order_by(Report.occurred_at.desc())
    )
    return [Unheard(*row) for row in rows]
