"""The password policy in Dutch, as Given/When/Then: zxcvbn's dictionaries are English, so the
passwords Dutch users reach for first ("Welkom2026!!", the app's own name) passed; a passphrase
of four uncommon Dutch words must still pass."""

from __future__ import annotations

import pytest

from registry.auth import passwords
from registry.auth.passwords import PasswordPolicyError, check_policy


@pytest.mark.parametrize(
    "password",
    [
        "Welkom2026!!",
        "Wachtwoord2026!",
        "Samenop2026!!",
        "Meldkamer2026",
        # the same habit with other words of the list: seasons, the app's words, places
        "Zomer Winter2026!",
        "Handelingskader1!",
        "Wijkteam Assen 2026",
        "!!Jeugdzorg2025",
    ],
)
def test_a_common_dutch_word_with_a_year_or_symbols_is_refused(password: str) -> None:
    # When such a password is chosen, Then it is refused, saying what to do instead
    with pytest.raises(PasswordPolicyError, match="vier losse woorden"):
        check_policy(password)


@pytest.mark.parametrize(
    "password",
    [
        "kapstok zeilboot regenjas vlinder",
        "paraplu wasknijper kompas egel",
        # the test suite's own password, and random characters
        "correct paard batterij nietje",
        "Xq7#mR2!pL9z",
        "8fj3kLmq92!!",
    ],
)
def test_a_passphrase_of_uncommon_words_or_random_characters_passes(password: str) -> None:
    check_policy(password)


def test_the_word_list_holds_the_common_words_and_the_apps_own() -> None:
    words = set(passwords._dutch_words())
    assert {"welkom", "wachtwoord", "geheim", "samenop", "meldkamer", "handelingskader"} <= words
    assert {"maandag", "zondag", "januari", "december", "voorjaar", "najaar"} <= words
    # one word a line, lower case: zxcvbn compares the lowered password with them
    assert all(word == word.lower() and " " not in word for word in words)


def test_the_users_own_name_still_counts() -> None:
    # zxcvbn's user inputs keep working next to the Dutch list, word by word
    with pytest.raises(PasswordPolicyError):
        check_policy("Verhoeven2026!", user_inputs=["m.verhoeven", "Marieke Verhoeven"])
