"""Normal forms the registry stores: postcodes, house-number suffixes and phone numbers.

lookup/normalise.py builds its query parsing on these, so that what is stored and what
is searched are normalised by one piece of code.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

POSTCODE_PATTERN = r"^\s*([1-9][0-9]{3})\s*([A-Za-z]{2})\s*$"
_POSTCODE = re.compile(POSTCODE_PATTERN)
# PostNL never issues these letter pairs
_UNUSED_LETTERS = {"SA", "SD", "SS"}
_SUFFIX_SEPARATORS = re.compile(r"[\s\-_/.]+")


def postcode(value: str) -> str | None:
    """'1234 ab' -> '1234AB'; None when it is not a Dutch postcode."""
    match = _POSTCODE.match(value or "")
    if not match:
        return None
    letters = match.group(2).upper()
    if letters in _UNUSED_LETTERS:
        return None
    return match.group(1) + letters


def postcode_display(value: str) -> str:
    return f"{value[:4]} {value[4:]}" if len(value) == 6 else value


def house_number_suffix(value: str | None) -> str:
    """'-a', ' A', 'bis', '2-hoog' -> 'A', 'A', 'BIS', '2HOOG'; '' for none."""
    return _SUFFIX_SEPARATORS.sub("", value or "").upper()


def phone(value: str) -> str | None:
    """A Dutch (or, with + / 00, foreign) phone number in E.164, or None when invalid."""
    text = (value or "").strip()
    if not text or len(text) > 32:
        return None
    try:
        number = phonenumbers.parse(text, "NL")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=65536)
def phone_display(e164: str | None) -> str:
    """As Dutch professionals type it: 06-12345678, 088-1234567, 0592-123456; abroad: +32 ...

    Every number of every plan a lookup shows passes here (dozens per answer): a Dutch number
    (+31, the Netherlands' country code alone) is built from the stored E.164 directly instead of
    parsed, a third of the cost (phonenumbers' parse and region lookup were most of an answer's
    serialisation)."""
    if not e164:
        return ""
    if e164.startswith("+31") and e164[3:].isdigit():
        number = phonenumbers.PhoneNumber(country_code=31, national_number=int(e164[3:]))
    else:
        try:
            number = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException:
            return e164
        if phonenumbers.region_code_for_number(number) != "NL":
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    national = str(number.national_number)
    ndc = _ndc_length(number)
    if ndc <= 0 or ndc >= len(national):
        return "0" + national if not national.startswith("14") else national
    return f"0{national[:ndc]}-{national[ndc:]}"


_NON_DIGITS = re.compile(r"\D+")


def _ndc_length(number: phonenumbers.PhoneNumber) -> int:
    """phonenumbers.length_of_national_destination_code for a number of the Netherlands: the first
    group after the country code in the international format, if another follows. phonenumbers
    also asks the number's type there, a third of its cost, which only counts for a country with a
    mobile token (Argentina's 9), not for +31 (tests/lookup/test_normalise.py)."""
    if number.extension is not None:
        return int(phonenumbers.length_of_national_destination_code(number))
    groups = _NON_DIGITS.split(
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    )
    return len(groups[2]) if len(groups) > 3 else 0
