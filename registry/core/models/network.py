"""The network: regions, their gemeenten, organisations, and the days without feedback duty."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Date,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.db import Base
from registry.core.models.types import UTCDateTime

if TYPE_CHECKING:
    from registry.core.models.accounts import User
from registry.core.timeutil import utcnow


class Region(Base):
    """A Veiligheidsregio's network (Regio): its gemeenten, its organisations, and the Veilig Thuis
    organisation that hears of every melding in it without a handelingskader."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # None until the region names its VT: meldingen are stored all the same
    # (use_alter: organisations point at their region, and this points back at an organisation)
    veilig_thuis_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", use_alter=True)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    gemeenten: Mapped[list[Gemeente]] = relationship(back_populates="region", order_by="Gemeente.name")


class Gemeente(Base):
    """A municipality of a region, with its population (Inwoners) for the per-1.000 figures."""

    __tablename__ = "gemeenten"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    population: Mapped[int] = mapped_column(Integer)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)

    region: Mapped[Region] = relationship(back_populates="gemeenten")


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # OrganisationKind
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    # the format of the organisation's meldingnummers (a regular expression the whole number must
    # match, case ignored) and an example of one: a lookup by its responders must give one
    # (registry.core.rules.incident_ref_problem); set by an administrator
    incident_ref_pattern: Mapped[str | None] = mapped_column(String(200))
    incident_ref_example: Mapped[str | None] = mapped_column(String(64))
    # where a spoedmelding is announced at once, at any hour (an on-call mailbox); set by an
    # administrator (`samenop org spoed`). None: the organisation hears of it in Terugkoppeling only
    spoed_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")
    region: Mapped[Region | None] = relationship(foreign_keys=[region_id])


class ClosedDay(Base):
    """An extra day without feedback duty, configured by an administrator."""

    __tablename__ = "closed_days"

    day_on: Mapped[date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
