"""TOTP, the second factor: the only module that imports pyotp.

Rules: six ASCII digits only; the current step and one either side; the last accepted
step is stored and every code at or below it is refused, also when logins race.
Codes and secrets are never logged.
"""

from __future__ import annotations

import re
import time

import pyotp
import segno
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from registry.core.models import User

STEP_SECONDS = 30
_CODE = re.compile(r"[0-9]{6}", re.ASCII)


def new_secret() -> str:
    return pyotp.random_base32()


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
