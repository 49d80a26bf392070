"""The morning e-mail: per organisation, how much feedback is due today and how much is late.

E-mail is not a safe channel: counts and a link only, never a name, address or narrative.
Each recipient gets a message of their own, written to the outbox (registry.ops.outbox) once per
organisation, day and recipient: a second run of the same day adds nothing, and a mail server
that is down delays the digest but does not lose it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.core.models import Organisation, User, UserRole
from registry.core.timeutil import nl_date
from registry.core.vocabulary import Role
from registry.feedback import operations
from registry.ops import outbox


@dataclass
class Digest:
    organisation_id: int
    organisation: str
    recipients: list[str]
    due: int
    overdue: int
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


def build(session: Session, on: date) -> list[Digest]:
    """What each organisation's registrants (and, for late items, coordinators) are told on `on`."""
    # as seen at 07.00 that morning: items due earlier and still open are late
    morning = datetime.combine(on, time(7), tzinfo=ZoneInfo(operations.timezone()))
    digests = []
    for organisation in session.scalars(select(Organisation).order_by(Organisation.name)):
        items = operations.open_items(session, organisation.id, now=morning)
        due = sum(1 for item in items if item.feedback_due == on)
        overdue = sum(1 for item in items if item.feedback_due < on)
        if not due and not overdue:
            continue
        recipients = _emails(session, organisation.id, Role.REGISTRANT)
        if overdue:
            recipients += [
                e for e in _emails(session, organisation.id, Role.COORDINATOR) if e not in recipients
            ]
        digests.append(Digest(organisation.id, organisation.name, recipients, due, overdue))
    return digests


def body(digest: Digest, on: date) -> str:
    link = current_app.config["BASE_URL"].rstrip("/") + "/terugkoppeling"
    lines = [
        f"Goedemorgen,\n\nTerugkoppeling voor {digest.organisation} op {nl_date(on)}:",
        f"- {digest.due} item(s) om vandaag te lezen en op te pakken",
    ]
    if digest.overdue:
        lines.append(f"- {digest.overdue} item(s) te laat (na de terugkoppeldag)")
    lines += [
        "",
        f"Lees ze in Samen Op: {link}",
        "",
        "Deze e-mail bevat bewust geen namen of details: die staan alleen in Samen Op.",
    ]
    return "\n".join(lines) + "\n"


def queue(session: Session, on: date) -> list[Digest]:
    """Put the digests of `on` in the outbox, one message per recipient, in the caller's
    transaction. -> the digests that added messages (those of an earlier run add none)."""
    queued = []
    for digest in build(session, on):
        subject = f"Samen Op: terugkoppeling {nl_date(on)}"
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
