"""The shared record of a melding: the partners' answers to the five core questions, appended one
addition at a time and never edited (a correction is an addition of its own)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.db import Base
from registry.core.models.types import UTCDateTime
from registry.core.timeutil import utcnow


class AssessmentAddition(Base):
    """What one partner added to one section (AssessmentSection) of a melding's record: with its
    author, organisation and time, and, when it corrects an earlier addition of the same section,
    that addition (which stays, marked as corrected). Written with a report (report_id) or later
    on the melding's page or API."""

    __tablename__ = "assessment_additions"
    __table_args__ = (Index("ix_assessment_additions_melding_id_created_at", "melding_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    melding_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meldingen.id"))
    section: Mapped[str] = mapped_column(String(16))  # AssessmentSection
    text: Mapped[str] = mapped_column(Text)  # emptied by `samenop purge` with the melding's texts
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("assessment_additions.id"))
    report_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("reports.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
