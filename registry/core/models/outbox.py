"""The outbox: every message that leaves the system, one row per recipient, written in the same
transaction as the fact it reports and delivered from there (registry.ops.outbox)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.db import Base
from registry.core.models.types import UTCDateTime
from registry.core.timeutil import utcnow


class OutboxMessage(Base):
    """One message to one recipient over one channel.

    `key` says what the message reports (`spoed:<report>:<organisation>`, `digest:<day>:...`):
    a second message with the same key is never added, so a job that runs twice does not mail
    twice. `message_id` is chosen when the row is written, so that every attempt carries the same
    Message-ID and a receiver that got the message before recognises a retry."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # OutboxChannel
    # an e-mail address (channel email); a receiver's URL for a webhook
    target: Mapped[str] = mapped_column(String(2048))
    subject: Mapped[str] = mapped_column(String(300), default="")
    payload: Mapped[str] = mapped_column(Text)  # the e-mail's text; a webhook's JSON body
    # the e-mail's Message-ID; a webhook's `webhook-id` (msg_...): the same on every attempt
    message_id: Mapped[str] = mapped_column(String(255))
    # a webhook's endpoint: its secret signs the message, and its messages leave in order
    endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_endpoints.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # OutboxStatus
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # when the next attempt is due; while a deliverer holds the row, the end of its claim
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
