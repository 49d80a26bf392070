"""The data model of the whole product: accounts, plans and versions, lookups, reports, audit."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core import roles as role_rules
from registry.core.db import Base
from registry.core.timeutil import utcnow
from registry.core.vocabulary import PlanStatus

# the largest id an Integer primary key holds (PostgreSQL's integer): a larger one names no row,
# and asking the database for it fails (SQLite: too large for its integers)
MAX_ID = 2**31 - 1

# the vocabulary columns hold the codes of registry/core/vocabulary.py's enums, named beside them


class UTCDateTime(TypeDecorator[datetime]):
    """An aware moment, stored in UTC and read back aware on every database.

    SQLite keeps no offset: without this, an Amsterdam wall-clock time would be read back
    as if it were UTC. Naive datetimes are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: say which time zone it is in")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # the TOTP secret encrypted under TOTP_KEY (Fernet), never the plain secret: only
    # registry.auth.two_factor reads (secret_of) or writes (provision) it
    totp_secret_encrypted: Mapped[str | None] = mapped_column(String(255))
    # the highest TOTP time step ever accepted; every code at or below it is refused
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    enrolment_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    enrolment_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="users", lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def organisation_name(self) -> str:
        return self.organisation.name

    @property
    def incident_ref_pattern(self) -> str | None:
        return self.organisation.incident_ref_pattern

    @property
    def incident_ref_example(self) -> str | None:
        return self.organisation.incident_ref_example

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}

    def has_role(self, *roles: str) -> bool:
        """Holds one of `roles`, as the organisation's kind allows (registry.core.roles): a stored
        `responder` row outside a responder organisation gives no access."""
        return not role_rules.held(self.roles, self.organisation.kind).isdisjoint(roles)

    # flask-login: the session cookie carries a server-side session token, never the user id
    login_token = cast("str | None", None)  # not a column: set per request by registry.auth.web
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str | None:
        return self.login_token


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)  # Role


class LoginThrottle(Base):
    """Per account: wrong codes after a right password since the last login, from any address.
    Only who knows the password adds to it; a long run locks the account until it is unlocked."""

    __tablename__ = "login_throttles"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    code_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hard_locked: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginSourceThrottle(Base):
    """Consecutive failed logins per username (known or not, so both answer alike) and source
    address: after a few, that address waits longer after every failure; other addresses not."""

    __tablename__ = "login_source_throttles"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    # the request's remote address, as the audit log records it
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebSession(Base):
    """A browser session held on the server: logout and expiry take effect at once."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    remote_addr: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")


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
    family_profile: Mapped[str | None] = mapped_column(String(64))  # FamilyProfile
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
    contacts: Mapped[list[Contact]] = relationship(
        cascade="all, delete-orphan", order_by="Contact.id", lazy="selectin"
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


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_version_id: Mapped[int] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(32))
    available: Mapped[str] = mapped_column(String(200), default="")


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

    results: Mapped[list[LookupResult]] = relationship(cascade="all, delete-orphan")


class LookupResult(Base):
    """Which plan version a lookup showed, and why."""

    __tablename__ = "lookup_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    lookup_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lookups.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"), index=True)
    plan_version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"))
    match_on: Mapped[str] = mapped_column(String(16))
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


class ClosedDay(Base):
    """An extra day without feedback duty, configured by an administrator."""

    __tablename__ = "closed_days"

    day_on: Mapped[date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), default="")


class AuditEntry(Base):
    """NEN 7513 log row; append-only and hash-chained to its predecessor."""

    __tablename__ = "audit_entries"

    # ids are handed out under the chain lock: contiguous, so a removed row shows as a gap
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(32), default="")
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(32))
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The newest chain link, so that removing the last rows is detected too, and the oldest
    one kept (the checkpoint), from which verification starts once retention removed rows."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_entry_id: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    # rows present, from first_entry_id up to last_entry_id
    count: Mapped[int] = mapped_column(BigInteger)
    # the checkpoint: the first row kept and the hash it follows; the purge that moves it
    # writes the same pair into the chain, so a moved checkpoint does not verify
    first_entry_id: Mapped[int] = mapped_column(BigInteger, server_default=text("1"))
    first_prev_hash: Mapped[str] = mapped_column(String(64), server_default="0" * 64)
