"""Spoedmeldingen: announced at once to each receiving organisation's spoed address, and
escalated to its coordinators once the deadline passed without its acknowledgement.

E-mail is not a safe channel: counts, a deadline and a link only, never a name, address,
meldingnummer or narrative. The messages are built inside the report's transaction as plain
`Message` values and handed over after the commit (`outbox`): a report is never lost because
mail failed, and no mail announces a report that was rolled back. Where they are handed over
is the one place a durable outbox (issue 21) replaces: it would store the same values in the
same transaction and send them from a worker.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from registry.core import audit, rules
from registry.core.models import (
    FeedbackAcknowledgement,
    Organisation,
    Report,
    SpoedEscalation,
    User,
    UserRole,
)
from registry.core.signals import on_commit
from registry.core.timeutil import nl_date, utcnow
from registry.core.vocabulary import Role
from registry.ops import mail

log = logging.getLogger(__name__)

#: how far back `samenop feedback escalate` looks: a job that was down longer does not send
#: escalations of weeks ago at once (the Te laat page shows them all the same)
ESCALATION_WINDOW = timedelta(days=30)

NO_DETAILS = "Deze e-mail bevat bewust geen namen of details: die staan alleen in Samen Op."


@dataclass(frozen=True)
class Message:
    """One e-mail to one recipient: what an outbox row would hold."""

    recipient: str
    subject: str
    body: str


def _link(path: str) -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/") + path


def _deadline(moment: datetime) -> str:
    """'zaterdag 14 maart 2026 om 08.40 uur', in the configured zone."""
    local = moment.astimezone(ZoneInfo(str(current_app.config["TIMEZONE"])))
    return f"{nl_date(local.date())} om {local.hour:02d}.{local.minute:02d} uur"


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
    that hears of it, handed over after the commit."""
    assert report.feedback_due_at is not None
    organisations = session.scalars(
        select(Organisation)
        .where(Organisation.id.in_(rules.hearers_of(report.id)), Organisation.spoed_email.is_not(None))
        .order_by(Organisation.name)
    ).all()
    messages = [announcement(organisation, report.feedback_due_at) for organisation in organisations]
    outbox(session, messages, f"spoedmelding {report.id}")
    return messages


def outbox(session: Session, messages: list[Message], what: str) -> None:
    """Hand the messages over once the transaction is committed (forgotten on rollback), to a
    thread of their own: the responder's request does not wait for the mail server (a server
    that hangs would hold it for the SMTP timeout per message). A process that ends before the
    thread is done loses what it had not sent yet; issue 21's outbox is what makes that durable."""
    if messages:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        on_commit(session, lambda: _in_background(app, messages, what))


def _in_background(app: Flask, messages: list[Message], what: str) -> threading.Thread:
    def run() -> None:
        try:
            with app.app_context():
                deliver(messages, what)
        except Exception:  # in a thread nobody would see it otherwise
            log.exception("%s: e-mail not sent", what)

    thread = threading.Thread(target=run, name="samenop-spoed-mail", daemon=True)
    thread.start()
    return thread


def deliver(messages: list[Message], what: str) -> list[Message]:
    """Send each message on its own (one recipient each); a failure is logged, never raised:
    what was stored stands. Returns the messages that could not be sent."""
    if not mail.configured():
        log.warning("%s: SAMENOP_SMTP_URL is not set, %d e-mail(s) not sent", what, len(messages))
        return list(messages)
    failed = []
    for message in messages:
        try:
            mail.send([message.recipient], message.subject, message.body, auto_submitted=True)
        except Exception:  # any failure of the mail server must not undo or hide the report
            log.exception("%s: e-mail to %s not sent", what, message.recipient)
            failed.append(message)
    return failed


# --- escalation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Escalation:
    report_id: uuid.UUID
    organisation_id: int
    organisation: str
    messages: list[Message]


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
    """Send every due escalation, and record each that went out (or had nobody to go to), one
    commit each: a run that fails halfway has recorded what it sent. One whose mail failed is
    not recorded, and is tried again on the next run."""
    sent = []
    for escalation in due_escalations(session, now):
        if deliver(escalation.messages, f"escalatie spoedmelding {escalation.report_id}"):
            continue
        session.add(
            SpoedEscalation(
                report_id=escalation.report_id,
                organisation_id=escalation.organisation_id,
                escalated_at=utcnow(),
                recipients=len(escalation.messages),
            )
        )
        audit.record(
            session, "feedback_escalate", "success", username="cli", object_type="report",
            object_id=escalation.report_id,
            detail={"organisation": escalation.organisation_id, "recipients": len(escalation.messages)},
        )  # fmt: skip
        commit()
        sent.append(escalation)
    return sent
