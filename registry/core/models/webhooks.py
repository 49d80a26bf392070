"""Webhook endpoints: where an organisation's own system is told of events (registry.webhooks),
each with the secret its messages are signed with (the Standard Webhooks scheme)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.db import Base
from registry.core.models.types import UTCDateTime
from registry.core.timeutil import utcnow

if TYPE_CHECKING:
    from registry.core.models.network import Organisation


class WebhookEndpoint(Base):
    """One receiving URL of one organisation and the events it wants.

    The secret must sign every message, so it is kept encrypted (Fernet under TOTP_KEY, like the
    TOTP secrets), never hashed; its plain form is shown once, when it is made. After a rotation
    the previous secret signs too, beside the new one, until `previous_secret_until`: the
    receiver can switch over without losing a message."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)  # WebhookEvent codes
    secret_encrypted: Mapped[str] = mapped_column(Text)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # who made it: the administrator's login (`cli:<user>`) or the coordinator's username
    created_by: Mapped[str] = mapped_column(String(64))
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_by: Mapped[str | None] = mapped_column(String(64))

    organisation: Mapped[Organisation] = relationship()
