"""Follow-up tasks (Opvolging): the practice's clocks that a melding starts, each with a due
moment and the organisation that owns it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.db import Base
from registry.core.models.types import UTCDateTime
from registry.core.timeutil import utcnow


class FollowUpTask(Base):
    """One follow-up a melding asks of one organisation (TaskKind): contact with the family,
    the crisis team's handover, the end of a temporary restraining order. Made in the
    transaction of the report that started its clock; one per melding, kind and organisation;
    marked done once, with who, when and a note."""

    __tablename__ = "follow_up_tasks"
    __table_args__ = (
        UniqueConstraint("melding_id", "kind", "organisation_id"),
        Index("ix_follow_up_tasks_organisation_id_done_at", "organisation_id", "done_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(32))  # TaskKind
    # (the unique constraint, melding first, is its index)
    melding_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meldingen.id"))
    # the report that started the clock, and the plan it was on (None: a melding without one)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reports.id"), index=True)
    plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plans.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # when the owner is reminded before due_at (the end of a restraining order); None: no reminder
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done_note: Mapped[str] = mapped_column(Text, default="")
