"""Agreements and contacts a responder proposes for a plan with a report, and the owners' one
decision on them: taken into a new version of the plan, or not (with a reason that goes back)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.db import Base
from registry.core.models.types import UTCDateTime
from registry.core.timeutil import utcnow


class ProposedAgreement(Base):
    """An agreement (Wanneer / Wat te doen / Door wie) the responder made with the family, stored
    with the report and, like it, never edited."""

    __tablename__ = "proposed_agreements"
    __table_args__ = (UniqueConstraint("report_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # (report_id, position) is unique: that index also finds a report's rows
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # in the order the responder gave them, from 1
    trigger: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(32))  # Actor


class ProposedContact(Base):
    """A contact (name, relation, phone, when reachable) the responder proposes; never edited."""

    __tablename__ = "proposed_contacts"
    __table_args__ = (UniqueConstraint("report_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # (report_id, position) is unique: that index also finds a report's rows
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(32))  # E.164
    available: Mapped[str] = mapped_column(String(200), default="")


class ProposalDecision(Base):
    """The one decision on a report's proposals, by an organisation that owns or shares its plan:
    accepted into version `version` of the plan, or declined with a reason that goes back to the
    reporting organisation only. One per report (the unique key settles two deciding at once)."""

    __tablename__ = "proposal_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id"), unique=True)
    outcome: Mapped[str] = mapped_column(String(16))  # ProposalOutcome
    # accepted: the plan version it made; declined: None
    version: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)  # declined: why (required)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
