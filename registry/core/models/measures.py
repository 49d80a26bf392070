"""Lopende maatregelen: the measures in force around a family, one row per measure of a plan
version (a tijdelijk huisverbod, an ondertoezichtstelling, who holds gezag...)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.db import Base


class Measure(Base):
    __tablename__ = "measures"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_version_id: Mapped[int] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))  # MeasureKind
    # who holds it (gezag: "moeder", "Jeugdbescherming Noord"); '' when the kind says it all
    holder: Mapped[str] = mapped_column(String(200), default="")
    starts_on: Mapped[date] = mapped_column(Date)
    # the day it no longer applies: from that day the lookup leaves it out; None: no end (gezag)
    ends_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
