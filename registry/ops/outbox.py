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

Webhooks are rows of channel `webhook`, one per endpoint (registry.webhooks), delivered by the
same loop as a signed POST (registry.ops.webhook) whose `webhook-id` is the row's message_id.
An endpoint's rows leave in the order they were written: a row is only claimed when no earlier
row of its endpoint is still pending, so while one waits for its retry the ones after it wait
too. Webhooks do not need SAMENOP_SMTP_URL; without it only the e-mail waits.

`samenop worker` delivers every 30 seconds; a spoedmelding's rows (and every webhook) are
delivered at once, from a thread, after the commit of their fact (`deliver_after_commit`).
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
from sqlalchemy import exists, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from registry.core.db import db
from registry.core.models import OutboxMessage, WebhookEndpoint
from registry.core.signals import on_commit
from registry.core.timeutil import utcnow
from registry.core.vocabulary import OutboxChannel, OutboxStatus
from registry.observe import OutboxBacklog
from registry.ops import mail, webhook

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
    sender = str(current_app.config["MAIL_FROM"])
    return _insert(
        session,
        key=key_for(what, recipient),
        channel=OutboxChannel.EMAIL.value,
        target=recipient,
        subject=subject,
        payload=body,
        message_id=mail.new_message_id(sender),
    )


def add_webhook(session: Session, what: str, endpoint: WebhookEndpoint, body: str) -> int | None:
    """Add one webhook message (its JSON body) for one endpoint, in the caller's transaction.
    `what` names the event and its fact (`feedback.created:<report>`): once per endpoint.
    -> the new row's id; None when it was there already."""
    return _insert(
        session,
        key=key_for(f"webhook:{what}", str(endpoint.id)),
        channel=OutboxChannel.WEBHOOK.value,
        target=endpoint.url,
        subject="",
        payload=body,
        message_id=webhook.new_message_id(),
        endpoint_id=endpoint.id,
    )


def _insert(session: Session, **values: object) -> int | None:
    now = utcnow()
    values |= {
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


_earlier = aliased(OutboxMessage)
#: a webhook row waits while an earlier row of its endpoint is pending (due, claimed or waiting
#: for its retry): an endpoint's events arrive in order
_FIRST_OF_ITS_ENDPOINT = OutboxMessage.endpoint_id.is_(None) | ~exists().where(
    _earlier.endpoint_id == OutboxMessage.endpoint_id,
    _earlier.status == OutboxStatus.PENDING,
    _earlier.id < OutboxMessage.id,
)


def _claim(
    session: Session, now: datetime, ids: Iterable[int] | None, tried: set[int]
) -> list[OutboxMessage]:
    """Take up to BATCH due rows for CLAIM, in a short transaction of its own."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .where(_FIRST_OF_ITS_ENDPOINT)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(BATCH)
    )
    if not mail.configured():
        # without a mail server the e-mail waits; webhooks need none
        query = query.where(OutboxMessage.channel != OutboxChannel.EMAIL)
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(list(ids)))
    if tried:
        query = query.where(OutboxMessage.id.not_in(tried))
    if session.get_bind().dialect.name == "postgresql":
        # rows another deliverer holds are passed over, not waited for
        query = query.with_for_update(skip_locked=True, of=OutboxMessage)
    rows = list(session.scalars(query))
    for row in rows:
        row.next_attempt_at = now + CLAIM
    session.commit()
    return rows


def _send_webhook(session: Session, row: OutboxMessage) -> None:
    """One signed POST of the row to its endpoint, with the endpoint's secret(s) of now."""
    endpoint = session.get(WebhookEndpoint, row.endpoint_id) if row.endpoint_id is not None else None
    if endpoint is None or not endpoint.is_active:
        raise webhook.WebhookFailed("the endpoint is disabled", permanent=True)
    now = utcnow()
    signing = [webhook.unseal(endpoint.secret_encrypted)]
    previous, until = endpoint.previous_secret_encrypted, endpoint.previous_secret_until
    if previous and until and until > now:  # a rotation's overlap: the receiver may hold either
        signing.append(webhook.unseal(previous))
    headers = webhook.headers(signing, row.message_id, now, row.payload)
    webhook.post(endpoint.url, row.payload, headers, float(current_app.config["WEBHOOK_TIMEOUT_SECONDS"]))


def _is_permanent(exc: Exception) -> bool:
    if isinstance(exc, webhook.WebhookFailed):
        return exc.permanent
    return mail.is_permanent(exc)


def _attempt(session: Session, row: OutboxMessage, delivery: Delivery) -> None:
    row.attempts += 1
    try:
        if row.channel == OutboxChannel.EMAIL:
            mail.send(row.target, row.subject, row.payload, message_id=row.message_id, date=row.created_at)
        elif row.channel == OutboxChannel.WEBHOOK:
            _send_webhook(session, row)
        else:
            raise ValueError(f"no deliverer for channel {row.channel!r}")
    except Exception as exc:  # whatever the server or network did: kept on the row, tried again
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if _is_permanent(exc) or row.attempts >= MAX_ATTEMPTS:
            row.status = OutboxStatus.FAILED
            delivery.given_up += 1
        else:
            row.next_attempt_at = utcnow() + backoff(row.attempts)
            delivery.retrying += 1
        # the row's id and what it reports, never the address
        code = f" {exc.smtp_code}" if isinstance(exc, smtplib.SMTPResponseException) else ""
        if isinstance(exc, webhook.WebhookFailed) and exc.status is not None:
            code = f" {exc.status}"
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
    outcome committed as soon as it is known. Without SAMENOP_SMTP_URL no e-mail is tried."""
    delivery = Delivery()
    wanted = None if ids is None else set(ids)
    tried: set[int] = set()
    while True:
        rows = _claim(session, utcnow(), wanted, tried)
        if not rows:
            return delivery
        for row in rows:
            tried.add(row.id)
            _attempt(session, row, delivery)
            if wanted is not None and row.endpoint_id is not None and row.status == OutboxStatus.DELIVERED:
                # the endpoint's next messages may have waited for this one: they go on now
                wanted |= _pending_of_endpoint(session, row.endpoint_id)
            session.commit()


def _pending_of_endpoint(session: Session, endpoint_id: int) -> set[int]:
    return set(
        session.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.endpoint_id == endpoint_id, OutboxMessage.status == OutboxStatus.PENDING
            )
        )
    )


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
                if deliver(db.session, ids).delivered < len(ids) and not mail.configured():
                    log.warning("SAMENOP_SMTP_URL is not set: e-mail in the outbox waits (webhooks do not)")
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
    pending_email: int = 0  # of `pending`: what waits for a mail server


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
    email = session.scalar(
        select(func.count()).where(
            OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.channel == OutboxChannel.EMAIL
        )
    )
    return Backlog(
        counts.get(OutboxStatus.PENDING.value, 0),
        counts.get(OutboxStatus.FAILED.value, 0),
        oldest,
        email or 0,
    )


def observed_backlog(session: Session) -> OutboxBacklog:
    """The backlog as GET /metrics reports it (registry.observe.register_outbox_backlog)."""
    waiting = backlog(session)
    return OutboxBacklog(waiting.pending, waiting.oldest_pending_at, waiting.failed)
