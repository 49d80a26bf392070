"""Account operations: provisioning, enrolment, the two-factor login check, lockout."""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_request_context, request
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from registry.auth import passwords, two_factor
from registry.core import audit, dutch, rules
from registry.core import roles as role_rules
from registry.core.db import Base, keep
from registry.core.models import (
    ApiToken,
    LoginSourceThrottle,
    LoginThrottle,
    Organisation,
    User,
    UserRole,
    WebSession,
)
from registry.core.timeutil import utcnow
from registry.core.vocabulary import Role
from registry.regions import operations as regions

# Failed logins count per username and source address (the request's remote address): after
# FREE_FAILURES consecutive ones, that address waits before its next try, BACKOFF_FIRST after the
# first of them, twice as long after every further one, at most BACKOFF_MAX. Other addresses do
# not wait: failures from elsewhere never keep the right password and code out.
FREE_FAILURES = 5
BACKOFF_FIRST = timedelta(seconds=1)
BACKOFF_MAX = timedelta(minutes=15)
# Consecutive wrong codes after a right password, from any address, before the account locks
# until a coordinator unlocks it (NIST SP 800-63B: at most 100). Only who knows the password
# can bring it there; wrong passwords never lock the account.
HARD_LOCK_AFTER = 100


class LoginFailed(Exception):
    """Any wrong factor or unknown user: the caller answers identically for all of them."""


class LoginLocked(Exception):
    """Not tried: this source address must wait (`retry_after` seconds), or the account is
    locked until a coordinator unlocks it (`retry_after` None). `message` is the Dutch answer."""

    def __init__(self, retry_after: int | None) -> None:
        self.retry_after = retry_after
        if retry_after is None:
            self.message = (
                "Dit account is geblokkeerd na te veel mislukte pogingen. "
                "Bel uw coördinator om het te laten ontgrendelen."
            )
        else:
            self.message = (
                f"Te veel mislukte pogingen. Probeer het over {wait_text(retry_after)} opnieuw "
                "of bel uw coördinator."
            )
        super().__init__(self.message)


def wait_text(seconds: int) -> str:
    """'1 seconde', '40 seconden', '1 minuut', '15 minuten' (whole minutes rounded up)."""
    if seconds < 60:
        return dutch.count(seconds, "seconde", "seconden")
    return dutch.minutes(-(-seconds // 60))


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
    """An organisation, in the region of that name when one is given (made if there is none yet)."""
    org = Organisation(name=name, kind=kind, region=regions.find_or_add(session, region) if region else None)
    session.add(org)
    session.flush()
    return org


def set_incident_ref_format(organisation: Organisation, pattern: str | None, example: str | None) -> None:
    """The format of the organisation's meldingnummers (registry.core.rules.incident_ref_problem),
    or none (None). ValueError when the pattern is no regular expression, is too long, or the
    example does not have the format: the operators would read a format no number has."""
    if pattern is None:
        organisation.incident_ref_pattern = organisation.incident_ref_example = None
        return
    if not pattern or len(pattern) > 200:
        raise ValueError("the pattern must have 1 to 200 characters")
    if not example or len(example) > 64:
        raise ValueError("give an --example meldingnummer of this format (at most 64 characters)")
    if rules.incident_ref_format(pattern).fullmatch(example) is None:
        raise ValueError(f"the example {example!r} does not have the format {pattern!r}")
    if rules.incident_ref_problem("x", pattern, example) is None:
        raise ValueError(f"the pattern {pattern!r} lets 'x' through: a meldingnummer has a format")
    organisation.incident_ref_pattern = pattern
    organisation.incident_ref_example = example


# names the audit log uses for what no user did (the command line, the system itself)
RESERVED_USERNAMES = frozenset({"cli", "system"})
USERNAME_TAKEN_HERE = "Deze gebruikersnaam bestaat al in uw organisatie. Kies een andere."
# one answer for a name taken in another organisation and for a reserved one: a coordinator
# does not learn which usernames other organisations have
USERNAME_UNAVAILABLE = "Deze gebruikersnaam is niet beschikbaar. Kies een andere."


def username_unavailable(session: Session, username: str, organisation_id: int) -> str | None:
    """Why a coordinator of this organisation cannot create this username, or None. A name
    taken in another organisation is answered like a reserved one, never as existing."""
    name = normalise_username(username)
    if name in RESERVED_USERNAMES:
        return USERNAME_UNAVAILABLE
    owner = session.scalar(select(User.organisation_id).where(User.username == name))
    if owner is None:
        return None
    return USERNAME_TAKEN_HERE if owner == organisation_id else USERNAME_UNAVAILABLE


def create_user(
    session: Session,
    username: str,
    organisation: Organisation,
    roles: list[str],
    display_name: str | None = None,
    email: str | None = None,
) -> User:
    unknown = set(roles) - set(Role.codes())
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
    reason = role_rules.refusal(
        role, organisation.name, organisation.kind, in_region=organisation.region_id is not None
    )
    if reason is not None:
        raise RoleNotAllowed(reason)


def colleagues(session: Session, user: User) -> list[User]:
    """The accounts of the user's organisation, by username (the coordinator's page)."""
    return list(
        session.scalars(
            select(User).where(User.organisation_id == user.organisation_id).order_by(User.username)
        )
    )


def colleague(session: Session, user: User, user_id: int) -> User | None:
    """An account of the user's organisation; None for any other (answered as not found)."""
    found = session.get(User, user_id)
    return found if found is not None and found.organisation_id == user.organisation_id else None


def record_refused_roles(session: Session, coordinator: User, username: str, roles: list[str]) -> None:
    """A coordinator asked for roles that are not theirs to give: refused, and logged however the
    request ends."""
    name = normalise_username(username)
    detail = {"roles": sorted(set(roles))}
    audit.record_kept(
        session,
        "user_create",
        "refused",
        user=coordinator,
        role=Role.COORDINATOR,
        object_type="username",
        object_id=name,
        detail=detail,
    )


def grant_role(session: Session, user: User, role: str) -> bool:
    """Give the user `role` (RoleNotAllowed if the organisation may not hold it); False when the
    user already had it. The caller audits."""
    if role not in Role.codes():
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
    """A new TOTP secret, stored encrypted; the plain secret is returned (shown once)."""
    return two_factor.provision(user)


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
    if user.enrolment_expires_at < utcnow():
        return None
    return user


def complete_enrolment(session: Session, user: User, password: str, code: str) -> bool:
    """Set the password and confirm the TOTP secret with one valid code; the link is spent."""
    step = two_factor.matching_step(two_factor.secret_of(user), code)
    if step is None:
        return False
    if not two_factor.claim_step(session, user.id, step):
        return False  # nothing written: the page asks for the next code
    set_password(session, user, password)
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


def _upsert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def source_address() -> str:
    """Where a login comes from: the request's remote address, as the audit log records it."""
    return ((request.remote_addr or "") if has_request_context() else "")[:64]


def backoff(failures: int) -> timedelta:
    """How long a source waits after its `failures`-th consecutive failure (zero at first)."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    doublings = min(failures - FREE_FAILURES, 32)  # far past the cap already; no huge powers
    return min(BACKOFF_FIRST * 2**doublings, BACKOFF_MAX)


def seconds_to_wait(session: Session, username: str, source: str) -> int | None:
    """Whole seconds this source must still wait before it may try this username again."""
    blocked_until = session.scalar(
        select(LoginSourceThrottle.blocked_until).where(
            LoginSourceThrottle.username == username, LoginSourceThrottle.source == source
        )
    )
    if blocked_until is None:
        return None
    left = (blocked_until - utcnow()).total_seconds()
    return max(1, math.ceil(left)) if left > 0 else None


def is_hard_locked(session: Session, username: str) -> bool:
    return bool(session.scalar(select(LoginThrottle.hard_locked).where(LoginThrottle.username == username)))


def locked_usernames(session: Session, usernames: list[str]) -> set[str]:
    """Which of these are locked, or have a source address that must wait: a coordinator's
    unlock lifts both."""
    if not usernames:
        return set()
    hard = session.scalars(
        select(LoginThrottle.username).where(
            LoginThrottle.username.in_(usernames), LoginThrottle.hard_locked.is_(True)
        )
    )
    waiting = session.scalars(
        select(LoginSourceThrottle.username).where(
            LoginSourceThrottle.username.in_(usernames), LoginSourceThrottle.blocked_until > utcnow()
        )
    )
    return set(hard) | set(waiting)


def _count_source_failure(session: Session, username: str, source: str) -> None:
    """One more consecutive failure of this username from this source, as one upsert so that
    concurrent failures all count; from FREE_FAILURES on, the source waits before its next try."""
    now = utcnow()
    stmt = _upsert(session)(LoginSourceThrottle).values(
        username=username, source=source, consecutive_failures=1, last_failure_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[LoginSourceThrottle.username, LoginSourceThrottle.source],
        set_={
            "consecutive_failures": LoginSourceThrottle.consecutive_failures + 1,
            "last_failure_at": now,
        },
    ).returning(LoginSourceThrottle.consecutive_failures)
    failures = session.execute(stmt).scalar_one()
    wait = backoff(failures)
    if wait:
        session.execute(
            update(LoginSourceThrottle)
            .where(LoginSourceThrottle.username == username, LoginSourceThrottle.source == source)
            .values(blocked_until=now + wait)
        )


def _count_code_failure(session: Session, username: str) -> None:
    """One more wrong code after a right password, from wherever; a long run locks the account."""
    now = utcnow()
    stmt = _upsert(session)(LoginThrottle).values(
        username=username, code_failures=1, last_failure_at=now, hard_locked=False
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[LoginThrottle.username],
        set_={"code_failures": LoginThrottle.code_failures + 1, "last_failure_at": now},
    ).returning(LoginThrottle.code_failures)
    if session.execute(stmt).scalar_one() >= HARD_LOCK_AFTER:
        session.execute(
            update(LoginThrottle).where(LoginThrottle.username == username).values(hard_locked=True)
        )


def _forget_failures(session: Session, username: str, source: str) -> None:
    """A login succeeded: this source starts afresh, and so does the account's count
    (other sources keep their waits: their failures were not this login's)."""
    session.execute(
        delete(LoginSourceThrottle).where(
            LoginSourceThrottle.username == username, LoginSourceThrottle.source == source
        )
    )
    session.execute(delete(LoginThrottle).where(LoginThrottle.username == username))


def unlock(session: Session, username: str) -> bool:
    """Lift the account's lock and every source's wait for this username; False if none."""
    name = normalise_username(username)
    account = session.scalars(
        delete(LoginThrottle).where(LoginThrottle.username == name).returning(LoginThrottle.username)
    ).all()
    sources = session.scalars(
        delete(LoginSourceThrottle)
        .where(LoginSourceThrottle.username == name)
        .returning(LoginSourceThrottle.source)
    ).all()
    return bool(account or sources)


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
    source: str | None = None,
) -> User:
    """Check both factors. Raises LoginLocked or LoginFailed; the failure counts and the audit
    row are kept (registry.core.db.keep) however the request ends. The web login checks the password
    one step earlier and passes `password_ok` instead of the password. `source` is the address
    the login comes from (default: the request's remote address)."""
    name = normalise_username(username)
    source = source_address() if source is None else source[:64]
    wait = seconds_to_wait(session, name, source)
    if wait is not None:
        detail = {"channel": channel, "reason": "source_waits", "retry_after": wait}
        audit.record_kept(session, "login", "locked", username=name, detail=detail)
        raise LoginLocked(wait)
    user = find_login_user(session, name)
    if password_ok is None:
        password_ok = check_password(session, name, password or "")
    step = None
    if password_ok and user is not None and two_factor.has_secret(user):
        step = two_factor.matching_step(two_factor.secret_of(user), code)
    if user is not None and step is not None and is_hard_locked(session, name):
        # only who has both factors learns of the lock (and the code is not spent): anyone
        # else gets the ordinary failure below, so the lock tells no guesser a password was right
        locked = {"channel": channel, "reason": "account"}
        audit.record_kept(session, "login", "locked", user=user, detail=locked)
        raise LoginLocked(None)
    if user is not None and step is not None and two_factor.claim_step(session, user.id, step):
        _forget_failures(session, name, source)
        audit.record(session, "login", "success", user=user, detail={"channel": channel})
        return user
    # which factor failed stays out of the answer; the audit row keeps it for the privacy officer
    reason = "unknown_user" if user is None else ("password" if not password_ok else "code")

    wrong_code = user is not None and password_ok

    def record_failure(kept: Session) -> None:
        _count_source_failure(kept, name, source)
        if wrong_code:
            _count_code_failure(kept, name)
        audit.record(kept, "login", "failed", username=name, detail={"channel": channel, "reason": reason})

    keep(session, record_failure)
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
    return now - last_seen_at < timedelta(minutes=idle_minutes) and now - created_at < timedelta(
        hours=absolute_hours
    )


# the idle clock moves in steps: no write on every request of a busy client
TOUCH_EVERY = timedelta(seconds=60)


def touch(session: Session, row: WebSession) -> None:
    """Move the idle clock of a web session (at most once a minute), however the request ends."""
    now = utcnow()
    if now - row.last_seen_at >= TOUCH_EVERY:
        keep(session, lambda kept: kept.execute(_TOUCH_WEB_SESSION, {"row_id": row.id, "now": now}))


def end_lapsed_web_session(session: Session, row: WebSession) -> None:
    """A session past its idle or absolute limit ends for good, however the request ends."""
    now = utcnow()
    keep(session, lambda kept: kept.execute(_END_WEB_SESSION, {"row_id": row.id, "now": now}))


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
    roles: frozenset[str]  # the roles that count (registry.core.roles.held)
    last_used_at: datetime
    # the organisation's meldingnummer format (registry.core.rules.incident_ref_problem)
    incident_ref_pattern: str | None = None
    incident_ref_example: str | None = None

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
        _organisations.c.incident_ref_pattern,
        _organisations.c.incident_ref_example,
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

_web_sessions = Base.metadata.tables[WebSession.__tablename__]
_TOUCH_WEB_SESSION = (
    update(_web_sessions)
    .where(_web_sessions.c.id == bindparam("row_id"))
    .values(last_seen_at=bindparam("now", type_=_web_sessions.c.last_seen_at.type))
)
_END_WEB_SESSION = (
    update(_web_sessions)
    .where(_web_sessions.c.id == bindparam("row_id"), _web_sessions.c.ended_at.is_(None))
    .values(ended_at=bindparam("now", type_=_web_sessions.c.ended_at.type))
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
    rows = session.connection().execute(_API_CALLER, {"token_hash": hash_token(raw)}).all()
    if not rows:
        return None
    row = rows[0]
    now = utcnow()
    last_used_at = row.last_used_at
    idle = timedelta(minutes=current_app.config["TOKEN_IDLE_MINUTES"])
    if row.expires_at <= now or now - last_used_at >= idle:
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
        incident_ref_pattern=row.incident_ref_pattern,
        incident_ref_example=row.incident_ref_example,
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
    """Move the idle clock of the caller's token (at most once a minute), however the request
    ends (a failed request used the token too)."""
    now = utcnow()
    if now - caller.last_used_at >= TOUCH_EVERY:
        keep(session, lambda kept: kept.execute(_TOUCH_API_TOKEN, {"token_id": caller.token_id, "now": now}))


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
