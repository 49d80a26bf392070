"""Spoedmeldingen: announced at once to each receiving organisation's spoed address, and
escalated to its coordinators once the deadline passed without its acknowledgement.

E-mail is not a safe channel: counts, a deadline and a link only, never a name, address,
meldingnummer or narrative. The messages are written to the outbox (registry.ops.outbox) in the
report's transaction, one row per address: a report is never lost because mail failed, no mail
announces a report that was rolled back, and no announcement is lost because the mail server was
down. After the commit a thread delivers them at once; what it could not deliver, the worker does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from registry.core import audit, dutch, rules
from registry.core.models import (
    FeedbackAcknowledgement,
    Organisation,
    Report,
    SpoedEscalation,
    User,
    UserRole,
)
from registry.core.timeutil import utcnow
from registry.core.vocabulary import Role
from registry.ops import outbox

#: how far back `samenop feedback escalate` looks: a job that was down longer does not send
#: escalations of weeks ago at once (the Te laat page shows them all the same)
ESCALATION_WINDOW = timedelta(days=30)

NO_DETAILS = "Deze e-mail bevat bewust geen namen of details: die staan alleen in Samen Op."


@dataclass(frozen=True)
class Message:
    """One e-mail to one recipient: what its outbox row holds."""

    recipient: str
    subject: str
    body: str


def _link(path: str) -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/") + path


def _deadline(moment: datetime) -> str:
    """'zaterdag 14 maart 2026 om 08.40 uur', in the configured zone."""
    local = moment.astimezone(ZoneInfo(str(current_app.config["TIMEZONE"])))
    return f"{dutch.long_date(local.date())} om {dutch.clock(local)}"


def announcement(organisation: Organisation, due_at: datetime) -> Message:
    assert organisation.spoed_email
    return Message(
        organisation.spoed_email,
        f"Samen Op: spoedmelding, terugkoppelen vóór {_deadline(due_at)}",
        "\n".join(
            [
                "Beste collega,",
                "",
                f"{organisation.name} heeft 1 spoedmelding in Terugkoppeling.",
                f"Terugkoppelen vóór {_deadline(due_at)}.",
                "",
                f"Lees en pak op in Samen Op: {_link('/terugkoppeling')}",
                "",
                NO_DETAILS,
            ]
        )
        + "\n",
    )


def announce(session: Session, report: Report) -> list[Message]:
    """After a spoedmelding is stored: one message to the spoed address of each organisation
    that hears of it, in the outbox in the report's transaction, delivered right after the commit."""
    assert report.feedback_due_at is not None
    organisations = session.scalars(
        select(Organisation)
        .where(Organisation.id.in_(rules.hearers_of(report.id)), Organisation.spoed_email.is_not(None))
        .order_by(Organisation.name)
    ).all()
    messages, ids = [], []
    for organisation in organisations:
        message = announcement(organisation, report.feedback_due_at)
        messages.append(message)
        ids.append(queue(session, f"spoed:{report.id}:{organisation.id}", message))
    outbox.deliver_after_commit(session, [row_id for row_id in ids if row_id is not None])
    return messages


def queue(session: Session, what: str, message: Message) -> int | None:
    """The message in the outbox, in the caller's transaction (once per `what` and recipient)."""
    return outbox.add_email(session, what, message.recipient, message.subject, message.body)


# --- escalation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Escalation:
    report_id: uuid.UUID
    organisation_id: int
    organisation: str
    messages: list[Message]
    #: the outbox rows of its messages, once recorded (escalate)
    outbox_ids: list[int] = field(default_factory=list)


def coordinator_emails(session: Session, organisation_id: int) -> list[str]:
    users = session.scalars(
        select(User)
        .join(UserRole)
        .where(User.organisation_id == organisation_id, UserRole.role == Role.COORDINATOR, User.is_active)
        .order_by(User.username)
    )
    return [user.email for user in users if user.email]


def escalation_message(recipient: str, organisation: str, due_at: datetime) -> Message:
    return Message(
        recipient,
        "Samen Op: spoedmelding niet op tijd opgepakt",
        "\n".join(
            [
                "Beste coördinator,",
                "",
                f"Bij {organisation} is 1 spoedmelding niet gelezen en opgepakt vóór {_deadline(due_at)}.",
                "",
                f"Zie Te laat in Samen Op: {_link('/terugkoppeling/te-laat')}",
                "",
                NO_DETAILS,
            ]
        )
        + "\n",
    )


def due_escalations(session: Session, now: datetime | None = None) -> list[Escalation]:
    """Every spoedmelding past its deadline (within ESCALATION_WINDOW) that an organisation
    hearing of it has not acknowledged and that was not escalated to it yet: one Escalation per
    report and organisation, with a message to each of its coordinators with an e-mail address."""
    now = now or utcnow()
    late = session.execute(
        select(Report.id, Report.feedback_due_at)
        .where(Report.feedback_due_at.is_not(None))
        .where(Report.feedback_due_at < now, Report.feedback_due_at >= now - ESCALATION_WINDOW)
        .order_by(Report.feedback_due_at, Report.id)
    ).all()
    found = []
    for report_id, due_at in late:
        assert due_at is not None
        organisations = session.execute(
            select(Organisation.id, Organisation.name)
            .where(Organisation.id.in_(rules.hearers_of(report_id)))
            .where(
                ~exists().where(
                    and_(
                        FeedbackAcknowledgement.report_id == report_id,
                        FeedbackAcknowledgement.organisation_id == Organisation.id,
                    )
                ),
                ~exists().where(
                    and_(
                        SpoedEscalation.report_id == report_id,
                        SpoedEscalation.organisation_id == Organisation.id,
                    )
                ),
            )
            .order_by(Organisation.name)
        ).all()
        for organisation_id, name in organisations:
            messages = [
                escalation_message(address, name, due_at)
                for address in coordinator_emails(session, organisation_id)
            ]
            found.append(Escalation(report_id, organisation_id, name, messages))
    return found


def escalate(session: Session, commit: Callable[[], None], now: datetime | None = None) -> list[Escalation]:
    """Record every due escalation (or that it had nobody to go to) with its messages in the
    outbox, one commit each: the record and its e-mail stand or fall together, and an escalation
    recorded is never made again. Delivery is the outbox's (`samenop feedback escalate` delivers
    right after, the worker whatever failed)."""
    made = []
    for escalation in due_escalations(session, now):
        session.add(
            SpoedEscalation(
                report_id=escalation.report_id,
                organisation_id=escalation.organisation_id,
                escalated_at=utcnow(),
                recipients=len(escalation.messages),
            )
        )
        for message in escalation.messages:
            what = f"spoed-escalation:{escalation.report_id}:{escalation.organisation_id}"
            row_id = queue(session, what, message)
            if row_id is not None:
                escalation.outbox_ids.append(row_id)
        audit.record(
            session, "feedback_escalate", "success", username="cli", object_type="report",
            object_id=escalation.report_id,
            detail={"organisation": escalation.organisation_id, "recipients": len(escalation.messages)},
        )  # fmt: skip
        commit()
        made.append(escalation)
    return made
