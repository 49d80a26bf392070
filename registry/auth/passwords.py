"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn
from zxcvbn.matching import add_frequency_lists

MIN_LENGTH = 12
MAX_LENGTH = 128

#: zxcvbn's score below which a password is refused: 3 means more than ~10^8 guesses
MIN_SCORE = 3
#: a dictionary word (or two) with digits and symbols around it ("Welkom2026!!") is refused when
#: the word alone takes fewer guesses than this; zxcvbn scores the decorated word too kindly,
#: since every extra part adds a fixed 10^4 to its estimate
MAX_CORE_GUESSES = 10**6
#: what may stand around such a word: a year, a number, a few symbols
_DECORATED = re.compile(r"^[\W\d_]{0,6}(?P<core>[^\W\d_]+(?: [^\W\d_]+)?)[\W\d_]{0,6}$")

WORD_LIST = Path(__file__).with_name("dutch_words.txt")


def _dutch_words() -> list[str]:
    """The Dutch words and the app's own words (dutch_words.txt), most likely first."""
    lines = WORD_LIST.read_text(encoding="utf-8").splitlines()
    return [line.strip().lower() for line in lines if line.strip() and not line.startswith("#")]


# zxcvbn's dictionaries are English: "welkom", "wachtwoord" and "meldkamer" were unknown words
# to it. Added once, for every check in this process, as one more ranked dictionary.
add_frequency_lists({"samenop_dutch": _dutch_words()})


class PasswordPolicyError(ValueError):
    """The password is refused; the message says what to do, in Dutch."""


def hasher(params: dict[str, Any] | None = None) -> PasswordHasher:
    return PasswordHasher(**(params or {}))


def check_policy(password: str, user_inputs: list[str] | None = None) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"Kies een wachtwoord van minstens {MIN_LENGTH} tekens.")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"Kies een wachtwoord van hoogstens {MAX_LENGTH} tekens.")
    # the whole of each input ("m.verhoeven", "Marieke Verhoeven") and each of its words
    inputs = [value for value in (user_inputs or []) if value]
    inputs += [word for value in inputs for word in re.split(r"[\W_]+", value) if len(word) > 2]
    # zxcvbn knows the common-password lists (and, since above, Dutch ones); score < 3 means
    # guessable within ~10^8 tries
    if zxcvbn(password, user_inputs=inputs)["score"] < MIN_SCORE or _decorated_word(password, inputs):
        raise PasswordPolicyError(
            "Dit wachtwoord is te voorspelbaar (te gangbaar of lijkt op uw naam). "
            "Kies bijvoorbeeld vier losse woorden achter elkaar."
        )


def _decorated_word(password: str, user_inputs: list[str]) -> bool:
    """A common word, or two, with a year, digits or symbols around it: "Wachtwoord2026!"."""
    match = _DECORATED.match(password)
    if match is None:
        return False
    # the guesses of the words' parts multiplied, without the fixed amount zxcvbn adds per part
    # (a space between two words would otherwise count as a random character)
    guesses = 1.0
    for word in match.group("core").split(" "):
        for part in zxcvbn(word, user_inputs=user_inputs)["sequence"]:
            guesses *= float(part["guesses"])
    return guesses < MAX_CORE_GUESSES


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
