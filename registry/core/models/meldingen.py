"""Meldingen and what was done: reports, their amendments, the owners' acknowledgements and
spoed escalations."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
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
from registry.core.timeutil import utcnow


class Melding(Base):
    """One acute call, however many organisations responded to it: the unit the pilots count.

    Reports join it by the control room's meldingnummer (registry.core.rules.melding_key_of and
    same_melding), or name it; it may be about a family without a handelingskader."""

    __tablename__ = "meldingen"
    __table_args__ = (Index("ix_meldingen_incident_key_occurred_at", "incident_key", "occurred_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    incident_ref: Mapped[str] = mapped_column(String(64))  # as the first report gave it
    incident_key: Mapped[str] = mapped_column(String(64))  # rules.melding_key_of(incident_ref)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when the call came in
    gemeente_id: Mapped[int | None] = mapped_column(ForeignKey("gemeenten.id"), index=True)
    # the handelingskader the call was about, when a report named one
    plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plans.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Report(Base):
    """What one organisation did during a melding; never edited, amendments are appended.
    Without a plan (plan_id None) it records a melding about a family without a handelingskader."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("created_by_id", "idempotency_key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    melding_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meldingen.id"), index=True)
    plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plans.id"), index=True)
    plan_version_id: Mapped[int | None] = mapped_column(ForeignKey("plan_versions.id"))
    lookup_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lookups.id"), index=True)
    incident_ref: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    mode: Mapped[str] = mapped_column(String(32))  # ReportMode
    responders: Mapped[list[str]] = mapped_column(JSON, default=list)  # Responder codes
    violence_type: Mapped[str | None] = mapped_column(String(32))  # ViolenceType
    household_type: Mapped[str | None] = mapped_column(String(32))  # HouseholdType
    care_involvement: Mapped[str | None] = mapped_column(String(32))  # CareInvolvement
    mental_health_service: Mapped[str | None] = mapped_column(String(32))  # MentalHealthService
    # the melding sheet, all optional: after how many minutes the partner (VT) was on the line and
    # which team answered; the inzet that was needed (beside the one given, `mode`); time spent
    reached_after_minutes: Mapped[int | None] = mapped_column(Integer)
    answered_by: Mapped[str | None] = mapped_column(String(100))
    needed_mode: Mapped[str | None] = mapped_column(String(32))  # ReportMode
    hours_spent: Mapped[float | None] = mapped_column(Float)
    actions: Mapped[list[str]] = mapped_column(JSON, default=list)  # Action codes
    narrative: Mapped[str] = mapped_column(Text, default="")
    feedback_due: Mapped[date] = mapped_column(Date, index=True)
    # marked urgent by the responder, who must say why (beside an arrest or a restraining order,
    # which make a report a spoedmelding by themselves)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    urgent_reason: Mapped[str | None] = mapped_column(String(500))
    # a spoedmelding's deadline: occurred_at + SPOED_HOURS; None for every other report, which is
    # due on its terugkoppeldag (feedback_due). Kept as computed: a later change of the setting
    # does not move deadlines already given
    feedback_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    request_hash: Mapped[str | None] = mapped_column(String(64))

    agreement_outcomes: Mapped[list[ReportAgreement]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    amendments: Mapped[list[ReportAmendment]] = relationship(
        cascade="all, delete-orphan", order_by="ReportAmendment.created_at", lazy="selectin"
    )


class ReportAgreement(Base):
    __tablename__ = "report_agreements"

    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16))  # AgreementOutcome
    note: Mapped[str] = mapped_column(Text, default="")


class ReportAmendment(Base):
    __tablename__ = "report_amendments"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    note: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FeedbackAcknowledgement(Base):
    """An owning or sharing organisation has read a report (or a lookup without report)."""

    __tablename__ = "feedback_acknowledgements"
    __table_args__ = (
        UniqueConstraint("organisation_id", "report_id"),
        UniqueConstraint("organisation_id", "lookup_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    report_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("reports.id"))
    lookup_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lookups.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SpoedEscalation(Base):
    """A spoedmelding that passed its deadline unacknowledged by an organisation, and was
    escalated to that organisation's coordinators (`samenop feedback escalate`): once per
    report and organisation."""

    __tablename__ = "spoed_escalations"
    __table_args__ = (UniqueConstraint("report_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    escalated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
