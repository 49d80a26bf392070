"""The rules of handelingskaders: who sees a plan, immutable versions, withdraw, share, expire."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import Select, exists, func, literal, select, union_all, update
from sqlalchemy.orm import Session

from registry.core import audit, rules
from registry.core.models import (
    MAX_ID,
    Address,
    Agreement,
    Contact,
    Lookup,
    LookupResult,
    MachineClient,
    Measure,
    Organisation,
    Person,
    Plan,
    PlanShare,
    PlanVersion,
    Signal,
    SignalResult,
    User,
)
from registry.core.signals import mark_plan_changed
from registry.core.timeutil import utcnow
from registry.core.vocabulary import AccessKind, PlanStatus, Role
from registry.plans import availability
from registry.webhooks import operations as webhooks

ROLE = Role.REGISTRANT
REMINDER_DAYS = (14, 3)
# a contact's number not tested for this long is brought to the owner's attention
TESTED_MONTHS = 3


class VersionConflict(Exception):
    """The plan changed since the version the editor started from."""

    def __init__(self, current: int) -> None:
        super().__init__(f"current version is {current}")
        self.current = current


class NotEditable(Exception):
    """A withdrawn plan is final, and so is one whose data the retention purge removed."""


class NotOwner(Exception):
    """Sharing is the owning organisation's decision: an organisation the plan is shared with
    neither shares it onward nor ends the owner's shares."""

    def __init__(self) -> None:
        super().__init__(
            "Alleen de regiehouder, de organisatie die het handelingskader beheert, "
            "kan het delen of het delen beëindigen."
        )


@dataclass
class Warning_:
    field: str
    code: str
    message: str


@dataclass
class PlanView:
    """A plan together with the version shown: what the schemas and templates read."""

    plan: Plan
    version: PlanVersion
    warnings: list[Warning_] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        plan, version = self.plan, self.version
        return {
            "id": plan.id,
            "version": version.version,
            "status": plan.status,
            "title": version.title,
            "summary": version.summary,
            "valid_from": version.valid_from,
            "valid_until": version.valid_until,
            "family_profiles": list(version.family_profiles),
            "family_profile": version.family_profiles[0] if version.family_profiles else None,
            "risk_signals": list(version.risk_signals),
            "owner": {
                "organisation": plan.owner_organisation.name,
                "name": version.owner_name,
                "phone": version.owner_phone,
            },
            "addresses": version.addresses,
            "persons": version.persons,
            "agreements": version.agreements,
            "contacts": version.contacts,
            "measures": version.measures,
        }


# --- who sees what ------------------------------------------------------------------------------


def visible_plans(user: User, status: str | None = None) -> Select[Plan]:
    query = select(Plan).where(rules.visible_to(user.organisation_id))
    if status:
        query = query.where(Plan.status == status)
    return query.order_by(Plan.valid_until, Plan.id)


def get_visible(session: Session, user: User, plan_id: uuid.UUID) -> Plan | None:
    query = select(Plan).where(Plan.id == plan_id, rules.visible_among(user.organisation_id))
    return session.scalars(query).first()


def view(session: Session, plan: Plan) -> PlanView:
    """The plan with its current version."""
    return PlanView(plan, plan.current)


# --- writing ------------------------------------------------------------------------------------


def _version(plan: Plan, number: int, args: dict[str, Any], user: User) -> PlanVersion:
    return PlanVersion(
        plan_id=plan.id,
        version=number,
        title=args["title"],
        summary=args["summary"],
        valid_from=args["valid_from"],
        valid_until=args["valid_until"],
        family_profiles=list(args.get("family_profiles") or []),
        risk_signals=list(args.get("risk_signals") or []),
        owner_name=args["owner"]["name"],
        owner_phone=args["owner"]["phone"],
        created_by_id=user.id,
        addresses=[Address(**row) for row in args["addresses"]],
        persons=[Person(**row) for row in args["persons"]],
        agreements=[Agreement(position=i, **row) for i, row in enumerate(args["agreements"], start=1)],
        contacts=[Contact(**row) for row in args["contacts"]],
        measures=[Measure(**row) for row in args.get("measures") or []],
    )


def warnings_for(args: dict[str, Any]) -> list[Warning_]:
    """Advice that does not block saving. "One is none" counts the contacts reachable the
    whole night, every night (22.00-09.00): when it escalates, it is mostly then."""
    found = []
    at_night = [
        contact
        for contact in args.get("contacts") or []
        if availability.reachable_all_night(
            (contact.get("availability") if isinstance(contact, dict) else contact.availability) or []
        )
    ]
    if len(at_night) < 2:
        found.append(
            Warning_(
                "contacts",
                "one_is_none",
                "Minder dan twee contactpersonen zijn elke nacht (22.00–09.00 uur) bereikbaar: "
                "één is geen. Voeg een achtervang toe die ook 's nachts bereikbaar is.",
            )
        )
    return found


def version_warnings(version: PlanVersion, today: date) -> list[Warning_]:
    """What the plan page asks of its owner: "one is none", numbers not tested for
    TESTED_MONTHS months, and what versions from before these questions lack."""
    found = warnings_for({"contacts": version.contacts})
    untested = untested_contacts(version, today)
    if untested:
        names = ", ".join(contact.name for contact in untested)
        found.append(
            Warning_(
                "contacts",
                "untested",
                f"Test de nummers: {names} — niet getest in de laatste {TESTED_MONTHS} maanden.",
            )
        )
    if any(person.do_not_inform and not person.do_not_inform_reason for person in version.persons):
        found.append(
            Warning_(
                "persons",
                "reason_missing",
                "Schrijf bij elke persoon met Niet informeren op waarom: wijzig het handelingskader.",
            )
        )
    return found


def untested_contacts(version: PlanVersion, today: date) -> list[Contact]:
    """The contacts whose number was not tested in the last TESTED_MONTHS months (or never)."""
    since = today - relativedelta(months=TESTED_MONTHS)
    return [contact for contact in version.contacts if contact.tested_on is None or contact.tested_on < since]


def create_plan(session: Session, user: User, args: dict[str, Any]) -> PlanView:
    plan = Plan(
        id=uuid.uuid4(),
        owner_organisation_id=user.organisation_id,
        status=PlanStatus.ACTIVE,
        current_version=1,
        valid_until=args["valid_until"],
    )
    session.add(plan)
    session.flush()
    version = _version(plan, 1, args, user)
    session.add(version)
    session.flush()
    audit.record(
        session,
        "plan_create",
        "success",
        user=user,
        role=ROLE,
        object_type="plan",
        object_id=plan.id,
        detail={"version": 1},
    )
    mark_plan_changed(session, plan.id)
    return PlanView(plan, version, warnings_for(args))


def update_plan(session: Session, user: User, plan: Plan, args: dict[str, Any], expected: int) -> PlanView:
    """A new immutable version, only if nobody saved one since `expected`."""
    if plan.status == PlanStatus.WITHDRAWN or plan.purged_at is not None:
        raise NotEditable
    # compare-and-set in the database: of two editors racing from the same version, one wins
    result = session.execute(
        update(Plan)
        .where(
            Plan.id == plan.id,
            Plan.current_version == expected,
            Plan.status != PlanStatus.WITHDRAWN,
            Plan.purged_at.is_(None),
        )
        .values(
            current_version=expected + 1,
            valid_until=args["valid_until"],
            status=PlanStatus.ACTIVE,
            expired_at=None,
            reminded_14_at=None,
            reminded_3_at=None,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(plan)
        audit.record_kept(
            session,
            "plan_update",
            "conflict",
            user=user,
            role=ROLE,
            object_type="plan",
            object_id=plan.id,
            detail={"expected": expected},
        )
        raise VersionConflict(plan.current_version)
    session.refresh(plan)
    version = _version(plan, expected + 1, args, user)
    session.add(version)
    session.flush()
    audit.record(
        session,
        "plan_update",
        "success",
        user=user,
        role=ROLE,
        object_type="plan",
        object_id=plan.id,
        detail={"version": expected + 1},
    )
    mark_plan_changed(session, plan.id)
    return PlanView(plan, version, warnings_for(args))


def withdraw_plan(session: Session, user: User, plan: Plan, reason: str) -> PlanView:
    # a purged plan keeps no new text either: it is final as it is
    if plan.status != PlanStatus.WITHDRAWN and plan.purged_at is None:
        plan.status = PlanStatus.WITHDRAWN
        plan.withdrawn_at = utcnow()
        plan.withdrawn_reason = reason
        plan.updated_at = utcnow()
        mark_plan_changed(session, plan.id)
    session.flush()
    audit.record(
        session,
        "plan_withdraw",
        "success",
        user=user,
        role=ROLE,
        object_type="plan",
        object_id=plan.id,
    )
    return view(session, plan)


def organisation_by_id(session: Session, organisation_id: int) -> Organisation | None:
    # an id past any column names no organisation (and the database would refuse to look)
    return session.get(Organisation, organisation_id) if 0 < organisation_id <= MAX_ID else None


def organisation_named(session: Session, name: str) -> Organisation | None:
    # no name holds NUL, and PostgreSQL refuses it in a query (a 500 instead of a 404)
    if "\x00" in name:
        return None
    return session.scalars(select(Organisation).where(Organisation.name == name)).first()


def versions_newest_first(session: Session, plan: Plan) -> list[PlanVersion]:
    return list(
        session.scalars(
            select(PlanVersion).where(PlanVersion.plan_id == plan.id).order_by(PlanVersion.version.desc())
        )
    )


def share_candidates(session: Session, plan: Plan) -> list[Organisation]:
    """The organisations the plan could be shared with: neither its owner nor a current share."""
    taken = {plan.owner_organisation_id} | {share.organisation_id for share in plan.shares}
    organisations = session.scalars(select(Organisation).order_by(Organisation.name))
    return [organisation for organisation in organisations if organisation.id not in taken]


def may_share(user: User, plan: Plan) -> bool:
    """Only the owning organisation shares the plan and ends its shares."""
    return plan.owner_organisation_id == user.organisation_id


def require_owner(session: Session, user: User, plan: Plan, action: str) -> None:
    """NotOwner, after an audit row of the refused attempt, unless the user's organisation owns
    the plan (called first, so that the answer does not depend on what else was asked)."""
    if not may_share(user, plan):
        audit.record_kept(
            session, action, "refused", user=user, role=ROLE, object_type="plan", object_id=plan.id
        )
        raise NotOwner


def share_plan(session: Session, user: User, plan: Plan, organisation: Organisation) -> None:
    require_owner(session, user, plan, "plan_share")
    if organisation.id != plan.owner_organisation_id and all(
        share.organisation_id != organisation.id for share in plan.shares
    ):
        plan.shares.append(PlanShare(organisation_id=organisation.id))
    session.flush()
    audit.record(
        session,
        "plan_share",
        "success",
        user=user,
        role=ROLE,
        object_type="plan",
        object_id=plan.id,
        detail={"organisation": organisation.name},
    )


def unshare_plan(session: Session, user: User, plan: Plan, organisation_id: int) -> None:
    require_owner(session, user, plan, "plan_unshare")
    plan.shares = [share for share in plan.shares if share.organisation_id != organisation_id]
    session.flush()
    audit.record(
        session,
        "plan_unshare",
        "success",
        user=user,
        role=ROLE,
        object_type="plan",
        object_id=plan.id,
        detail={"organisation_id": organisation_id},
    )


def read_plan(session: Session, user: User, plan: Plan, action: str = "plan_read") -> PlanView:
    """Every read of a plan's content leaves an audit row (NEN 7513)."""
    shown = view(session, plan)
    audit.record(
        session,
        action,
        "success",
        user=user,
        role=ROLE,
        object_type="plan",
        object_id=plan.id,
        detail={"version": shown.version.version},
    )
    return shown


def record_refused(session: Session, user: User, action: str, plan_id: object) -> None:
    """An attempt on a plan the user may not see: logged (however the request ends), answered
    as 'not found'."""
    audit.record_kept(
        session, action, "not_found", user=user, role=ROLE, object_type="plan", object_id=plan_id
    )


# --- the access log -----------------------------------------------------------------------------

#: lookups shown per page of the access log on the plan page
ACCESS_LOG_PAGE = 25


@dataclass(frozen=True)
class AccessLogEntry:
    """One lookup that showed the plan: who, from which organisation, for which incident, when,
    and what they searched on (a QueryKind code). Or (kind `signal`) a signal to a control room's
    system that found the plan and that no lookup opened yet: `user` is then the system's name;
    it said only that a handelingskader is there (signaal, geen inzage)."""

    at: datetime
    organisation: str
    user: str
    incident_ref: str
    query_kind: str
    kind: str = AccessKind.LOOKUP
    id: uuid.UUID | None = None  # the lookup's or the signal's: the log's order, and its cursor


@dataclass(frozen=True)
class AccessLog:
    """A page of the access log, newest first, and how many lookups there are in all."""

    entries: list[AccessLogEntry]
    total: int
    page: int
    per_page: int | None

    @property
    def older(self) -> int:
        """Lookups before the ones on this page ("nog 37 eerdere raadplegingen")."""
        before = (self.page - 1) * (self.per_page or 0)
        return max(self.total - before - len(self.entries), 0)

    @property
    def newer(self) -> int:
        return min((self.page - 1) * (self.per_page or 0), self.total)


def access_log_entries(
    session: Session, plan_id: uuid.UUID, limit: int | None = None, offset: int = 0
) -> tuple[list[AccessLogEntry], int]:
    """Every lookup that showed this plan, and every signal that found it and that no lookup
    showing it opened, newest first (a page of them with `limit`), and their number. Lookups that
    found nothing are not in it: they showed no plan."""
    shown = select(LookupResult.lookup_id).where(LookupResult.plan_id == plan_id).distinct()
    lookups = (
        select(
            Lookup.performed_at.label("at"),
            Organisation.name.label("organisation"),
            User.display_name.label("user"),
            Lookup.incident_ref,
            Lookup.query_kind,
            literal(AccessKind.LOOKUP.value).label("kind"),
            Lookup.id.label("id"),
        )
        .join(Organisation, Organisation.id == Lookup.organisation_id)
        .join(User, User.id == Lookup.user_id)
        .where(Lookup.id.in_(shown))
    )
    # opened: a lookup from the signal that showed this plan (its opening is in the log instead)
    opened = (
        select(Lookup.id)
        .join(LookupResult, LookupResult.lookup_id == Lookup.id)
        .where(Lookup.signal_id == Signal.id, LookupResult.plan_id == plan_id)
    )
    unopened = (
        select(
            Signal.performed_at.label("at"),
            Organisation.name.label("organisation"),
            MachineClient.name.label("user"),
            Signal.incident_ref,
            Signal.query_kind,
            literal(AccessKind.SIGNAL.value).label("kind"),
            Signal.id.label("id"),
        )
        .join(Organisation, Organisation.id == Signal.organisation_id)
        .join(MachineClient, MachineClient.id == Signal.client_id)
        .where(
            Signal.id.in_(select(SignalResult.signal_id).where(SignalResult.plan_id == plan_id)),
            ~exists(opened),
        )
    )
    log = union_all(lookups, unopened).subquery()
    query = (
        select(
            log.c.at,
            log.c.organisation,
            log.c.user,
            log.c.incident_ref,
            log.c.query_kind,
            log.c.kind,
            log.c.id,
        )
        .order_by(log.c.at.desc(), log.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    entries = [AccessLogEntry(*row) for row in session.execute(query)]
    if limit is None and offset == 0:
        return entries, len(entries)
    total = session.scalar(select(func.count()).select_from(log)) or 0
    return entries, total


def read_access_log(
    session: Session, user: User, plan: Plan, page: int = 1, per_page: int | None = None
) -> AccessLog:
    """The plan's access log for its owners (the plan page, GET /plans/{id}/access-log); the
    reading is an audit row of its own, naming how many lookups it showed."""
    page = max(page, 1)
    entries, total = access_log_entries(session, plan.id, per_page, (page - 1) * per_page if per_page else 0)
    log = AccessLog(entries, total, page if per_page else 1, per_page)
    audit.record(
        session,
        "plan_access_log",
        "success",
        user=user,
        role=ROLE,
        object_type="plan",
        object_id=plan.id,
        detail={"shown": len(entries), "total": total, "page": log.page},
    )
    return log


# --- expiry -------------------------------------------------------------------------------------


@dataclass
class Reminder:
    plan: Plan
    title: str
    days: int


def expire_plans(session: Session, today: date) -> list[Plan]:
    """Plans whose last valid day lies before today become expired."""
    expired = list(
        session.scalars(select(Plan).where(Plan.status == PlanStatus.ACTIVE, Plan.valid_until < today))
    )
    for plan in expired:
        plan.status = PlanStatus.EXPIRED
        plan.expired_at = utcnow()
        mark_plan_changed(session, plan.id)
        audit.record(
            session,
            "plan_expire",
            "success",
            username="system",
            object_type="plan",
            object_id=plan.id,
        )
    session.flush()
    return expired


def due_reminders(session: Session, today: date) -> list[Reminder]:
    """Active plans reaching 14 or 3 days before expiry that were not reminded at that mark."""
    reminders = []
    for days in REMINDER_DAYS:
        column = Plan.reminded_14_at if days == 14 else Plan.reminded_3_at
        plans = session.scalars(
            select(Plan).where(
                Plan.status == PlanStatus.ACTIVE,
                Plan.valid_until <= today + timedelta(days=days),
                Plan.valid_until >= today,
                column.is_(None),
            )
        )
        for plan in plans:
            if days == 14 and plan.valid_until <= today + timedelta(days=3):
                continue  # the 3-day reminder covers it
            setattr(plan, column.key, utcnow())
            reminders.append(Reminder(plan, plan.current.title, days))
            # the owner's own system is told in the same transaction as the mark (plan.expiring)
            webhooks.plan_expiring(session, plan, days)
    session.flush()
    return reminders


def expiring_soon(session: Session, user: User, today: date, days: int = 14) -> list[PlanView]:
    """For the home page: the user's active plans that end within `days`."""
    plans = session.scalars(
        visible_plans(user, PlanStatus.ACTIVE).where(Plan.valid_until <= today + timedelta(days=days))
    )
    return [view(session, plan) for plan in plans]


def with_untested_numbers(session: Session, user: User, today: date) -> list[tuple[uuid.UUID, str]]:
    """For the home page: the user's active plans (id, title) with a contact whose number was
    not tested in the last TESTED_MONTHS months."""
    since = today - relativedelta(months=TESTED_MONTHS)
    untested = exists().where(
        Contact.plan_version_id == PlanVersion.id,
        (Contact.tested_on.is_(None)) | (Contact.tested_on < since),
    )
    query = (
        select(Plan.id, PlanVersion.title)
        .join(PlanVersion, rules.is_current_version())
        .where(rules.visible_to(user.organisation_id), Plan.status == PlanStatus.ACTIVE, untested)
        .order_by(PlanVersion.title, Plan.id)
    )
    return [(plan_id, title) for plan_id, title in session.execute(query)]


def plan_counts(
    session: Session, organisation_id: int, plan_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, int]]:
    """Per plan: how often the control room found it, and the reports this organisation has
    not acknowledged yet (what the list shows next to each plan)."""
    from registry.core.models import FeedbackAcknowledgement, LookupResult, Report

    counts: dict[uuid.UUID, dict[str, int]] = {pid: {"lookups": 0, "open_feedback": 0} for pid in plan_ids}
    if not plan_ids:
        return counts
    for plan_id, number in session.execute(
        select(LookupResult.plan_id, func.count(func.distinct(LookupResult.lookup_id)))
        .where(LookupResult.plan_id.in_(plan_ids))
        .group_by(LookupResult.plan_id)
    ):
        counts[plan_id]["lookups"] = number
    acknowledged = exists().where(
        FeedbackAcknowledgement.report_id == Report.id,
        FeedbackAcknowledgement.organisation_id == organisation_id,
    )
    for reported_on, number in session.execute(
        select(Report.plan_id, func.count(Report.id))
        .where(Report.plan_id.in_(plan_ids), ~acknowledged)
        .group_by(Report.plan_id)
    ):
        assert reported_on is not None  # one of plan_ids
        counts[reported_on]["open_feedback"] = number
    return counts
