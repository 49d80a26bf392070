"""Follow-up tasks (Opvolging): the practice's clocks, made in the transaction of the report
that starts them, listed to the organisation that owns them, and marked done with a note.

- **Contact met gezin binnen 48 uur**: a melding that was not acute (none of its reports is a
  spoedmelding: no arrest, no restraining order, not marked urgent; an acute one is due within
  hours as a spoedmelding already) asks the family's own professionals to contact the family
  within 48 hours of the incident: the plan's owner organisation, or for a melding without a
  handelingskader the Veilig Thuis of the reporting organisation's region.
- **Overdracht binnen 24 uur**: a report by a crisis team (an organisation of kind `cit`) asks
  that team to hand over to the family's professionals within 24 hours of the incident.
- **Einde huisverbod**: a temporary restraining order ends 10 days after the incident; the owner
  (as for the contact) is reminded 2 working days before the day it ends.

One task per melding, kind and organisation: a second report on the same melding starts no
second clock. The durations are the practice's own (the law's ten days, the protocol's 24 and
48 hours), not settings.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from registry.core import audit, rules
from registry.core.db import serialise_writes
from registry.core.models import (
    ClosedDay,
    FollowUpTask,
    Melding,
    Organisation,
    Plan,
    PlanVersion,
    Region,
    Report,
    User,
)
from registry.core.timeutil import utcnow
from registry.core.vocabulary import Action, OrganisationKind, Role, TaskKind
from registry.feedback import working_days

#: who is shown an organisation's tasks and marks them done: its registrants (Terugkoppeling)
#: and its responders (a crisis team hands over: Opvolging)
ROLES = (Role.REGISTRANT, Role.RESPONDER)

CONTACT_WITHIN = timedelta(hours=48)
HANDOVER_WITHIN = timedelta(hours=24)
RESTRAINING_ORDER_LASTS = timedelta(days=10)
#: the owner is reminded of a restraining order's end this many working days before its last day
REMINDER_WORKING_DAYS = 2

#: what a task of a melding without a handelingskader shows in place of the plan's title
WITHOUT_PLAN = "Melding zonder handelingskader"


def _timezone() -> str:
    return str(current_app.config["TIMEZONE"])


def _closed_days(session: Session) -> set[date]:
    return set(session.scalars(select(ClosedDay.day_on)))


def reminder_at(ends_at: datetime, closed: set[date], timezone: str) -> datetime:
    """The start of the day REMINDER_WORKING_DAYS working days before the local day `ends_at`
    falls on: a restraining order that ends on Monday is reminded of on Thursday."""
    last_day = working_days.local_date(ends_at, timezone)
    day = working_days.working_days_before(last_day, REMINDER_WORKING_DAYS, closed)
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(timezone))


# --- made with the report -----------------------------------------------------------------------


def follow_up_owner(session: Session, report: Report, melding: Melding) -> int | None:
    """The organisation that follows a melding up with the family: the owner of its plan, or
    for a melding without one the Veilig Thuis of the reporting organisation's region (None
    when the region names none: the melding reaches nobody, and nobody owns its follow-up)."""
    plan_id = report.plan_id or melding.plan_id
    if plan_id is not None:
        return session.scalar(select(Plan.owner_organisation_id).where(Plan.id == plan_id))
    return session.scalar(
        select(Region.veilig_thuis_organisation_id)
        .join(Organisation, Organisation.region_id == Region.id)
        .where(Organisation.id == report.organisation_id)
    )


def _is_acute(session: Session, melding_id: uuid.UUID) -> bool:
    """A melding is acute when one of its reports is a spoedmelding (rules.is_spoed)."""
    spoed = exists().where(Report.melding_id == melding_id, Report.feedback_due_at.is_not(None))
    return bool(session.scalar(select(spoed)))


def start_clocks(session: Session, report: Report, melding: Melding) -> list[FollowUpTask]:
    """The tasks a report just stored (and flushed) starts, in its transaction: those its
    melding does not have yet."""
    wanted: list[tuple[str, int, datetime, datetime | None]] = []
    owner = follow_up_owner(session, report, melding)
    if owner is not None and not _is_acute(session, melding.id):
        wanted.append((TaskKind.CONTACT_FAMILY, owner, report.occurred_at + CONTACT_WITHIN, None))
    reporter = session.get(Organisation, report.organisation_id)
    if reporter is not None and reporter.kind == OrganisationKind.CIT:
        wanted.append((TaskKind.HANDOVER, reporter.id, report.occurred_at + HANDOVER_WITHIN, None))
    if owner is not None and Action.TEMPORARY_RESTRAINING_ORDER in report.actions:
        ends_at = report.occurred_at + RESTRAINING_ORDER_LASTS
        remind = reminder_at(ends_at, _closed_days(session), _timezone())
        wanted.append((TaskKind.RESTRAINING_ORDER_END, owner, ends_at, remind))
    if not wanted:
        return []
    # two reports of one melding at once must not start one clock twice (SQLite: BEGIN IMMEDIATE)
    serialise_writes(session)
    made = []
    for kind, organisation_id, due_at, remind_at in wanted:
        present = exists().where(
            FollowUpTask.melding_id == melding.id,
            FollowUpTask.kind == kind,
            FollowUpTask.organisation_id == organisation_id,
        )
        if session.scalar(select(present)):
            continue
        task = FollowUpTask(
            id=uuid.uuid4(),
            kind=kind,
            melding_id=melding.id,
            report_id=report.id,
            plan_id=report.plan_id or melding.plan_id,
            organisation_id=organisation_id,
            due_at=due_at,
            remind_at=remind_at,
            created_at=utcnow(),
        )
        session.add(task)
        made.append(task)
    session.flush()
    return made


# --- shown to the owner -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskShown:
    """A task as the pages and TaskSchema read it."""

    id: uuid.UUID
    kind: str
    organisation_id: int
    melding_id: uuid.UUID
    report_id: uuid.UUID
    plan_id: uuid.UUID | None
    title: str  # the plan's current title, or WITHOUT_PLAN
    incident_ref: str
    occurred_at: datetime
    due_at: datetime
    remind_at: datetime | None
    created_at: datetime
    done_at: datetime | None
    done_by: str | None
    note: str
    overdue: bool  # open past its due moment
    reminding: bool  # open, past its reminder and not yet due

    @property
    def done(self) -> bool:
        return self.done_at is not None


_DONE_BY = User.__table__.alias("done_by")


def _shown(session: Session, where: Any, now: datetime) -> list[TaskShown]:
    rows = session.execute(
        select(
            FollowUpTask.id,
            FollowUpTask.kind,
            FollowUpTask.organisation_id,
            FollowUpTask.melding_id,
            FollowUpTask.report_id,
            FollowUpTask.plan_id,
            PlanVersion.title,
            Melding.incident_ref,
            Melding.occurred_at,
            FollowUpTask.due_at,
            FollowUpTask.remind_at,
            FollowUpTask.created_at,
            FollowUpTask.done_at,
            _DONE_BY.c.display_name,
            FollowUpTask.done_note,
        )
        .join(Melding, Melding.id == FollowUpTask.melding_id)
        .outerjoin(Plan, Plan.id == FollowUpTask.plan_id)
        .outerjoin(PlanVersion, rules.is_current_version(Plan, PlanVersion))
        .outerjoin(_DONE_BY, _DONE_BY.c.id == FollowUpTask.done_by_id)
        .where(where)
        .order_by(FollowUpTask.due_at, FollowUpTask.id)
    )
    return [
        TaskShown(
            id=row.id,
            kind=row.kind,
            organisation_id=row.organisation_id,
            melding_id=row.melding_id,
            report_id=row.report_id,
            plan_id=row.plan_id,
            title=row.title if row.plan_id is not None and row.title else WITHOUT_PLAN,
            incident_ref=row.incident_ref,
            occurred_at=row.occurred_at,
            due_at=row.due_at,
            remind_at=row.remind_at,
            created_at=row.created_at,
            done_at=row.done_at,
            done_by=row.display_name,
            note=row.done_note or "",
            overdue=row.done_at is None and row.due_at <= now,
            reminding=row.done_at is None and row.remind_at is not None and row.remind_at <= now < row.due_at,
        )
        for row in rows
    ]


def open_tasks(session: Session, organisation_id: int, now: datetime | None = None) -> list[TaskShown]:
    """The organisation's tasks not done yet, the earliest due first."""
    now = now or utcnow()
    session.flush()  # a task just made counts
    return _shown(
        session, (FollowUpTask.organisation_id == organisation_id) & FollowUpTask.done_at.is_(None), now
    )


def overdue_tasks(session: Session, organisation_id: int, now: datetime | None = None) -> list[TaskShown]:
    """The organisation's tasks past their due moment and not done (the coordinator's Te laat)."""
    return [task for task in open_tasks(session, organisation_id, now) if task.overdue]


@dataclass(frozen=True)
class Counts:
    """What the morning digest says of an organisation's tasks: numbers only."""

    open: int
    overdue: int
    ending_soon: int  # restraining orders past their reminder, not ended yet


def counts(session: Session, organisation_id: int, now: datetime) -> Counts:
    """The organisation's tasks as they stood at `now`: made by then, not done yet."""
    tasks = [task for task in open_tasks(session, organisation_id, now) if task.created_at <= now]
    return Counts(
        open=len(tasks),
        overdue=sum(1 for task in tasks if task.overdue),
        ending_soon=sum(1 for task in tasks if task.reminding),
    )


def role_of(user: User) -> str:
    """The role under which the user reads and completes tasks (for the audit row)."""
    return Role.REGISTRANT if user.has_role(Role.REGISTRANT) else Role.RESPONDER


def audit_list(session: Session, user: User, tasks: list[TaskShown], view: str) -> None:
    """The reading of a list of tasks (a family's plan title, a meldingnummer), audited."""
    audit.record(
        session, "task_list", "success", user=user, role=role_of(user), object_type="task",
        detail={"tasks": [str(task.id) for task in tasks], "view": view},
    )  # fmt: skip


# --- marked done --------------------------------------------------------------------------------


class NotFound(Exception):
    pass


def mark_done(session: Session, user: User, task_id: uuid.UUID, note: str) -> TaskShown:
    """Mark a task of the user's organisation done, with who, when and a note; a task marked
    done before is returned as it was. Any other id: NotFound, the attempt audited."""
    task = session.get(FollowUpTask, task_id)
    if task is None or task.organisation_id != user.organisation_id:
        audit.record_kept(
            session, "task_done", "not_found", user=user, role=role_of(user), object_type="task",
            object_id=task_id,
        )  # fmt: skip
        raise NotFound
    if task.done_at is None:
        task.done_at = utcnow()
        task.done_by_id = user.id
        task.done_note = note
        session.flush()
        audit.record(
            session, "task_done", "success", user=user, role=role_of(user), object_type="task",
            object_id=task.id, detail={"kind": task.kind, "melding": str(task.melding_id)},
        )  # fmt: skip
    [shown] = _shown(session, FollowUpTask.id == task.id, utcnow())
    return shown
