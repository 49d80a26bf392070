"""The outbox: what leaves the system is written in the same transaction as the fact it reports,
one row per recipient, and delivered from there, with retries.

A fact and its message commit together or not at all: a reminder marked as sent always has its
e-mail waiting, and no e-mail announces what was rolled back. Delivery is separate: `deliver`
claims due rows (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so that two deliverers never take the
same row; SQLite: its write lock), holds them for CLAIM while it talks to the mail server
outside any transaction, and records each outcome. A row that failed is tried again after 30 s,
1, 2, 4 ... minutes, at most an hour apart; one the server refused for good (5xx), or that
failed MAX_ATTEMPTS times, is kept as failed with its last error. Every attempt carries the
row's own Message-ID and Date: should a deliverer die between the server's acceptance and its
record of it, the one retry is recognisable as the same message.

`samenop worker` delivers every 30 seconds; a spoedmelding's rows are delivered at once, from a
thread, after the report's commit (`deliver_after_commit`).
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from registry.core.db import db
from registry.core.models import OutboxMessage
from registry.core.signals import on_commit
from registry.core.timeutil import utcnow
from registry.core.vocabulary import OutboxChannel, OutboxStatus
from registry.observe import OutboxBacklog
from registry.ops import mail

log = logging.getLogger(__name__)

BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
MAX_ATTEMPTS = 60  # about two and a half days at the cap
# how long a deliverer holds the rows it claimed: longer than a batch of slow mail servers
CLAIM = timedelta(minutes=10)
BATCH = 10
MAX_KEY = 200  # OutboxMessage.key
THREAD_NAME = "samenop-outbox"


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 30 s, 1 min, 2 min ... at most an hour."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def key_for(what: str, target: str) -> str:
    """The deduplication key of a message about `what` to `target`; a long target by its hash."""
    key = f"{what}:{target}"
    if len(key) <= MAX_KEY:
        return key
    return f"{what}:{hashlib.sha256(target.encode()).hexdigest()}"[:MAX_KEY]


def add_email(session: Session, what: str, recipient: str, subject: str, body: str) -> int | None:
    """Add one e-mail to one recipient, in the caller's transaction. `what` names the fact it
    reports (`spoed:<report>:<organisation>`): a message about the same fact to the same
    recipient is not added twice. -> the new row's id; None when it was there already."""
    now = utcnow()
    sender = str(current_app.config["MAIL_FROM"])
    values = {
        "key": key_for(what, recipient),
        "channel": OutboxChannel.EMAIL.value,
        "target": recipient,
        "subject": subject,
        "payload": body,
        "message_id": mail.new_message_id(sender),
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(OutboxMessage.id)
    )
    return session.execute(statement).scalar_one_or_none()


# --- delivery -----------------------------------------------------------------------------------


@dataclass
class Delivery:
    """What one call of `deliver` did."""

    delivered: int = 0
    retrying: int = 0  # failed this time, tried again later
    given_up: int = 0  # failed for good: status failed

    def line(self) -> str:
        return (
            f"{self.delivered} message(s) delivered, {self.retrying} to try again, "
            f"{self.given_up} undeliverable"
        )


def _claim(
    session: Session, now: datetime, ids: Iterable[int] | None, tried: set[int]
) -> list[OutboxMessage]:
    """Take up to BATCH due rows for CLAIM, in a short transaction of its own."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(BATCH)
    )
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(list(ids)))
    if tried:
        query = query.where(OutboxMessage.id.not_in(tried))
    if session.get_bind().dialect.name == "postgresql":
        # rows another deliverer holds are passed over, not waited for
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    for row in rows:
        row.next_attempt_at = now + CLAIM
    session.commit()
    return rows


def _attempt(row: OutboxMessage, delivery: Delivery) -> None:
    row.attempts += 1
    try:
        if row.channel != OutboxChannel.EMAIL:
            raise ValueError(f"no deliverer for channel {row.channel!r}")
        mail.send(row.target, row.subject, row.payload, message_id=row.message_id, date=row.created_at)
    except Exception as exc:  # whatever the server or network did: kept on the row, tried again
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if mail.is_permanent(exc) or row.attempts >= MAX_ATTEMPTS:
            row.status = OutboxStatus.FAILED
            delivery.given_up += 1
        else:
            row.next_attempt_at = utcnow() + backoff(row.attempts)
            delivery.retrying += 1
        # the row's id and what it reports, never the address
        code = f" {exc.smtp_code}" if isinstance(exc, smtplib.SMTPResponseException) else ""
        log.warning(
            "outbox %d (%s): attempt %d failed: %s%s",
            row.id, row.key.partition(":")[0], row.attempts, type(exc).__name__, code,
        )  # fmt: skip
    else:
        row.status = OutboxStatus.DELIVERED
        row.delivered_at = utcnow()
        delivery.delivered += 1


def deliver(session: Session, ids: Iterable[int] | None = None) -> Delivery:
    """Deliver every due row (or only those of `ids`), a claimed batch at a time, each row's
    outcome committed as soon as it is known. Without SAMENOP_SMTP_URL nothing is tried."""
    delivery = Delivery()
    if not mail.configured():
        return delivery
    wanted = None if ids is None else set(ids)
    tried: set[int] = set()
    while True:
        rows = _claim(session, utcnow(), wanted, tried)
        if not rows:
            return delivery
        for row in rows:
            tried.add(row.id)
            _attempt(row, delivery)
            session.commit()


def deliver_after_commit(session: Session, ids: list[int]) -> None:
    """Once the transaction that added these rows is committed (never on rollback), deliver them
    in a thread of their own: the request does not wait for the mail server. What the thread
    does not get delivered (a server down, a process that ends) the worker delivers."""
    ids = [row_id for row_id in ids if row_id is not None]
    if not ids:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    on_commit(session, lambda: _in_background(app, ids))


def _in_background(app: Flask, ids: list[int]) -> threading.Thread:
    def run() -> None:
        try:
            with app.app_context():
                if not mail.configured():
                    log.warning("SAMENOP_SMTP_URL is not set: %d message(s) wait in the outbox", len(ids))
                    return
                deliver(db.session, ids)
        except Exception:  # in a thread nobody would see it otherwise; the worker tries again
            log.exception("outbox: delivery after commit failed; the worker tries again")

    thread = threading.Thread(target=run, name=THREAD_NAME, daemon=True)
    thread.start()
    return thread


# --- what an administrator sees ------------------------------------------------------------------


@dataclass(frozen=True)
class Backlog:
    pending: int
    failed: int
    oldest_pending_at: datetime | None


def backlog(session: Session) -> Backlog:
    counts = dict(
        session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.status != OutboxStatus.DELIVERED)
            .group_by(OutboxMessage.status)
        ).all()
    )
    oldest = session.scalar(
        select(OutboxMessage.created_at)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
        .order_by(OutboxMessage.created_at)
        .limit(1)
    )
    return Backlog(
        counts.get(OutboxStatus.PENDING.value, 0), counts.get(OutboxStatus.FAILED.value, 0), oldest
    )


def observed_backlog(session: Session) -> OutboxBacklog:
    """The backlog as GET /metrics reports it (registry.observe.register_outbox_backlog)."""
    waiting = backlog(session)
    return OutboxBacklog(waiting.pending, waiting.oldest_pending_at, waiting.failed)
