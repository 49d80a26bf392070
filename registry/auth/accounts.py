"""Account operations: provisioning, enrolment, the two-factor login check, lockout."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from registry import audit
from registry.auth import passwords, two_factor
from registry.auth import roles as role_rules
from registry.db import Base
from registry.models import ROLES, ApiToken, LoginThrottle, Organisation, User, UserRole, WebSession
from registry.timeutil import aware, utcnow

# consecutive failures before a temporary lock, and before a lock only a coordinator lifts
SOFT_LOCK_AFTER = 10
SOFT_LOCK_MINUTES = 15
HARD_LOCK_AFTER = 30


class LoginFailed(Exception):
    """Any wrong factor or unknown user: the caller answers identically for all of them."""


class LoginLocked(Exception):
    """Too many consecutive failures for this username."""


class RoleNotAllowed(ValueError):
    """A role the person's organisation may not hold (the lookup role outside a responder
    organisation); the message says why, in the administrator's words."""


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def normalise_username(username: str) -> str:
    """Lowercase and trimmed; characters no database can store (NUL, lone surrogates) dropped,
    so a hostile name answers like any unknown user instead of failing on PostgreSQL."""
    storable = username.replace("\x00", "").encode("utf-8", "ignore").decode("utf-8")
    return storable.strip().lower()[:64]


def _hash_params() -> dict[str, Any]:
    return current_app.config["PASSWORD_HASH_PARAMS"]


# --- provisioning -------------------------------------------------------------------------------


def create_organisation(session: Session, name: str, kind: str, region: str | None = None) -> Organisation:
    org = Organisation(name=name, kind=kind, region=region)
    session.add(org)
    session.flush()
    return org


def create_user(
    session: Session,
    username: str,
    organisation: Organisation,
    roles: list[str],
    display_name: str | None = None,
    email: str | None = None,
) -> User:
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"unknown role(s): {sorted(unknown)}")
    for role in sorted(set(roles)):
        _check_allowed(role, organisation)
    user = User(
        username=normalise_username(username),
        display_name=display_name or username,
        email=email,
        organisation=organisation,
        role_rows=[UserRole(role=role) for role in sorted(set(roles))],
    )
    session.add(user)
    session.flush()
    return user


def _check_allowed(role: str, organisation: Organisation) -> None:
    reason = role_rules.refusal(role, organisation.name, organisation.kind)
    if reason is not None:
        raise RoleNotAllowed(reason)


def grant_role(session: Session, user: User, role: str) -> bool:
    """Give the user `role` (RoleNotAllowed if the organisation may not hold it); False when the
    user already had it. The caller audits."""
    if role not in ROLES:
        raise ValueError(f"unknown role: {role}")
    _check_allowed(role, user.organisation)
    if role in user.roles:
        return False
    user.role_rows.append(UserRole(role=role))
    session.flush()
    return True


def revoke_role(session: Session, user: User, role: str) -> bool:
    """Take `role` from the user; False when the user did not have it. Effective from the user's
    next request: roles are read with every request, sessions and tokens stay. The caller audits."""
    if role not in user.roles:
        return False
    user.role_rows = [row for row in user.role_rows if row.role != role]
    session.flush()
    return True


def set_password(session: Session, user: User, password: str) -> None:
    """Set a new password (policy-checked); every token and session of the user ends."""
    passwords.check_policy(password, [user.username, user.display_name])
    user.password_hash = passwords.hash_password(password, _hash_params())
    user.password_changed_at = utcnow()
    end_all_sessions(session, user)


def provision_totp(user: User) -> str:
    user.totp_secret = two_factor.new_secret()
    user.totp_last_step = None
    return user.totp_secret


def issue_enrolment(user: User, hours: int) -> str:
    """A one-time enrolment link token; only its hash is stored."""
    raw = secrets.token_urlsafe(32)
    user.enrolment_token_hash = hash_token(raw)
    user.enrolment_expires_at = utcnow() + timedelta(hours=hours)
    return raw


def user_for_enrolment(session: Session, raw: str) -> User | None:
    user = session.scalars(select(User).where(User.enrolment_token_hash == hash_token(raw))).first()
    if user is None or user.enrolment_expires_at is None or not user.is_active:
        return None
    if aware(user.enrolment_expires_at) < utcnow():
        return None
    return user


def complete_enrolment(session: Session, user: User, password: str, code: str) -> bool:
    """Set the password and confirm the TOTP secret with one valid code; the link is spent."""
    assert user.totp_secret is not None
    step = two_factor.matching_step(user.totp_secret, code)
    if step is None:
        return False
    set_password(session, user, password)
    if not two_factor.claim_step(session, user.id, step):
        return False
    user.enrolment_token_hash = None
    user.enrolment_expires_at = None
    user.enrolled_at = utcnow()
    return True


def end_all_sessions(session: Session, user: User) -> None:
    now = utcnow()
    for token in session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ):
        token.revoked_at = now
    for web in session.scalars(
        select(WebSession).where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
    ):
        web.ended_at = now


def deactivate(session: Session, user: User) -> None:
    user.is_active = False
    end_all_sessions(session, user)


# --- the login check ----------------------------------------------------------------------------


def _throttle(session: Session, username: str) -> LoginThrottle | None:
    return session.get(LoginThrottle, username, populate_existing=True)


def is_locked(session: Session, username: str) -> bool:
    row = _throttle(session, username)
    if row is None:
        return False
    if row.hard_locked:
        return True
    return row.locked_until is not None and aware(row.locked_until) > utcnow()


def _count_failure(session: Session, username: str) -> None:
    """Add one consecutive failure, as one upsert so that concurrent failures all count."""
    now = utcnow()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(LoginThrottle).values(
        username=username, consecutive_failures=1, last_failure_at=now, hard_locked=False
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[LoginThrottle.username],
        set_={
            "consecutive_failures": LoginThrottle.consecutive_failures + 1,
            "last_failure_at": now,
        },
    )
    session.execute(stmt)
    row = _throttle(session, username)
    assert row is not None
    if row.consecutive_failures >= HARD_LOCK_AFTER:
        row.hard_locked = True
    elif row.consecutive_failures % SOFT_LOCK_AFTER == 0:
        row.locked_until = now + timedelta(minutes=SOFT_LOCK_MINUTES)
    session.flush()


def unlock(session: Session, username: str) -> bool:
    row = _throttle(session, normalise_username(username))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def find_login_user(session: Session, username: str) -> User | None:
    """The user who may log in under this name: existing, active and enrolled."""
    user = session.scalars(select(User).where(User.username == normalise_username(username))).first()
    if user is None or not user.is_active or user.enrolled_at is None:
        return None
    return user


def check_password(session: Session, username: str, password: str) -> bool:
    """Same work for unknown users as for known ones."""
    user = find_login_user(session, username)
    return passwords.verify_password(user.password_hash if user else None, password, _hash_params())


def authenticate(
    session: Session,
    username: str,
    password: str | None,
    code: str,
    channel: str,
    *,
    password_ok: bool | None = None,
) -> User:
    """Check both factors. Raises LoginLocked or LoginFailed; the caller commits either way,
    so that the failure count and the audit row are kept. The web login checks the password
    one step earlier and passes `password_ok` instead of the password."""
    name = normalise_username(username)
    if is_locked(session, name):
        audit.record(session, "login", "locked", username=name, detail={"channel": channel})
        raise LoginLocked
    user = find_login_user(session, name)
    if password_ok is None:
        password_ok = check_password(session, name, password or "")
    step = None
    if password_ok and user is not None and user.totp_secret:
        step = two_factor.matching_step(user.totp_secret, code)
    if user is not None and step is not None and two_factor.claim_step(session, user.id, step):
        row = _throttle(session, name)
        if row is not None:
            session.delete(row)
        audit.record(session, "login", "success", user=user, detail={"channel": channel})
        return user
    _count_failure(session, name)
    # which factor failed stays out of the answer; the audit row keeps it for the privacy officer
    reason = "unknown_user" if user is None else ("password" if not password_ok else "code")
    audit.record(session, "login", "failed", username=name, detail={"channel": channel, "reason": reason})
    raise LoginFailed


# --- API tokens and web sessions ----------------------------------------------------------------


def issue_api_token(session: Session, user: User) -> tuple[str, ApiToken]:
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        token_hash=hash_token(raw),
        user=user,
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(hours=current_app.config["TOKEN_ABSOLUTE_HOURS"]),
    )
    session.add(token)
    session.flush()
    return raw, token


def _fresh(created_at: datetime, last_seen_at: datetime, idle_minutes: int, absolute_hours: int) -> bool:
    now = utcnow()
    return now - aware(last_seen_at) < timedelta(minutes=idle_minutes) and now - aware(
        created_at
    ) < timedelta(hours=absolute_hours)


# the idle clock moves in steps: no write on every request of a busy client
TOUCH_EVERY = timedelta(seconds=60)


def touch(session: Session, row: WebSession) -> None:
    """Move the idle clock of a web session (at most once a minute), and commit."""
    now = utcnow()
    if now - aware(row.last_seen_at) >= TOUCH_EVERY:
        row.last_seen_at = now
        session.commit()


@dataclass(frozen=True, slots=True)
class ApiCaller:
    """Who sent an API request, as the token check found them: plain values, no ORM objects."""

    token_id: int
    user_id: int
    username: str
    display_name: str
    organisation_id: int
    organisation_name: str
    organisation_kind: str
    roles: frozenset[str]  # the roles that count (registry.auth.roles.held)
    last_used_at: datetime

    @property
    def id(self) -> int:
        """The user's id, as on User: the audit log and the lookup take either."""
        return self.user_id

    def has_role(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)


# the tables themselves: Core statements skip the ORM's per-execution work
_tokens = Base.metadata.tables[ApiToken.__tablename__]
_users = Base.metadata.tables[User.__tablename__]
_organisations = Base.metadata.tables[Organisation.__tablename__]
_user_roles = Base.metadata.tables[UserRole.__tablename__]

# The token check runs on every API request: one statement, built once, loading only what a
# request needs (one row per role of the user). Revoked tokens and deactivated users never match.
_API_CALLER = (
    select(
        _tokens.c.id,
        _tokens.c.user_id,
        _tokens.c.expires_at,
        _tokens.c.last_used_at,
        _users.c.username,
        _users.c.display_name,
        _users.c.organisation_id,
        _organisations.c.name.label("organisation_name"),
        _organisations.c.kind.label("organisation_kind"),
        _user_roles.c.role,
    )
    .select_from(
        _tokens.join(_users, _users.c.id == _tokens.c.user_id)
        .join(_organisations, _organisations.c.id == _users.c.organisation_id)
        .outerjoin(_user_roles, _user_roles.c.user_id == _users.c.id)
    )
    .where(
        _tokens.c.token_hash == bindparam("token_hash"),
        _tokens.c.revoked_at.is_(None),
        _users.c.is_active.is_(True),
    )
)

_TOUCH_API_TOKEN = (
    update(_tokens)
    .where(_tokens.c.id == bindparam("token_id"))
    .values(last_used_at=bindparam("now", type_=_tokens.c.last_used_at.type))
)


def api_caller(session: Session, raw: str) -> ApiCaller | None:
    """The caller behind a bearer token; None if the token is unknown, revoked, expired or idle
    too long, or its user is deactivated. Asks the database every time (no cache), so that a
    revocation or deactivation counts from the next request on."""
    rows = session.execute(_API_CALLER, {"token_hash": hash_token(raw)}).all()
    if not rows:
        return None
    row = rows[0]
    now = utcnow()
    last_used_at = aware(row.last_used_at)
    idle = timedelta(minutes=current_app.config["TOKEN_IDLE_MINUTES"])
    if aware(row.expires_at) <= now or now - last_used_at >= idle:
        return None
    return ApiCaller(
        token_id=row.id,
        user_id=row.user_id,
        username=row.username,
        display_name=row.display_name,
        organisation_id=row.organisation_id,
        organisation_name=row.organisation_name,
        organisation_kind=row.organisation_kind,
        roles=role_rules.held((r.role for r in rows if r.role is not None), row.organisation_kind),
        last_used_at=last_used_at,
    )


def caller_as_user(session: Session, caller: ApiCaller) -> User:
    """The caller as a User in the session, built from what the token check read (no query).

    Like an object from a cache: `make_transient_to_detached` marks every attribute not given
    here (password hash, roles, ...) expired, so it is read from the database on first use."""
    found = session.identity_map.get(Session.identity_key(User, caller.user_id))
    if isinstance(found, User):
        return found
    organisation = session.identity_map.get(Session.identity_key(Organisation, caller.organisation_id))
    if not isinstance(organisation, Organisation):
        organisation = Organisation(
            id=caller.organisation_id, name=caller.organisation_name, kind=caller.organisation_kind
        )
        make_transient_to_detached(organisation)
        session.add(organisation)
    user = User(
        id=caller.user_id,
        username=caller.username,
        display_name=caller.display_name,
        organisation_id=caller.organisation_id,
    )
    make_transient_to_detached(user)
    set_committed_value(user, "organisation", organisation)
    session.add(user)
    return user


def touch_api_token(session: Session, caller: ApiCaller) -> None:
    """Move the idle clock of the caller's token (at most once a minute), and commit."""
    now = utcnow()
    if now - caller.last_used_at >= TOUCH_EVERY:
        session.execute(_TOUCH_API_TOKEN, {"token_id": caller.token_id, "now": now})
        session.commit()


def revoke_api_token(session: Session, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()


def start_web_session(session: Session, user: User, remote_addr: str | None) -> str:
    raw = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=hash_token(raw), user_id=user.id, remote_addr=remote_addr))
    session.flush()
    return raw


def user_for_web_session(session: Session, raw: str) -> tuple[User | None, WebSession | None]:
    """The logged-in user of a browser session, and the session row (only reads).

    A session past its idle or absolute limit gives (None, row): the caller ends it."""
    web = session.scalars(select(WebSession).where(WebSession.token_hash == hash_token(raw))).first()
    if web is None or web.ended_at is not None:
        return None, None
    config = current_app.config
    if not _fresh(
        web.created_at,
        web.last_seen_at,
        config["SESSION_IDLE_MINUTES"],
        config["SESSION_ABSOLUTE_HOURS"],
    ):
        return None, web
    user = session.get(User, web.user_id)
    if user is None or not user.is_active:
        return None, None
    user.login_token = raw
    return user, web


def end_web_session(session: Session, raw: str) -> None:
    web = session.scalars(select(WebSession).where(WebSession.token_hash == hash_token(raw))).first()
    if web is not None and web.ended_at is None:
        web.ended_at = utcnow()
