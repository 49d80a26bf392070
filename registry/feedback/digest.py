"""The morning e-mail: per organisation, how much feedback is due today and how much is late, how
many answers the owners gave on the meldingen it reported (Teruggekoppeld), and how many of its
follow-up tasks are open, late, or a restraining order about to end (Opvolging).

E-mail is not a safe channel: counts and a link only, never a name, address or narrative.
Each recipient gets a message of their own, written to the outbox (registry.ops.outbox) once per
organisation, day and recipient: a second run of the same day adds nothing, and a mail server
that is down delays the digest but does not lose it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.core import dutch
from registry.core.models import ClosedDay, FeedbackAcknowledgement, Organisation, Report, User, UserRole
from registry.core.vocabulary import Role
from registry.feedback import operations, working_days
from registry.ops import outbox
from registry.tasks import operations as tasks


@dataclass
class Digest:
    organisation_id: int
    organisation: str
    recipients: list[str]
    due: int
    overdue: int
    # answers (acknowledgements) on the organisation's own reports since the last working day's digest
    answers: int = 0
    tasks: tasks.Counts = tasks.Counts(0, 0, 0)
    #: the outbox rows this run added (none when the day's digest was there already)
    outbox_ids: list[int] = field(default_factory=list)


def _emails(session: Session, organisation_id: int, role: str) -> list[str]:
    users = session.scalars(
        select(User)
        .join(UserRole)
        .where(User.organisation_id == organisation_id, UserRole.role == role, User.is_active)
        .order_by(User.username)
    )
    return [user.email for user in users if user.email]


def answers_since(session: Session, organisation_id: int, since: datetime, until: datetime) -> int:
    """How many answers (acknowledgements, by any organisation that heard of them) the
    organisation's own reports got between the two moments: a count, never who or what."""
    return (
        session.scalar(
            select(func.count())
            .select_from(FeedbackAcknowledgement)
            .join(Report, Report.id == FeedbackAcknowledgement.report_id)
            .where(
                Report.organisation_id == organisation_id,
                FeedbackAcknowledgement.acknowledged_at >= since,
                FeedbackAcknowledgement.acknowledged_at < until,
            )
        )
        or 0
    )


def build(session: Session, on: date) -> list[Digest]:
    """What each organisation is told on `on`: its registrants the feedback due and late and its
    open tasks, its coordinators the late feedback, its responders the answers on its meldingen
    (since 07.00 on the working day before: Monday's digest counts the weekend's) and its tasks."""
    # as seen at 07.00 that morning: items due earlier and still open are late
    zone = ZoneInfo(operations.timezone())
    morning = datetime.combine(on, time(7), tzinfo=zone)
    closed = set(session.scalars(select(ClosedDay.day_on)))
    since = datetime.combine(working_days.working_days_before(on, 1, closed), time(7), tzinfo=zone)
    since = min(since, morning - timedelta(days=1))
    digests = []
    for organisation in session.scalars(select(Organisation).order_by(Organisation.name)):
        items = operations.open_items(session, organisation.id, now=morning)
        due = sum(1 for item in items if item.feedback_due == on)
        overdue = sum(1 for item in items if item.feedback_due < on)
        answers = answers_since(session, organisation.id, since, morning)
        owned = tasks.counts(session, organisation.id, morning)
        if not due and not overdue and not answers and not owned.open:
            continue
        roles = []
        if due or overdue or owned.open:
            roles.append(Role.REGISTRANT)
        if overdue:
            roles.append(Role.COORDINATOR)
        if answers or owned.open:
            roles.append(Role.RESPONDER)
        recipients: list[str] = []
        for role in roles:
            recipients += [e for e in _emails(session, organisation.id, role) if e not in recipients]
        digests.append(Digest(organisation.id, organisation.name, recipients, due, overdue, answers, owned))
    return digests


def body(digest: Digest, on: date) -> str:
    base = current_app.config["BASE_URL"].rstrip("/")
    lines = [f"Goedemorgen,\n\nTerugkoppeling voor {digest.organisation} op {dutch.long_date(on)}:"]
    if digest.due or digest.overdue:
        lines.append(
            f"- {dutch.count(digest.due, 'melding', 'meldingen')} om vandaag te lezen en op te pakken"
        )
    if digest.overdue:
        lines.append(
            f"- {dutch.count(digest.overdue, 'melding', 'meldingen')} te laat (na de terugkoppeldag)"
        )
    if digest.due or digest.overdue:
        lines += ["", f"Lees ze in Samen Op: {base}/terugkoppeling", ""]
    owned = digest.tasks
    if owned.open:
        late = f", waarvan {owned.overdue} te laat" if owned.overdue else ""
        lines.append(f"- {dutch.count(owned.open, 'opvolging', 'opvolgingen')} open{late}")
        if owned.ending_soon:
            lines.append(
                f"- {dutch.count(owned.ending_soon, 'huisverbod eindigt', 'huisverboden eindigen')} "
                "binnen 2 werkdagen"
            )
        lines += ["", f"Opvolging in Samen Op: {base}/terugkoppeling/opvolging", ""]
    if digest.answers:
        answers = dutch.count(digest.answers, "terugkoppeling", "terugkoppelingen")
        lines += [
            f"- {answers} op uw meldingen",
            "",
            f"Lees wat zij oppakken in Samen Op: {base}/raadplegen/teruggekoppeld",
            "",
        ]
    lines += [
        "Deze e-mail bevat bewust geen namen of details: die staan alleen in Samen Op.",
    ]
    return "\n".join(lines) + "\n"


def queue(session: Session, on: date) -> list[Digest]:
    """Put the digests of `on` in the outbox, one message per recipient, in the caller's
    transaction. -> the digests that added messages (those of an earlier run add none)."""
    queued = []
    for digest in build(session, on):
        subject = f"Samen Op: terugkoppeling {dutch.long_date(on)}"
        text = body(digest, on)
        for recipient in digest.recipients:
            row_id = outbox.add_email(
                session, f"digest:{on.isoformat()}:{digest.organisation_id}", recipient, subject, text
            )
            if row_id is not None:
                digest.outbox_ids.append(row_id)
        if digest.outbox_ids:
            queued.append(digest)
    return queued
