"""Accounts: users and their roles, login throttles, web sessions and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core import roles as role_rules
from registry.core.db import Base
from registry.core.models.types import UTCDateTime

if TYPE_CHECKING:
    from registry.core.models.network import Organisation
from registry.core.timeutil import utcnow


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
