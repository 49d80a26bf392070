"""Reports: what was done during an incident, stored exactly once and never edited (amendments
are appended), and read back as ReportShown."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.core import audit, rules
from registry.core.db import serialise_writes
from registry.core.models import (
    Agreement,
    ClosedDay,
    FeedbackAcknowledgement,
    Gemeente,
    Lookup,
    LookupResult,
    Melding,
    Organisation,
    PlanVersion,
    Report,
    ReportAgreement,
    ReportAmendment,
    User,
)
from registry.core.timeutil import utcnow
from registry.core.vocabulary import AddressRole, Role
from registry.feedback import spoed, working_days
from registry.meldingen import operations as meldingen
from registry.regions import operations as regions
from registry.reports import proposals as proposed
from registry.reports.proposals import ProposalsShown
from registry.tasks import operations as tasks
from registry.webhooks import operations as webhooks

RESPONDER = Role.RESPONDER


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


def spoed_due_at(occurred_at: datetime) -> datetime:
    """A spoedmelding's deadline: SPOED_HOURS after the incident, at any hour of any day."""
    return occurred_at.astimezone(UTC) + timedelta(hours=int(current_app.config["SPOED_HOURS"]))


# --- reports ------------------------------------------------------------------------------------


def _existing(session: Session, user: User, key: str) -> Report | None:
    return session.scalars(
        select(Report).where(Report.created_by_id == user.id, Report.idempotency_key == key)
    ).first()


def _replay(session: Session, user: User, existing: Report, body_hash: str) -> Report:
    """The first report again for a retry with the same key (a read of it, audited)."""
    if existing.request_hash != body_hash:
        raise IdempotencyConflict
    audit.record(
        session, "report_create", "replayed", user=user, role=RESPONDER, object_type="report",
        object_id=existing.id, detail={"incident_ref": existing.incident_ref},
    )  # fmt: skip
    return existing


def _shown_version(
    session: Session, user: User, plan_id: uuid.UUID, lookup_id: uuid.UUID | None
) -> tuple[PlanVersion, uuid.UUID]:
    """The version a lookup of the user's organisation showed, and that lookup: the one named
    (any time after it: a report may follow late), or else the latest within rules.LOOKUP_GRACE.

    A report needs the plan to have been shown: nobody reports on, and so reads the agreements
    of, a plan their organisation did not find. Whether the plan does not exist or was not
    shown is answered alike (the plan is never read before the check), so that the error tells
    nothing about other plans."""
    if lookup_id is not None:
        lookup = session.get(Lookup, lookup_id)
        if lookup is None or lookup.organisation_id != user.organisation_id:
            raise ReportRefused({"lookup_id": ["Uw organisatie heeft geen raadpleging met dit nummer."]})
        version_id = session.scalar(
            select(LookupResult.plan_version_id).where(
                LookupResult.lookup_id == lookup_id, LookupResult.plan_id == plan_id
            )
        )
        if version_id is None:
            raise ReportRefused({"plan_id": ["Deze raadpleging toonde dit handelingskader niet."]})
    else:
        row = session.execute(
            select(LookupResult.plan_version_id, Lookup.id)
            .join(Lookup, Lookup.id == LookupResult.lookup_id)
            .where(
                LookupResult.plan_id == plan_id,
                Lookup.organisation_id == user.organisation_id,
                Lookup.performed_at > utcnow() - rules.LOOKUP_GRACE,
            )
            .order_by(Lookup.performed_at.desc())
            .limit(1)
        ).first()
        if row is None:
            raise ReportRefused(
                {
                    "plan_id": [
                        "Uw organisatie heeft dit handelingskader de afgelopen 12 uur niet geraadpleegd; "
                        "registreer de inzet vanuit de raadpleging."
                    ]
                }
            )
        version_id, lookup_id = row
    version = session.get(PlanVersion, version_id)
    assert version is not None
    return version, lookup_id


def _own_lookup(session: Session, user: User, lookup_id: uuid.UUID | None) -> uuid.UUID | None:
    """A lookup a report without a plan names: one of the organisation's own."""
    if lookup_id is None:
        return None
    lookup = session.get(Lookup, lookup_id)
    if lookup is None or lookup.organisation_id != user.organisation_id:
        raise ReportRefused({"lookup_id": ["Uw organisatie heeft geen raadpleging met dit nummer."]})
    return lookup_id


def _named_gemeente(session: Session, name: str | None) -> Gemeente | None:
    """The gemeente a report names, which must be a known one."""
    if name is None or not name.strip():
        return None
    gemeente = regions.gemeente_named(session, name)
    if gemeente is None:
        raise ReportRefused(
            {"gemeente": ["Deze gemeente kennen wij niet: kies een gemeente uit de lijst van de regio."]}
        )
    return gemeente


def _residence_gemeente(session: Session, user: User, version: PlanVersion | None) -> Gemeente | None:
    """The gemeente of the plan's residence address (its city), among the gemeenten of the
    reporting organisation's region and of the plan owner's region."""
    if version is None:
        return None
    city = next((a.city for a in version.addresses if a.role == AddressRole.RESIDENCE and a.city), None)
    if city is None:
        return None
    owner = session.get(Organisation, version.plan.owner_organisation_id)
    return regions.gemeente_of_city(
        session, city, (user.organisation.region_id, owner.region_id if owner is not None else None)
    )


def melding_for(
    session: Session, incident_ref: str, occurred_at: datetime, plan_id: uuid.UUID | None,
    melding_id: uuid.UUID | None = None, gemeente: Gemeente | None = None,
    default_gemeente: Gemeente | None = None,
) -> Melding:  # fmt: skip
    """The melding a report belongs to: the one it names, or else the nearest with the same
    meldingnummer within rules.MELDING_WINDOW (any organisation's), or else a new one. A melding
    without a plan takes the first plan a report on it names. A gemeente the report names is the
    melding's; without one, a melding without a gemeente takes `default_gemeente` (the plan's
    residence)."""
    if melding_id is not None:
        melding = session.get(Melding, melding_id)
        if melding is None:
            raise ReportRefused({"melding_id": ["Er is geen melding met dit nummer."]})
    else:
        # two reports of one call at once must not make two meldingen (SQLite: BEGIN IMMEDIATE)
        serialise_writes(session)
        near = session.scalars(select(Melding).where(rules.same_melding(incident_ref, occurred_at))).all()
        melding = min(near, key=lambda m: (abs(m.occurred_at - occurred_at), m.created_at), default=None)
        if melding is None:
            melding = Melding(
                id=uuid.uuid4(),
                incident_ref=incident_ref,
                incident_key=rules.melding_key_of(incident_ref),
                occurred_at=occurred_at.astimezone(UTC),
                plan_id=plan_id,
                created_at=utcnow(),
            )
            session.add(melding)
            session.flush()
    if melding.plan_id is None and plan_id is not None:
        melding.plan_id = plan_id
    if gemeente is not None:
        melding.gemeente_id = gemeente.id
    elif melding.gemeente_id is None and default_gemeente is not None:
        melding.gemeente_id = default_gemeente.id
    return melding


def create_report(
    session: Session, user: User, args: dict[str, Any], key: str | None, body_hash: str
) -> tuple[Report, bool]:
    """Store a report once, in its melding. Returns (report, replayed): a retry with the same
    key and body gets the first report back; with another body, IdempotencyConflict.

    With a plan, the plan must have been shown to the organisation (_shown_version) and the
    agreements judged are that version's. Without one, it records a melding about a family
    without a handelingskader: no agreements, and no lookup needed."""
    if key:
        existing = _existing(session, user, key)
        if existing is not None:
            return _replay(session, user, existing, body_hash), True
    if args.get("plan_id") is None:
        return _create(
            session, user, args, key, body_hash, None, _own_lookup(session, user, args.get("lookup_id"))
        )
    version, shown_by = _shown_version(session, user, args["plan_id"], args.get("lookup_id"))
    return _create(session, user, args, key, body_hash, version, shown_by)


def _create(
    session: Session, user: User, args: dict[str, Any], key: str | None, body_hash: str,
    version: PlanVersion | None, shown_by: uuid.UUID | None,
) -> tuple[Report, bool]:  # fmt: skip
    known = {agreement.id for agreement in version.agreements} if version is not None else set()
    unknown = {
        f"agreements.{index}.agreement_id": ["Deze afspraak hoort niet bij het getoonde handelingskader."]
        for index, row in enumerate(args["agreements"])
        if row["agreement_id"] not in known
    }
    if unknown:
        raise ReportRefused(unknown)
    plan_id = version.plan_id if version is not None else None
    named = _named_gemeente(session, args.get("gemeente"))
    melding = melding_for(
        session, args["incident_ref"], args["occurred_at"], plan_id, args.get("melding_id"),
        gemeente=named, default_gemeente=None if named else _residence_gemeente(session, user, version),
    )  # fmt: skip
    report = Report(
        id=uuid.uuid4(),
        melding_id=melding.id,
        plan_id=plan_id,
        plan_version_id=version.id if version is not None else None,
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
        reached_after_minutes=args.get("reached_after_minutes"),
        answered_by=args.get("answered_by") or None,
        needed_mode=args.get("needed_mode"),
        hours_spent=args.get("hours_spent"),
        actions=list(args["actions"]),
        narrative=args["narrative"],
        urgent=bool(args.get("urgent")),
        urgent_reason=((args.get("urgent_reason") or "").strip() or None) if args.get("urgent") else None,
        feedback_due=due_date(session, args["occurred_at"]),
        feedback_due_at=spoed_due_at(args["occurred_at"])
        if rules.is_spoed(args["actions"], bool(args.get("urgent")))
        else None,
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
            proposed.store(session, report, args.get("proposals"))
    except IntegrityError:
        # the same key arrived twice at once: the other request stored it first
        if not key:
            raise
        existing = _existing(session, user, key)
        if existing is None:
            raise
        return _replay(session, user, existing, body_hash), True
    audit.record(
        session,
        "report_create",
        "success",
        user=user,
        role=RESPONDER,
        object_type="report",
        object_id=report.id,
        detail={
            "plan": str(plan_id) if plan_id else None,
            "melding": str(melding.id),
            "incident_ref": report.incident_ref,
            "lookup": str(shown_by) if shown_by else None,
            "spoed": report.feedback_due_at is not None,
            "proposals": bool(args.get("proposals") and any(args["proposals"].values())),
        },
    )
    if args.get("assessment"):
        meldingen.add_with_report(session, user, report, args["assessment"])
    # the follow-up clocks this report starts (Opvolging), in its transaction
    tasks.start_clocks(session, report, melding)
    if report.feedback_due_at is not None:
        spoed.announce(session, report)
    # the organisations' own systems hear of it too (feedback.created, report.urgent)
    webhooks.report_stored(session, report)
    return report, False


def read_report(
    session: Session, user: User, report_id: uuid.UUID | None, action: str = "report_read", kept: bool = False
) -> Report | None:
    """A report of the user's organisation, its reading audited; None (and a kept audit row of
    the attempt) for any other id, answered as not found. `kept`: the reading is audited also
    when the request answers 400 or more (a page shown again with the errors of a form on it)."""
    report = get_own_report(session, user, report_id) if report_id is not None else None
    if report is None:
        audit.record_kept(
            session, action, "not_found", user=user, role=RESPONDER, object_type="report",
            object_id=report_id or "",
        )  # fmt: skip
        return None
    record = audit.record_kept if kept else audit.record
    record(session, action, "success", user=user, role=RESPONDER, object_type="report", object_id=report.id)
    return report


def get_own_report(session: Session, user: User, report_id: uuid.UUID) -> Report | None:
    """A report recorded by the user's organisation."""
    report = session.get(Report, report_id)
    if report is None or report.organisation_id != user.organisation_id:
        return None
    return report


def report_of_lookup(
    session: Session, user: User, lookup_id: uuid.UUID | None, plan_id: uuid.UUID | None
) -> Report | None:
    """The report the user's organisation stored after this lookup, on this plan (None: the
    melding without one), the first if there are several; None when none is stored. Reopening
    the report form of a lookup shows this report instead of an empty form."""
    if lookup_id is None:
        return None
    on_plan = Report.plan_id.is_(None) if plan_id is None else Report.plan_id == plan_id
    return session.scalars(
        select(Report)
        .where(Report.lookup_id == lookup_id, Report.organisation_id == user.organisation_id, on_plan)
        .order_by(Report.created_at, Report.id)
        .limit(1)
    ).first()


def same_submission(report: Report, key: str | None, body_hash: str) -> bool:
    """Whether a form sent again is the one that stored `report` (same key, same content): then
    create_report answers it with that report (a replay), and stores nothing."""
    return key is not None and report.idempotency_key == key and report.request_hash == body_hash


@dataclass(frozen=True, slots=True)
class OwnerShown:
    """Who to call back about a report on a plan: the regiehouder of the version reported on."""

    name: str
    organisation: str
    phone: str


def owner_of(session: Session, report: Report) -> OwnerShown | None:
    """The regiehouder (name, organisation, work phone) of the plan version the report judged;
    None for a melding without a handelingskader. The caller has read the report (read_report)."""
    if report.plan_version_id is None:
        return None
    version = session.get(PlanVersion, report.plan_version_id)
    if version is None:
        return None
    return OwnerShown(version.owner_name, version.plan.owner_organisation.name, version.owner_phone)


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


@dataclass(frozen=True)
class AgreementShown:
    """The agreement a report judged, as the inbox shows it."""

    position: int
    trigger: str
    action: str


# The feedback read path: Core statements built once, on table columns (no ORM row processing),
# only the columns shown; an inbox holds hundreds of items and the ORM, per item, took seconds
# (docs/performance.md: building a select() and the ORM cost more than the queries).
_REPORT = Report.__table__.c
_OUTCOME = ReportAgreement.__table__.c
_AMENDMENT = ReportAmendment.__table__.c
_AGREEMENT = Agreement.__table__.c
_USER = User.__table__.c
_ORGANISATION = Organisation.__table__.c
_ACKNOWLEDGEMENT = FeedbackAcknowledgement.__table__.c

_REPORTS = (
    select(
        _REPORT.id,
        _REPORT.melding_id,
        _REPORT.plan_id,
        _REPORT.lookup_id,
        _REPORT.incident_ref,
        _REPORT.occurred_at,
        _REPORT.mode,
        _REPORT.responders,
        _REPORT.violence_type,
        _REPORT.household_type,
        _REPORT.care_involvement,
        _REPORT.mental_health_service,
        _REPORT.reached_after_minutes,
        _REPORT.answered_by,
        _REPORT.needed_mode,
        _REPORT.hours_spent,
        _REPORT.actions,
        _REPORT.narrative,
        _REPORT.urgent,
        _REPORT.urgent_reason,
        _REPORT.feedback_due,
        _REPORT.feedback_due_at,
        _REPORT.created_at,
        _USER.display_name.label("reporter_name"),
        _USER.phone.label("reporter_phone"),
        _ORGANISATION.name.label("organisation_name"),
        _ORGANISATION.phone.label("organisation_phone"),
    )
    .select_from(Report.__table__)
    .outerjoin(User.__table__, _USER.id == _REPORT.created_by_id)
    .outerjoin(Organisation.__table__, _ORGANISATION.id == _REPORT.organisation_id)
    .where(_REPORT.id.in_(bindparam("ids", expanding=True)))
)
_OUTCOMES = (
    select(
        _OUTCOME.report_id,
        _OUTCOME.agreement_id,
        _OUTCOME.outcome,
        _OUTCOME.note,
        _AGREEMENT.position,
        _AGREEMENT.trigger,
        _AGREEMENT.action,
    )
    .select_from(ReportAgreement.__table__)
    .outerjoin(Agreement.__table__, _AGREEMENT.id == _OUTCOME.agreement_id)
    .where(_OUTCOME.report_id.in_(bindparam("ids", expanding=True)))
    .order_by(_OUTCOME.report_id, _OUTCOME.agreement_id)
)
_AMENDMENTS = (
    select(_AMENDMENT.report_id, _AMENDMENT.note, _AMENDMENT.created_at, _USER.display_name)
    .select_from(ReportAmendment.__table__)
    .outerjoin(User.__table__, _USER.id == _AMENDMENT.created_by_id)
    .where(_AMENDMENT.report_id.in_(bindparam("ids", expanding=True)))
    .order_by(_AMENDMENT.created_at, _AMENDMENT.id)
)
_ACKNOWLEDGEMENTS = (
    select(
        _ACKNOWLEDGEMENT.report_id,
        _ORGANISATION.name,
        _ACKNOWLEDGEMENT.note,
        _ACKNOWLEDGEMENT.acknowledged_at,
        _USER.display_name,
        func.coalesce(_USER.phone, _ORGANISATION.phone),
    )
    .select_from(FeedbackAcknowledgement.__table__)
    .join(Organisation.__table__, _ORGANISATION.id == _ACKNOWLEDGEMENT.organisation_id)
    .join(User.__table__, _USER.id == _ACKNOWLEDGEMENT.user_id)
    .where(_ACKNOWLEDGEMENT.report_id.in_(bindparam("ids", expanding=True)))
    .order_by(_ACKNOWLEDGEMENT.acknowledged_at, _ACKNOWLEDGEMENT.id)
)
# ids per IN list: below SQLite's and PostgreSQL's limits on bound parameters, however many items
CHUNK = 900


def chunks(ids: list[uuid.UUID]) -> list[list[uuid.UUID]]:
    return [ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)]


@dataclass(frozen=True, slots=True)
class OutcomeShown:
    """How the responder judged one agreement of the plan they were shown."""

    agreement_id: int
    outcome: str
    note: str
    agreement: AgreementShown | None  # None: no longer found (the plan's data was purged)


@dataclass(frozen=True, slots=True)
class AmendmentShown:
    note: str
    created_at: datetime
    by: str


@dataclass(frozen=True, slots=True)
class AcknowledgementShown:
    """An organisation that heard of a report read it, and what it picks up (its note): the
    answer that goes back to the organisation that reported, and to nobody else."""

    organisation: str
    note: str
    acknowledged_at: datetime
    # who answered, and the number to call them back on (their work phone, else their
    # organisation's): the page Teruggekoppeld's "Terugbellen"
    by: str = ""
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class ReportShown:
    """A report as ReportSchema and the pages read it, with who to call back."""

    id: uuid.UUID
    melding_id: uuid.UUID
    plan_id: uuid.UUID | None  # None: a melding without a handelingskader
    lookup_id: uuid.UUID | None
    incident_ref: str
    occurred_at: datetime
    mode: str
    responders: list[str]
    violence_type: str | None
    household_type: str | None
    care_involvement: str | None
    mental_health_service: str | None
    reached_after_minutes: int | None
    answered_by: str | None
    needed_mode: str | None
    hours_spent: float | None
    agreements: list[OutcomeShown]
    actions: list[str]
    narrative: str
    urgent: bool
    urgent_reason: str | None
    feedback_due: date
    feedback_due_at: datetime | None  # a spoedmelding's deadline; None for every other report
    created_at: datetime
    organisation: str
    reported_by: str
    call_back: str | None
    amendments: list[AmendmentShown]
    # the answers of the organisations that heard of it: filled only for the organisation that
    # reported (own_report_record, answered_reports), never in what the others are shown
    acknowledgements: list[AcknowledgementShown] = field(default_factory=list)
    # the agreements and contacts proposed for the plan, with the owners' decision; None: none
    # proposed. A decline's reason only for the organisation that reported (own_report_record)
    proposals: ProposalsShown | None = None

    @property
    def spoed(self) -> bool:
        return self.feedback_due_at is not None


def report_records(
    session: Session, report_ids: list[uuid.UUID], own: bool = False
) -> dict[uuid.UUID, ReportShown]:
    """Reports by id: six queries per chunk of ids, however many reports. `own`: for the
    organisation that recorded them (a decline's reason is shown only to it)."""
    found: dict[uuid.UUID, ReportShown] = {}
    for chunk in chunks(report_ids):
        outcomes: dict[uuid.UUID, list[tuple[int, OutcomeShown]]] = {}
        for report_id, agreement_id, outcome, note, position, trigger, action in session.execute(
            _OUTCOMES, {"ids": chunk}
        ):
            shown = AgreementShown(position, trigger, action) if position is not None else None
            # in the plan's order; one no longer found first
            outcomes.setdefault(report_id, []).append(
                (position or 0, OutcomeShown(agreement_id, outcome, note, shown))
            )
        amendments: dict[uuid.UUID, list[AmendmentShown]] = {}
        for report_id, note, created_at, by in session.execute(_AMENDMENTS, {"ids": chunk}):
            amendments.setdefault(report_id, []).append(AmendmentShown(note, created_at, by or ""))
        proposals = proposed.proposals_of(session, chunk, with_reason=own)
        for row in session.execute(_REPORTS, {"ids": chunk}):
            judged = sorted(outcomes.get(row.id, []), key=lambda pair: pair[0])
            found[row.id] = ReportShown(
                id=row.id,
                melding_id=row.melding_id,
                plan_id=row.plan_id,
                lookup_id=row.lookup_id,
                incident_ref=row.incident_ref,
                occurred_at=row.occurred_at,
                mode=row.mode,
                responders=list(row.responders),
                violence_type=row.violence_type,
                household_type=row.household_type,
                care_involvement=row.care_involvement,
                mental_health_service=row.mental_health_service,
                reached_after_minutes=row.reached_after_minutes,
                answered_by=row.answered_by,
                needed_mode=row.needed_mode,
                hours_spent=row.hours_spent,
                agreements=[outcome for _position, outcome in judged],
                actions=list(row.actions),
                narrative=row.narrative,
                urgent=bool(row.urgent),
                urgent_reason=row.urgent_reason,
                feedback_due=row.feedback_due,
                feedback_due_at=row.feedback_due_at,
                created_at=row.created_at,
                organisation=row.organisation_name or "",
                reported_by=row.reporter_name or "",
                call_back=row.reporter_phone or row.organisation_phone,
                amendments=amendments.get(row.id, []),
                proposals=proposals.get(row.id),
            )
    return found


def report_record(session: Session, report: Report) -> ReportShown:
    """One report as the schemas and pages read it."""
    session.flush()  # Core statements do not autoflush: a report just stored or amended counts
    return report_records(session, [report.id])[report.id]


def acknowledgements_of(
    session: Session, report_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[AcknowledgementShown]]:
    """Who acknowledged each report, with their note, earliest first: one query per chunk."""
    found: dict[uuid.UUID, list[AcknowledgementShown]] = {}
    for chunk in chunks(report_ids):
        for report_id, organisation, note, acknowledged_at, by, phone in session.execute(
            _ACKNOWLEDGEMENTS, {"ids": chunk}
        ):
            found.setdefault(report_id, []).append(
                AcknowledgementShown(organisation, note or "", acknowledged_at, by or "", phone)
            )
    return found


def own_report_record(session: Session, report: Report) -> ReportShown:
    """A report as the organisation that recorded it reads it: with the answers of those who
    heard of it. Callers hand it only to that organisation (read_report checks it)."""
    session.flush()
    shown = report_records(session, [report.id], own=True)[report.id]
    return replace(shown, acknowledgements=acknowledgements_of(session, [report.id]).get(report.id, []))


#: how far back the page Teruggekoppeld looks
ANSWERED_DAYS = 30


def answered_reports(session: Session, user: User, now: datetime | None = None) -> list[ReportShown]:
    """The reports of the user's organisation whose incident was in the last ANSWERED_DAYS days,
    newest first, each with the answers of the organisations that heard of it (the page
    Teruggekoppeld); the reading is audited with every report shown."""
    since = (now or utcnow()) - timedelta(days=ANSWERED_DAYS)
    ids = list(
        session.scalars(
            select(Report.id)
            .where(Report.organisation_id == user.organisation_id, Report.occurred_at >= since)
            .order_by(Report.occurred_at.desc(), Report.id)
        )
    )
    records = report_records(session, ids, own=True)
    answers = acknowledgements_of(session, ids)

    audit.record(
        session, "reports_answered", "success", user=user, role=RESPONDER, object_type="report",
        detail={"reports": [str(report_id) for report_id in ids]},
    )  # fmt: skip
    return [replace(records[report_id], acknowledgements=answers.get(report_id, [])) for report_id in ids]
