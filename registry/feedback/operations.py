"""Reports (exactly once, never edited) and the feedback items the plan's owners work through."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry import audit
from registry.feedback import working_days
from registry.models import (
    Agreement,
    ClosedDay,
    FeedbackAcknowledgement,
    Lookup,
    LookupResult,
    Organisation,
    Plan,
    PlanVersion,
    Report,
    ReportAgreement,
    ReportAmendment,
    User,
)
from registry.plans.operations import visible_to
from registry.timeutil import aware, utcnow

RESPONDER = "responder"
REGISTRANT = "registrant"
LOOKUP_GRACE = timedelta(hours=12)


class ReportRefused(Exception):
    """The report points at something the responder may not report on; names the field."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__(fields)
        self.fields = fields


class IdempotencyConflict(Exception):
    """The same Idempotency-Key came with a different body."""


def fingerprint(body: Any) -> str:
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


def timezone() -> str:
    return str(current_app.config["TIMEZONE"])


def closed_days(session: Session) -> set[date]:
    return set(session.scalars(select(ClosedDay.day_on)))


def due_date(session: Session, occurred_at: datetime) -> date:
    return working_days.feedback_due(occurred_at, closed_days(session), timezone())


# --- reports ------------------------------------------------------------------------------------


def _existing(session: Session, user: User, key: str) -> Report | None:
    return session.scalars(
        select(Report).where(Report.created_by_id == user.id, Report.idempotency_key == key)
    ).first()


def _replay(existing: Report, body_hash: str) -> Report:
    if existing.request_hash != body_hash:
        raise IdempotencyConflict
    return existing


def _shown_version(session: Session, user: User, plan: Plan, lookup_id: uuid.UUID | None) -> PlanVersion:
    """The version the responder saw: the one the lookup showed, or the current one."""
    if lookup_id is not None:
        row = session.execute(
            select(LookupResult.plan_version_id)
            .join(Lookup, Lookup.id == LookupResult.lookup_id)
            .where(
                LookupResult.lookup_id == lookup_id,
                LookupResult.plan_id == plan.id,
                Lookup.organisation_id == user.organisation_id,
            )
        ).first()
        if row is None:
            raise ReportRefused(
                {"lookup_id": ["Deze raadpleging van uw organisatie toonde dit handelingskader niet."]}
            )
        version = session.get(PlanVersion, row[0])
        assert version is not None
        return version
    if plan.status != "active":
        raise ReportRefused(
            {
                "plan_id": [
                    "Dit handelingskader is niet (meer) actief; registreer de inzet vanuit de raadpleging."
                ]
            }
        )
    return session.scalars(
        select(PlanVersion).where(PlanVersion.plan_id == plan.id, PlanVersion.version == plan.current_version)
    ).one()


def create_report(
    session: Session, user: User, args: dict[str, Any], key: str | None, body_hash: str
) -> tuple[Report, bool]:
    """Store a report once. Returns (report, replayed): a retry with the same key and body
    gets the first report back; with another body, IdempotencyConflict."""
    if key:
        existing = _existing(session, user, key)
        if existing is not None:
            return _replay(existing, body_hash), True
    plan = session.get(Plan, args["plan_id"])
    if plan is None:
        raise ReportRefused({"plan_id": ["Dit handelingskader bestaat niet."]})
    version = _shown_version(session, user, plan, args.get("lookup_id"))
    known = {agreement.id for agreement in version.agreements}
    unknown = {
        f"agreements.{index}.agreement_id": ["Deze afspraak hoort niet bij het getoonde handelingskader."]
        for index, row in enumerate(args["agreements"])
        if row["agreement_id"] not in known
    }
    if unknown:
        raise ReportRefused(unknown)
    report = Report(
        id=uuid.uuid4(),
        plan_id=plan.id,
        plan_version_id=version.id,
        lookup_id=args.get("lookup_id"),
        incident_ref=args["incident_ref"],
        # in UTC: SQLite keeps the wall-clock time and drops the offset, and everything stored is UTC
        occurred_at=args["occurred_at"].astimezone(UTC),
        mode=args["mode"],
        responders=sorted(args["responders"]),
        violence_type=args.get("violence_type"),
        household_type=args.get("household_type"),
        care_involvement=args.get("care_involvement"),
        mental_health_service=args.get("mental_health_service"),
        actions=list(args["actions"]),
        narrative=args["narrative"],
        feedback_due=due_date(session, args["occurred_at"]),
        created_by_id=user.id,
        organisation_id=user.organisation_id,
        created_at=utcnow(),
        idempotency_key=key,
        request_hash=body_hash,
        agreement_outcomes=[
            ReportAgreement(agreement_id=row["agreement_id"], outcome=row["outcome"], note=row["note"])
            for row in args["agreements"]
        ],
    )
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:
        # the same key arrived twice at once: the other request stored it first
        if not key:
            raise
        existing = _existing(session, user, key)
        if existing is None:
            raise
        return _replay(existing, body_hash), True
    audit.record(
        session,
        "report_create",
        "success",
        user=user,
        role=RESPONDER,
        object_type="report",
        object_id=report.id,
        detail={"plan": str(plan.id), "incident_ref": report.incident_ref},
    )
    return report, False


def get_own_report(session: Session, user: User, report_id: uuid.UUID) -> Report | None:
    """A report recorded by the user's organisation."""
    report = session.get(Report, report_id)
    if report is None or report.organisation_id != user.organisation_id:
        return None
    return report


def amend(session: Session, user: User, report: Report, note: str) -> ReportAmendment:
    amendment = ReportAmendment(report_id=report.id, note=note, created_by_id=user.id, created_at=utcnow())
    session.add(amendment)
    session.flush()
    session.refresh(report)
    audit.record(
        session,
        "report_amend",
        "success",
        user=user,
        role=RESPONDER,
        object_type="report",
        object_id=report.id,
    )
    return amendment


def report_dict(session: Session, report: Report) -> dict[str, Any]:
    """A report as the schemas and pages read it, with who to call back."""
    reporter = session.get(User, report.created_by_id)
    organisation = session.get(Organisation, report.organisation_id)
    names = {
        user.id: user.display_name
        for user in session.scalars(
            select(User).where(User.id.in_({a.created_by_id for a in report.amendments}))
        )
    }
    agreements = {
        agreement.id: agreement
        for agreement in session.scalars(
            select(Agreement).where(Agreement.id.in_([row.agreement_id for row in report.agreement_outcomes]))
        )
    }
    return {
        "id": report.id,
        "plan_id": report.plan_id,
        "lookup_id": report.lookup_id,
        "incident_ref": report.incident_ref,
        "occurred_at": aware(report.occurred_at),
        "mode": report.mode,
        "responders": list(report.responders),
        "violence_type": report.violence_type,
        "household_type": report.household_type,
        "care_involvement": report.care_involvement,
        "mental_health_service": report.mental_health_service,
        "agreements": [
            {
                "agreement_id": row.agreement_id,
                "outcome": row.outcome,
                "note": row.note,
                "agreement": agreements.get(row.agreement_id),
            }
            for row in sorted(
                report.agreement_outcomes,
                key=lambda r: agreements[r.agreement_id].position if r.agreement_id in agreements else 0,
            )
        ],
        "actions": list(report.actions),
        "narrative": report.narrative,
        "feedback_due": report.feedback_due,
        "created_at": aware(report.created_at),
        "organisation": organisation.name if organisation else "",
        "reported_by": reporter.display_name if reporter else "",
        "call_back": (reporter.phone if reporter and reporter.phone else None)
        or (organisation.phone if organisation else None),
        "amendments": [
            {"note": a.note, "created_at": aware(a.created_at), "by": names.get(a.created_by_id, "")}
            for a in report.amendments
        ],
    }


# --- feedback for the plan's owners -------------------------------------------------------------


@dataclass
class Item:
    kind: str  # report | lookup_without_report
    plan_id: uuid.UUID
    feedback_due: date
    overdue: bool
    report: Report | None = None
    lookup: Lookup | None = None

    @property
    def item_id(self) -> uuid.UUID:
        target = self.report if self.report is not None else self.lookup
        assert target is not None
        return target.id


def open_items(
    session: Session, organisation_id: int, now: datetime | None = None, due: date | None = None
) -> list[Item]:
    """Unacknowledged reports on the organisation's plans (owned or shared), and lookups on
    them that got no report within 12 hours; oldest due first."""
    now = now or utcnow()
    zone = timezone()
    reports = session.scalars(
        select(Report)
        .join(Plan, Plan.id == Report.plan_id)
        .where(visible_to(organisation_id))
        .where(
            ~exists().where(
                FeedbackAcknowledgement.report_id == Report.id,
                FeedbackAcknowledgement.organisation_id == organisation_id,
            )
        )
    ).all()
    items = [
        Item(
            "report", r.plan_id, r.feedback_due, working_days.is_overdue(r.feedback_due, now, zone), report=r
        )
        for r in reports
    ]
    reported = exists().where(Report.lookup_id == Lookup.id, Report.plan_id == LookupResult.plan_id)
    lookups = session.execute(
        select(Lookup, LookupResult.plan_id)
        .join(LookupResult, LookupResult.lookup_id == Lookup.id)
        .join(Plan, Plan.id == LookupResult.plan_id)
        .where(visible_to(organisation_id), Lookup.performed_at <= now - LOOKUP_GRACE, ~reported)
        .where(
            ~exists().where(
                and_(
                    FeedbackAcknowledgement.lookup_id == Lookup.id,
                    FeedbackAcknowledgement.organisation_id == organisation_id,
                )
            )
        )
    ).all()
    closed = closed_days(session)
    for lookup, plan_id in lookups:
        lookup_due = working_days.feedback_due(aware(lookup.performed_at), closed, zone)
        items.append(
            Item(
                "lookup_without_report",
                plan_id,
                lookup_due,
                working_days.is_overdue(lookup_due, now, zone),
                lookup=lookup,
            )
        )
    if due is not None:
        items = [item for item in items if item.feedback_due == due]
    items.sort(key=lambda item: (item.feedback_due, str(item.item_id)))
    return items


def lookup_dict(session: Session, lookup: Lookup) -> dict[str, Any]:
    organisation = session.get(Organisation, lookup.organisation_id)
    user = session.get(User, lookup.user_id)
    return {
        "id": lookup.id,
        "performed_at": aware(lookup.performed_at),
        "incident_ref": lookup.incident_ref,
        "query_kind": lookup.query_kind,
        "organisation": organisation.name if organisation else "",
        "user": user.display_name if user else "",
    }


def item_dict(session: Session, item: Item) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "plan_id": item.plan_id,
        "feedback_due": item.feedback_due,
        "overdue": item.overdue,
        "report": report_dict(session, item.report) if item.report is not None else None,
        "lookup": lookup_dict(session, item.lookup) if item.lookup is not None else None,
    }


class NotFound(Exception):
    pass


def acknowledge(session: Session, user: User, item_id: uuid.UUID, note: str) -> FeedbackAcknowledgement:
    """Mark a report (or a lookup without report) as read and acted on by the user's organisation."""
    report = session.get(Report, item_id)
    lookup = None if report is not None else session.get(Lookup, item_id)
    if report is not None:
        plan_ids = [report.plan_id]
    elif lookup is not None:
        plan_ids = list(
            session.scalars(select(LookupResult.plan_id).where(LookupResult.lookup_id == lookup.id))
        )
    else:
        raise NotFound
    visible = session.scalars(
        select(Plan.id).where(Plan.id.in_(plan_ids), visible_to(user.organisation_id))
    ).first()
    if visible is None:
        audit.record(
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
    return ack


def overdue_items(session: Session, organisation_id: int, now: datetime | None = None) -> list[Item]:
    """What the organisation's coordinator is shown: items past the end of their due day."""
    return [item for item in open_items(session, organisation_id, now) if item.overdue]
