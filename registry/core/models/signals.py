"""Signals: the content-free answer to a control room's system ("a handelingskader is there"),
and which plans it pointed at, so that a person with two factors can open them later."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.db import Base
from registry.core.models.types import UTCDateTime
from registry.core.timeutil import utcnow


class Signal(Base):
    """One question of a machine client: the meldingnummer, the kind of query (never its terms),
    whether plans were there, and the reference a person of the same organisation opens them by
    (only its SHA-256 is stored: the reference itself is the client's)."""

    __tablename__ = "signals"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("machine_clients.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    incident_ref: Mapped[str] = mapped_column(String(64))
    query_kind: Mapped[str] = mapped_column(String(16))  # QueryKind: address or phone
    performed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    match_count: Mapped[int] = mapped_column(Integer, default=0)


class SignalResult(Base):
    """A plan a signal pointed at: the version responders were shown then, and why."""

    __tablename__ = "signal_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    signal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"), index=True)
    plan_version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"))
    match_on: Mapped[str] = mapped_column(String(16))
    quality: Mapped[str] = mapped_column(String(16))  # MatchQuality
    score: Mapped[float] = mapped_column()
