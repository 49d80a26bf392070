"""What a caller says, in its normal form: postcodes, house numbers, streets, cities, names,
phone numbers, and the one search field of the lookup page. Pure functions, no app."""

from __future__ import annotations

import string
from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from lookup import normalise
from lookup.normalise import Name

# --- postcodes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["9401AB", "9401ab", " 9401 AB ", "9401 ab", "9401  Ab", "\t9401aB\n"])
def test_postcode_in_any_spacing_or_case_is_one_postcode(typed):
    assert normalise.postcode(typed) == "9401AB"


@pytest.mark.parametrize(
    "typed",
    [
        "0123AB",  # no postcode starts with 0
        "1234SS",  # letter pairs PostNL never issues
        "1234SA",
        "1234SD",
        "123AB",  # three digits
        "12345AB",
        "9401A",
        "9401ABC",
        "9401-AB",
        "AB9401",
        "",
        "   ",
    ],
)
def test_what_is_not_a_dutch_postcode_is_refused(typed):
    assert normalise.postcode(typed) is None


# --- house numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12", (12, "")),
        (" 12 ", (12, "")),
        ("12a", (12, "A")),
        ("12A", (12, "A")),
        ("12-A", (12, "A")),
        ("12 a", (12, "A")),
        ("12 bis", (12, "BIS")),
        ("12-2hoog", (12, "2HOOG")),
        ("12 2 hoog", (12, "2HOOG")),
        ("12 II", (12, "II")),
        ("12/3", (12, "3")),
        ("1", (1, "")),
        ("99999", (99999, "")),
    ],
)
def test_house_number_and_suffix_in_the_ways_people_write_them(typed, expected):
    assert normalise.house_number(typed) == expected


@pytest.mark.parametrize("typed", ["0", "00", "100000", "123456", "", "a", "-12", "twaalf", "1" * 5000])
def test_a_house_number_outside_1_to_99999_is_refused(typed):
    assert normalise.house_number(typed) is None


def test_suffixes_written_differently_are_the_same_suffix():
    written = ["12a", "12-A", "12 a", "12 A", "12/a"]
    assert {normalise.house_number(text) for text in written} == {(12, "A")}


# --- streets and cities -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Kerkstraat", "kerkstraat"),
        ("KERKSTRAAT", "kerkstraat"),
        ("kerkstraat", "kerkstraat"),
        ("Kérkstraat", "kerkstraat"),
        ("Kerkstr.", "kerkstraat"),
        ("Kerkstr", "kerkstraat"),
        ("Kerk straat", "kerkstraat"),
        ("Burg. de Withstr.", "burgemeester de withstraat"),
        ("Burgemeester de Withstraat", "burgemeester de withstraat"),
        ("St. Jansstraat", "sint jansstraat"),
        ("Dr. Nassaulaan", "dokter nassaulaan"),
        ("Prins Hendrikkade", "prins hendrikkade"),
    ],
)
def test_street_case_diacritics_and_abbreviations(typed, expected):
    assert normalise.street(typed) == expected


def test_an_abbreviated_street_equals_the_written_out_street():
    assert normalise.street("Kerkstr.") == normalise.street("Kerkstraat")
    assert normalise.street("Burg. de Withstr.") == normalise.street("Burgemeester de Withstraat")
    assert normalise.street("Kerk straat") == normalise.street("Kerkstraat")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Den Haag", "'s-Gravenhage"),
        ("den haag", "'s Gravenhage"),
        ("Den Bosch", "'s-Hertogenbosch"),
        ("ASSEN", "Assen"),
        ("Ámsterdam", "Amsterdam"),
    ],
)
def test_city_spellings_of_one_city_are_equal(one, other):
    assert normalise.city(one) == normalise.city(other)


def test_different_cities_stay_different():
    assert normalise.city("Den Haag") != normalise.city("Den Helder")


# --- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [("Noë", "Noe"), ("Ünal", "Unal"), ("Yılmaz", "Yilmaz"), ("Çelik", "Celik"), ("Groß", "Gross")],
)
def test_diacritics_fold_away(one, other):
    assert normalise.fold(one) == normalise.fold(other) == other.lower()


def test_typographic_and_plain_apostrophes_fold_alike():
    assert normalise.fold("d’Ancona") == normalise.fold("d'Ancona") == "dancona"
    assert normalise.split_prefix("van ’t Hof") == normalise.split_prefix("van 't Hof") == ("van t", "hof")


@pytest.mark.parametrize(
    ("surname", "expected"),
    [
        ("van der Veen", ("van der", "veen")),
        ("Van Der Veen", ("van der", "veen")),
        ("Veen", ("", "veen")),
        ("van 't Hof", ("van t", "hof")),
        ("de Vries", ("de", "vries")),
        ("van den Berg", ("van den", "berg")),
        ("van", ("", "van")),  # a surname that is only a prefix word stays a surname
    ],
)
def test_tussenvoegsel_is_split_from_the_surname(surname, expected):
    assert normalise.split_prefix(surname) == expected


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("van der Veen", Name("", "van der", "veen")),
        ("Veen", Name("", "", "veen")),
        ("Veen, Noë", Name("noe", "", "veen")),
        ("Veen, Noë van der", Name("noe", "van der", "veen")),
        ("N. van der Veen", Name("n", "van der", "veen")),
        ("Noë van der Veen", Name("noe", "van der", "veen")),
        ("van 't Hof", Name("", "van t", "hof")),
        ("Jan van 't Hof", Name("jan", "van t", "hof")),
        ("Jan de Vries", Name("jan", "de", "vries")),
        ("Vries, Jan de", Name("jan", "de", "vries")),
        ("Ünal Yılmaz", Name("unal", "", "yilmaz")),
    ],
)
def test_what_a_caller_says_is_split_into_first_name_prefix_and_surname(said, expected):
    assert normalise.query_name(said) == expected


def test_veen_and_van_der_veen_have_the_same_surname_core_as_the_registered_person():
    registered = normalise.stored_name("Noë", "van der", "Veen")
    assert normalise.query_name("Veen").core == registered.core
    assert normalise.query_name("van der Veen").core == registered.core
    assert normalise.query_name("Noe van der Veen") == registered


def test_a_prefix_typed_in_the_surname_field_is_stored_like_one_in_its_own_field():
    assert normalise.stored_name("Noë", "", "van der Veen") == normalise.stored_name("Noë", "van der", "Veen")
    assert normalise.stored_name("Jan", "", "van 't Hof") == normalise.stored_name("Jan", "van 't", "Hof")


# --- phone numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["06-12345678", "06 1234 5678", "0612345678", "+31612345678", "0031612345678", "+31 (0)6 12345678",
     "+31 6 12345678", "06-12 34 56 78"],
)  # fmt: skip
def test_a_mobile_number_in_any_notation_is_one_number(typed):
    assert normalise.phone(typed) == "+31612345678"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("088-1234567", "+31881234567"),
        ("020-1234567", "+31201234567"),
        ("020 123 4567", "+31201234567"),
        ("0592-123456", "+31592123456"),
        ("+31 592 123456", "+31592123456"),
    ],
)
def test_landlines_are_recognised(typed, expected):
    assert normalise.phone(typed) == expected


@pytest.mark.parametrize(
    "typed", ["garbage", "", "12345", "06-1234567", "06-123456789", "0612345678901", "+31", "06-abcdefgh"]
)
def test_what_is_not_a_phone_number_is_refused(typed):
    assert normalise.phone(typed) is None


@pytest.mark.parametrize(
    ("e164", "shown"),
    [
        ("+31612345678", "06-12345678"),
        ("+31881234567", "088-1234567"),
        ("+31201234567", "020-1234567"),
        ("+31592123456", "0592-123456"),
        ("+31800123456", "0800-123456"),
        ("+3114020", "14020"),
        ("+3197012345678", "0970-12345678"),
        ("+32471234567", "+32 471 23 45 67"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_stored_number_is_shown_as_dutch_professionals_type_it(e164, shown):
    from registry.core.normalise import phone_display

    assert phone_display.__wrapped__(e164) == shown


@given(
    st.integers(min_value=100_000_000, max_value=999_999_999)
    | st.integers(min_value=1_000, max_value=99_999_999_999)
)
@example(612345678)
@example(881234567)
@example(14020)
def test_the_area_code_of_a_dutch_number_is_as_long_as_phonenumbers_says(national):
    """phone_display splits +31 numbers without asking their type (registry.core.normalise._ndc_length):
    the number type only counts for a country with a mobile token, and +31 has none."""
    import phonenumbers

    from registry.core.normalise import _ndc_length

    assert phonenumbers.country_mobile_token(31) == ""
    number = phonenumbers.PhoneNumber(country_code=31, national_number=national)
    assert _ndc_length(number) == phonenumbers.length_of_national_destination_code(number)


# --- free-text addresses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Kerkstraat 14 Assen", ("kerkstraat", 14, "", "assen")),
        ("Kerkstr. 14a, Assen", ("kerkstraat", 14, "A", "assen")),
        ("Kerkstraat 14-2hoog Assen", ("kerkstraat", 14, "2HOOG", "assen")),
        ("Kerkstraat 14 bis Assen", ("kerkstraat", 14, "BIS", "assen")),
        ("Kerkstrat 14 Asen", ("kerkstrat", 14, "", "asen")),
        ("Burg. de Withstr. 3 Den Haag", ("burgemeester de withstraat", 3, "", "s gravenhage")),
        ("Kerkstraat 14", ("kerkstraat", 14, "", "")),
        ("1e Kerkstraat 3 Assen", ("1e kerkstraat", 3, "", "assen")),  # the ordinal is the street's
        ("2de Hugo de Grootstraat 7 Amsterdam", ("2de hugo de grootstraat", 7, "", "amsterdam")),
        ("Kerkstraat", ("kerkstraat", None, "", "")),
    ],
)
def test_free_text_address_is_split_into_street_number_suffix_city(typed, expected):
    parsed = normalise.address_text(typed)
    assert (parsed.street, parsed.house_number, parsed.house_number_suffix, parsed.city) == expected


# --- the one search field -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "postcode", "number", "suffix"),
    [
        ("9401AB 14", "9401AB", 14, ""),
        ("9401 ab 14-a", "9401AB", 14, "A"),
        ("9401AB14", "9401AB", 14, ""),
        (" 9401 AB 14 bis ", "9401AB", 14, "BIS"),
    ],
)
def test_understand_postcode_and_number_as_an_exact_address(typed, postcode, number, suffix):
    query = normalise.understand(typed)
    assert query is not None
    assert (query.kind, query.postcode, query.house_number, query.house_number_suffix) == (
        "address",
        postcode,
        number,
        suffix,
    )


@pytest.mark.parametrize("typed", ["Kerkstraat 14 Assen", "Kerkstr. 14a, Assen", "Kerkstrat 14 Asen"])
def test_understand_street_and_number_as_a_free_text_address(typed):
    query = normalise.understand(typed)
    assert query is not None
    assert query.kind == "address_text"
    assert query.text == typed


@pytest.mark.parametrize(
    ("typed", "name", "born"),
    [
        ("Noë van der Veen", "Noë van der Veen", None),
        ("Veen, Noë", "Veen, Noë", None),
        ("Noë van der Veen 02-01-1990", "Noë van der Veen", date(1990, 1, 2)),
        ("Noë van der Veen 2-1-1990", "Noë van der Veen", date(1990, 1, 2)),
        ("Noë van der Veen 1990-01-02", "Noë van der Veen", date(1990, 1, 2)),
        ("van der Veen 02.01.1990", "van der Veen", date(1990, 1, 2)),
    ],
)
def test_understand_a_name_with_or_without_birth_date_as_a_person(typed, name, born):
    query = normalise.understand(typed)
    assert query is not None
    assert (query.kind, query.name, query.birth_date) == ("person", name, born)


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("06-12345678", "+31612345678"),
        ("06 1234 5678", "+31612345678"),
        ("+31612345678", "+31612345678"),
        ("0031612345678", "+31612345678"),
        ("+31 (0)6 12345678", "+31612345678"),
        ("088-1234567", "+31881234567"),
        ("0592-123456", "+31592123456"),
    ],
)
def test_understand_a_phone_number(typed, e164):
    query = normalise.understand(typed)
    assert query is not None
    assert (query.kind, query.phone) == ("phone", e164)


@pytest.mark.parametrize("typed", ["", "   ", "12", "1990-01-02", "!!!"])
def test_understand_nothing_usable_as_nothing(typed):
    assert normalise.understand(typed) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("02-01-1990", date(1990, 1, 2)), ("1990-01-02", date(1990, 1, 2)), ("31-02-1990", None), ("x", None)],
)
def test_parse_date_day_first_or_iso_and_refuses_impossible_dates(typed, expected):
    assert normalise.parse_date(typed) == expected


# --- properties ---------------------------------------------------------------------------------


@given(st.text())
@example("Noë")
@example("İlhan")
@example("ℌ")
@example("ẞ")
def test_fold_is_ascii_only_and_idempotent(text):
    folded = normalise.fold(text)
    assert folded.isascii()
    assert set(folded) <= set(string.ascii_lowercase + string.digits + " ")
    assert normalise.fold(folded) == folded


_letters = st.sampled_from(string.ascii_letters)
_postcodes = st.builds(
    lambda digits, a, b, before, middle, after: f"{before}{digits}{middle}{a}{b}{after}",
    st.integers(1000, 9999).map(str),
    _letters,
    _letters,
    st.sampled_from(["", " ", "  "]),
    st.sampled_from(["", " ", "  ", "\t"]),
    st.sampled_from(["", " "]),
)


@given(_postcodes)
def test_postcode_normal_form_is_a_fixed_point(typed):
    normal = normalise.postcode(typed)
    if normal is None:  # one of the letter pairs PostNL does not use
        assert typed.strip()[-2:].upper() in {"SA", "SD", "SS"}
        return
    assert len(normal) == 6
    assert normalise.postcode(normal) == normal
    assert normalise.postcode(normal[:4] + " " + normal[4:].lower()) == normal


# Dutch mobile numbers: 06 followed by 1-6 or 8 and seven more digits
_mobiles = st.builds(
    lambda first, rest: f"{first}{rest:07d}", st.sampled_from("1234568"), st.integers(0, 9_999_999)
)


@given(_mobiles)
def test_any_mobile_number_in_each_of_the_four_notations_gives_one_e164(digits):
    notations = [
        f"06-{digits}",
        f"06 {digits[:4]} {digits[4:]}",
        f"+316{digits}",
        f"00316{digits}",
    ]
    assert {normalise.phone(text) for text in notations} == {f"+316{digits}"}


@given(st.text())
@example("9401AB 99999999")
@example("00-00-0000")
@example("0000-00-00")
@example("+" + "9" * 40)
@example("1" * 5000)
@example("Kerkstraat " + "1" * 5000)
def test_understand_never_raises(text):
    query = normalise.understand(text)
    assert query is None or query.kind in {"address", "address_text", "person", "phone"}
