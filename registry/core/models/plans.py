"""Handelingskaders: plans, their immutable versions with addresses, persons, agreements and
contacts, who they are shared with, and the change feed the search indexes follow."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.db import Base
from registry.core.models.types import UTCDateTime

if TYPE_CHECKING:
    from registry.core.models.measures import Measure
    from registry.core.models.network import Organisation
from registry.core.timeutil import utcnow
from registry.core.vocabulary import PlanStatus


class Plan(Base):
    """A handelingskader; its content lives in immutable PlanVersions."""

    __tablename__ = "plans"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=PlanStatus.ACTIVE, index=True)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    # copied from the current version so that expiry and reminders need no join
    valid_until: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_14_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_3_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # when `samenop purge` removed its personal data (registry.ops.retention); done once
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    owner_organisation: Mapped[Organisation] = relationship(lazy="joined")
    versions: Mapped[list[PlanVersion]] = relationship(back_populates="plan", order_by="PlanVersion.version")
    # the version shown today (registry.core.rules.is_current_version is the same join for queries)
    current: Mapped[PlanVersion] = relationship(
        primaryjoin="and_(Plan.id == foreign(PlanVersion.plan_id), "
        "Plan.current_version == foreign(PlanVersion.version))",
        viewonly=True,
        uselist=False,
    )
    shares: Mapped[list[PlanShare]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class PlanShare(Base):
    """Another organisation that sees and edits the plan (e.g. wijkteam + jeugdbescherming)."""

    __tablename__ = "plan_shares"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True, index=True)
    organisation: Mapped[Organisation] = relationship(lazy="joined")


class PlanVersion(Base):
    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    # FamilyProfile codes: several may apply at once (the seed's profiles overlap)
    family_profiles: Mapped[list[str]] = mapped_column(JSON, default=list)
    risk_signals: Mapped[list[str]] = mapped_column(JSON, default=list)  # RiskSignal codes
    owner_name: Mapped[str] = mapped_column(String(200))
    owner_phone: Mapped[str] = mapped_column(String(32))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    plan: Mapped[Plan] = relationship(back_populates="versions")
    addresses: Mapped[list[Address]] = relationship(
        cascade="all, delete-orphan", order_by="Address.id", lazy="selectin"
    )
    persons: Mapped[list[Person]] = relationship(
        cascade="all, delete-orphan", order_by="Person.id", lazy="selectin"
    )
    agreements: Mapped[list[Agreement]] = relationship(
        cascade="all, delete-orphan", order_by="Agreement.position", lazy="selectin"
    )
    # in the order the owner put them (escalation order): the row ids follow the list
    contacts: Mapped[list[Contact]] = relationship(
        cascade="all, delete-orphan", order_by="Contact.id", lazy="selectin"
    )
    measures: Mapped[list[Measure]] = relationship(
        cascade="all, delete-orphan", order_by="Measure.id", lazy="selectin"
    )


class Address(Base):
    __tablename__ = "addresses"
    __table_args__ = (Index("ix_addresses_postcode_number", "postcode", "house_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_version_id: Mapped[int] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="CASCADE"), index=True
    )
    postcode: Mapped[str] = mapped_column(String(6))  # normalised: 1234AB
    house_number: Mapped[int] = mapped_column(Integer)
    house_number_suffix: Mapped[str] = mapped_column(String(16), default="")  # '' not NULL
    street: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(32))  # AddressRole
    # geheim (the shelter, the safe house): never in a lookup's answer without a deliberate reveal
    is_secret: Mapped[bool] = mapped_column(Boolean, default=False)


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_version_id: Mapped[int] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="CASCADE"), index=True
    )
    first_name: Mapped[str] = mapped_column(String(100), default="")
    surname_prefix: Mapped[str] = mapped_column(String(30), default="")
    surname: Mapped[str] = mapped_column(String(150))
    birth_date: Mapped[date | None] = mapped_column(Date, index=True)
    role: Mapped[str] = mapped_column(String(32))  # PersonRole
    phone: Mapped[str | None] = mapped_column(String(32), index=True)  # E.164: +31612345678
    do_not_inform: Mapped[bool] = mapped_column(Boolean, default=False)
    # why this person must not learn of the plan; '' on versions written before it was asked
    do_not_inform_reason: Mapped[str] = mapped_column(Text, default="")
    # a perpetrator who is not do_not_inform: the owner confirmed he may know of the plan
    perpetrator_may_know: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(50), default="")
    interpreter_needed: Mapped[bool] = mapped_column(Boolean, default=False)


class Agreement(Base):
    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_version_id: Mapped[int] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(32))  # Actor
    # the contact to call for it: its place (1, 2, ...) among the version's contacts
    contact_number: Mapped[int | None] = mapped_column(Integer)


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_version_id: Mapped[int] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(32))
    # a note on reachability (before the windows, the only field: "dag en nacht")
    available: Mapped[str] = mapped_column(String(200), default="")
    # when reachable: [{"days": [1..7 ISO weekdays], "from": "HH:MM", "to": "HH:MM"}], a window
    # with to <= from runs past midnight (registry.plans.availability); [] = not said
    availability: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    knows_plan: Mapped[bool] = mapped_column(Boolean, default=False)
    tested_on: Mapped[date | None] = mapped_column(Date)


class PlanChange(Base):
    """The change feed: one row per committed change of a plan, in commit order.

    Search indexes (one per app server) apply it in order, so none misses a change and a
    server that was down catches up; rows are written under the write lock of
    registry.core.db.serialise_writes so that their ids follow the commit order.
    """

    __tablename__ = "plan_changes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
