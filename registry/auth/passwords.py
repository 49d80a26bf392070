"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 128


class PasswordPolicyError(ValueError):
    """The password is refused; the message says what to do, in Dutch."""


def hasher(params: dict[str, Any] | None = None) -> PasswordHasher:
    return PasswordHasher(**(params or {}))


def check_policy(password: str, user_inputs: list[str] | None = None) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"Kies een wachtwoord van minstens {MIN_LENGTH} tekens.")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"Kies een wachtwoord van hoogstens {MAX_LENGTH} tekens.")
    # zxcvbn knows the common-password lists; score < 3 means guessable within ~10^8 tries
    if zxcvbn(password, user_inputs=user_inputs or [])["score"] < 3:
        raise PasswordPolicyError(
            "Dit wachtwoord is te voorspelbaar (te gangbaar of lijkt op uw naam). "
            "Kies bijvoorbeeld vier losse woorden achter elkaar."
        )


def hash_password(password: str, params: dict[str, Any] | None = None) -> str:
    return hasher(params).hash(password)


def verify_password(stored_hash: str | None, password: str, params: dict[str, Any] | None = None) -> bool:
    """Constant work whether or not the user exists: an absent hash verifies a dummy."""
    ph = hasher(params)
    target = stored_hash or _dummy_hash(ph)
    try:
        ph.verify(target, password)
    except (VerificationError, InvalidHashError):
        return False
    return stored_hash is not None


_DUMMY: dict[tuple[int, int, int], str] = {}


def _dummy_hash(ph: PasswordHasher) -> str:
    key = (ph.time_cost, ph.memory_cost, ph.parallelism)
    if key not in _DUMMY:
        _DUMMY[key] = ph.hash("samenop-dummy-password-for-timing")
    return _DUMMY[key]
