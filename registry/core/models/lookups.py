"""Lookups by the control room: the query, what it showed, candidates of a name alone, and
the flags the privacy officer reviews."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.db import Base
from registry.core.models.types import UTCDateTime

if TYPE_CHECKING:
    from registry.core.models.accounts import User
    from registry.core.models.network import Organisation
from registry.core.timeutil import utcnow


class Lookup(Base):
    """One control-room query, stored whether or not it matched.

    A name without a birth date (`name_only`) shows no plan, only its candidates
    (LookupCandidate); opening one of them is a lookup of its own (query kind `candidate`,
    `opened_from` the name-only lookup) that shows that one plan."""

    __tablename__ = "lookups"
    # a user's lookups of the last hour: the budget counted across every worker and server, from
    # the index alone (name_only in it: no row is read)
    __table_args__ = (Index("ix_lookups_user_id_performed_at", "user_id", "performed_at", "name_only"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))  # Role
    incident_ref: Mapped[str] = mapped_column(String(64))
    query_kind: Mapped[str] = mapped_column(String(16))  # QueryKind
    performed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    match_count: Mapped[int] = mapped_column(Integer, default=0)
    name_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    opened_from: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lookups.id"))
    # the signal of a control room's system this lookup opened (a person with two factors, of the
    # signal's organisation, for its meldingnummer): it shows the plans the signal pointed at
    signal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("signals.id"), index=True)

    results: Mapped[list[LookupResult]] = relationship(cascade="all, delete-orphan")


class LookupResult(Base):
    """Which plan version a lookup showed, and why."""

    __tablename__ = "lookup_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    lookup_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lookups.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"), index=True)
    plan_version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"))
    match_on: Mapped[str] = mapped_column(String(16))
    # found through the perpetrator (his name, phone or address): the plan's geheim addresses
    # were not shown, not even that there are any, and cannot be revealed from this lookup
    via_perpetrator: Mapped[bool] = mapped_column(Boolean, default=False)
    quality: Mapped[str] = mapped_column(String(16))  # MatchQuality
    score: Mapped[float] = mapped_column()


class LookupCandidate(Base):
    """A plan a name-only lookup found and listed (name, birth year, city, owner), without showing
    it: the responder opens one at a time."""

    __tablename__ = "lookup_candidates"

    id: Mapped[int] = mapped_column(primary_key=True)
    lookup_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lookups.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"), index=True)
    person_id: Mapped[int] = mapped_column(Integer)  # the person whose name matched (no FK: versions change)
    quality: Mapped[str] = mapped_column(String(16))  # MatchQuality
    score: Mapped[float] = mapped_column()


class LookupFlag(Base):
    """An unusual pattern in one user's lookups on one day, for the privacy officer (auditor) to
    review and close with a note (registry.privacy.flags)."""

    __tablename__ = "lookup_flags"
    __table_args__ = (UniqueConstraint("user_id", "rule", "day", name="uq_lookup_flags_user_rule_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    rule: Mapped[str] = mapped_column(String(32))  # FlagRule
    day: Mapped[date] = mapped_column(Date)  # in the configured time zone
    count: Mapped[int] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    closed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    organisation: Mapped[Organisation] = relationship()
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_user_id])
