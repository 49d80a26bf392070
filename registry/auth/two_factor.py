"""TOTP, the second factor: the only module that imports pyotp.

Rules: six ASCII digits only; the current step and one either side; the last accepted
step is stored and every code at or below it is refused, also when logins race.
Codes and secrets are never logged.

Secrets at rest: the users.totp_secret_encrypted column holds the secret encrypted with
Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under TOTP_KEY, a key kept outside
the database (SAMENOP_TOTP_KEY or instance/totp_key, registry/core/config.py). A copy of the
database or a backup alone does not give the second factor. `seal` encrypts, `secret_of` is
the one way back; a key that does not open a stored secret raises TotpKeyError, never a
silent refusal that would look like a wrong code.
"""

from __future__ import annotations

import logging
import re
import time

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from registry.core.models import User

STEP_SECONDS = 30
_CODE = re.compile(r"[0-9]{6}", re.ASCII)

log = logging.getLogger(__name__)


class TotpKeyError(RuntimeError):
    """TOTP_KEY does not open the stored secrets: the wrong key for this database."""


def new_secret() -> str:
    return pyotp.random_base32()


def _fernet(key: str | None = None) -> Fernet:
    return Fernet((key or current_app.config["TOTP_KEY"]).encode("ascii"))


def seal(secret: str, key: str | None = None) -> str:
    """The secret encrypted for the database (TOTP_KEY of the app, or `key`)."""
    return _fernet(key).encrypt(secret.encode("ascii")).decode("ascii")


def unseal(sealed: str, key: str | None = None) -> str:
    try:
        return _fernet(key).decrypt(sealed.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeEncodeError):
        log.error("SAMENOP_TOTP_KEY does not decrypt a stored TOTP secret: the wrong key for this database")
        raise TotpKeyError(
            "SAMENOP_TOTP_KEY (or instance/totp_key) does not decrypt the TOTP secrets in this "
            "database: start with the key they were encrypted with"
        ) from None


def provision(user: User) -> str:
    """A new secret for `user`, stored encrypted; the plain secret is returned once, for the QR
    code or the administrator's --print-totp-secret."""
    secret = new_secret()
    user.totp_secret_encrypted = seal(secret)
    user.totp_last_step = None
    return secret


def has_secret(user: User) -> bool:
    return user.totp_secret_encrypted is not None


def secret_of(user: User) -> str:
    """The user's plain TOTP secret: the one way to it. Raises TotpKeyError on the wrong key."""
    if user.totp_secret_encrypted is None:
        raise ValueError(f"user {user.id} has no TOTP secret")
    return unseal(user.totp_secret_encrypted)


def check_key(session: Session) -> None:
    """Refuse a key that does not open the stored secrets (one is tried: they share the key)."""
    sealed = session.scalars(
        select(User.totp_secret_encrypted).where(User.totp_secret_encrypted.is_not(None)).limit(1)
    ).first()
    if sealed is not None:
        unseal(sealed)


def is_well_formed(code: str) -> bool:
    """Exactly six ASCII digits: full-width or Arabic-Indic digits and 7 digits are refused."""
    return isinstance(code, str) and _CODE.fullmatch(code) is not None


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step (±1 around now) whose code equals `code`, or None."""
    if not is_well_formed(code):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def claim_step(session: Session, user_id: int, step: int) -> bool:
    """Atomically record `step` as used; False if it (or a later one) was used already.

    One conditional UPDATE: of any number of concurrent logins with the same code,
    exactly one sees a row changed.
    """
    result = session.execute(
        update(User)
        .where(User.id == user_id)
        .where(or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def current_code(secret: str, now: float | None = None) -> str:
    """For provisioning scripts and tests: the code an authenticator would show now."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).at(time.time() if now is None else now)


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(name=username, issuer_name="Samen Op")


def qr_svg(secret: str, username: str) -> str:
    """The enrolment QR code as an inline SVG (no request for an image that carries the secret)."""
    return segno.make(provisioning_uri(secret, username), error="m").svg_inline(scale=5, omitsize=True)
