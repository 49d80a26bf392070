"""What a lookup says: how the search field was read ("Kaya 1988" is a name and a year of birth,
not Kayastraat 1988; "Lindenlaan Assen" is an address), with one key to read it the other way,
and for every plan found what it was found on, a person who must not be informed unmistakably."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from lookup import normalise
from registry.core.vocabulary import QueryKind
from tests.conftest import csrf_from
from tests.registry.plan_data import address, person, plan_body

LOOKUPS = "/api/v1/lookups"
PAGE = "/raadplegen"

# --- reading the one search field -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kind", "name", "year", "other"),
    [
        ("Kaya 1988", QueryKind.PERSON, "Kaya", 1988, QueryKind.ADDRESS_TEXT),
        ("Murat Kaya, 1988", QueryKind.PERSON, "Murat Kaya", 1988, QueryKind.ADDRESS_TEXT),
        ("Kayastraat 1988", QueryKind.ADDRESS_TEXT, "", None, QueryKind.PERSON),
        ("Lindenlaan Assen", QueryKind.ADDRESS_TEXT, "", None, QueryKind.PERSON),
        ("Kerkstr. Assen", QueryKind.ADDRESS_TEXT, "", None, QueryKind.PERSON),
        ("Kerkstraat 14 Assen", QueryKind.ADDRESS_TEXT, "", None, QueryKind.PERSON),
        ("Jansen 14", QueryKind.ADDRESS_TEXT, "", None, QueryKind.PERSON),
        ("Sanne Bos", QueryKind.PERSON, "Sanne Bos", None, QueryKind.ADDRESS_TEXT),
        ("Kaya 2099", QueryKind.ADDRESS_TEXT, "", None, QueryKind.PERSON),  # no year of birth yet
        ("Noë van der Veen 02-01-1990", QueryKind.PERSON, "Noë van der Veen", None, None),
    ],
)
def test_the_search_field_is_read_as_a_name_or_an_address_and_names_the_other_reading(
    typed, kind, name, year, other
):
    query = normalise.understand(typed, this_year=2026)

    assert query is not None
    assert (query.kind, query.name, query.birth_year, query.other) == (kind, name, year, other)


def test_a_text_read_the_other_way_keeps_the_way_back():
    as_address = normalise.understand("Kaya 1988", read_as="address_text", this_year=2026)
    assert as_address is not None
    assert (as_address.kind, as_address.text, as_address.other) == ("address_text", "Kaya 1988", "person")

    as_name = normalise.understand("Lindenlaan Assen", read_as="person", this_year=2026)
    assert as_name is not None
    assert (as_name.kind, as_name.name, as_name.other) == ("person", "Lindenlaan Assen", "address_text")


def test_postcodes_and_phone_numbers_have_one_reading():
    for typed in ("9401 AB 14", "06-12345678"):
        query = normalise.understand(typed)
        assert query is not None
        assert query.other is None


# --- a family to find -------------------------------------------------------------------------------

SANNE = person(first_name="Sanne", surname_prefix="", surname="Bos", birth_date="1992-03-04", phone=None)
MURAT = person(first_name="Murat", surname_prefix="", surname="Kaya", birth_date="1988-07-15",
               role="perpetrator", phone="06-11223344", do_not_inform=True)  # fmt: skip
LINDENLAAN = address(postcode="9402 CD", house_number=7, street="Lindenlaan", city="Assen")
SAFE = address(postcode="9403 EF", house_number=1, street="Opvangweg", city="Assen", role="safe_address")


@pytest.fixture
def registrant(make_user: Any, make_org: Any) -> Any:
    return make_user(roles=("registrant",), org=make_org("Wijkteam Assen", kind="social_team"))


@pytest.fixture
def responder(make_user: Any, make_org: Any) -> Any:
    return make_user(roles=("responder",), org=make_org("Meldkamer Noord", kind="police"))


@pytest.fixture
def headers(responder: Any, auth_headers: Any) -> dict[str, str]:
    return auth_headers(responder)


def create(client: FlaskClient, headers: dict[str, str], **overrides: Any) -> str:
    body = plan_body(**{"persons": [SANNE, MURAT], "addresses": [LINDENLAAN, SAFE], **overrides})
    response = client.post("/api/v1/plans", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


@pytest.fixture
def kaya(client: FlaskClient, registrant: Any, auth_headers: Any) -> str:
    return create(client, auth_headers(registrant), title="Gezin Kaya")


def look_up(client: FlaskClient, headers: dict[str, str], **query: Any) -> dict[str, Any]:
    response = client.post(LOOKUPS, json={"incident_ref": "P-2026-0001", **query}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- what it matched on, in the API -----------------------------------------------------------------


def test_a_call_from_the_perpetrators_number_says_so_and_that_he_must_not_be_informed(client, headers, kaya):
    body = look_up(client, headers, phone="06-11223344")

    [match] = body["matches"]
    assert match["plan"]["id"] == kaya
    assert match["matched_on"] == {
        "kind": "phone",
        "text": "telefoon van Murat Kaya — pleger — NIET INFORMEREN",
        "person_role": "perpetrator",
        "do_not_inform": True,
        "birth_date_matches": None,
        "address_role": None,
    }


def test_a_name_with_its_birth_date_says_whose_name_and_that_the_date_is_right(client, headers, kaya):
    body = look_up(client, headers, person={"name": "Sanne Bosch", "birth_date": "1992-03-04"})

    [match] = body["matches"]
    assert match["matched_on"]["kind"] == "name"
    assert match["matched_on"]["text"] == "naam Sanne Bos (slachtoffer), geboortedatum klopt"
    assert match["matched_on"]["birth_date_matches"] is True
    assert match["matched_on"]["do_not_inform"] is False


def test_an_address_says_which_address_of_the_plan_it_is(client, headers, kaya):
    exact = look_up(client, headers, address={"postcode": "9403EF", "house_number": 1})
    typed = look_up(client, headers, address_text="Lindenlaan 7 Assen")

    assert (
        exact["matches"][0]["matched_on"]["text"] == "adres Opvangweg 1, Assen — opvangadres (veilig adres)"
    )
    assert exact["matches"][0]["matched_on"]["address_role"] == "safe_address"
    assert typed["matches"][0]["matched_on"]["text"] == "adres Lindenlaan 7, Assen — woonadres"
    assert typed["matches"][0]["matched_on"]["person_role"] is None


def test_a_candidate_opened_says_whose_name_it_was_and_that_he_must_not_be_informed(client, headers, kaya):
    """A name alone lists candidates, which say nothing of the plan (no role); the one opened
    says what it was found on, as any match."""
    listed = look_up(client, headers, person={"name": "Moerat Kaja"})
    [candidate] = listed["candidates"]
    assert "matched_on" not in candidate

    opened = client.post(
        f"{LOOKUPS}/{listed['lookup_id']}/open", json={"plan_id": candidate["plan_id"]}, headers=headers
    )

    assert opened.status_code == 200, opened.get_json()
    [match] = opened.get_json()["matches"]
    assert match["plan"]["id"] == kaya
    assert match["matched_on"]["text"] == "naam Murat Kaya (pleger) — NIET INFORMEREN"
    assert match["matched_on"]["do_not_inform"] is True


def test_matched_on_is_described_in_the_openapi(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    # the object (the enum of its `kind` is a component named MatchedOn too)
    described = next(
        schema for name, schema in schemas.items() if name.startswith("MatchedOn") and "properties" in schema
    )

    assert set(described["properties"]) == {
        "kind", "text", "person_role", "do_not_inform", "birth_date_matches", "address_role",
    }  # fmt: skip


# --- a year of birth ------------------------------------------------------------------------------


def test_a_name_with_a_year_of_birth_lists_only_the_persons_born_that_year(
    client, headers, registrant, auth_headers, kaya
):
    other = person(first_name="Murat", surname_prefix="", surname="Kaya", birth_date="1990-01-01", phone=None)
    create(
        client, auth_headers(registrant), title="Gezin Kaya (ander)", persons=[other], addresses=[address()]
    )

    body = look_up(client, headers, person={"name": "Kaya", "birth_year": 1988})

    assert body["matches"] == []
    assert [(c["plan_id"], c["birth_year"]) for c in body["candidates"]] == [(kaya, 1988)]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"name": "Kaya", "birth_year": 1850}, "Geef een geboortejaar van 1900"),
        ({"name": "Kaya", "birth_year": 1988, "birth_date": "1990-01-01"}, "hoort bij de geboortedatum"),
    ],
)
def test_an_impossible_year_of_birth_is_refused_naming_the_field(client, headers, query, message):
    response = client.post(LOOKUPS, json={"incident_ref": "P-2026-0001", "person": query}, headers=headers)

    assert response.status_code == 422
    [said] = response.get_json()["error"]["fields"]["person.birth_year"]
    assert message in said


# --- on the page ----------------------------------------------------------------------------------


def search(client: FlaskClient, text: str, read_as: str | None = None) -> tuple[int, str]:
    token = csrf_from(client.get(PAGE).get_data(as_text=True))
    data = {"incident_ref": "P-2026-0001", "q": text, "csrf_token": token}
    if read_as:
        data["read_as"] = read_as
    answer = client.post(PAGE, data=data)
    return answer.status_code, answer.get_data(as_text=True)


def plain(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_page_says_how_it_read_kaya_1988_and_reads_it_as_an_address_with_one_key(
    client, web_login, responder, kaya
):
    web_login(client, responder)

    status, html = search(client, "Kaya 1988")

    assert status == 200
    assert "Gelezen als naam Kaya, geboren in 1988 ." in plain(html)
    assert 'id="candidate-1"' in html
    assert 'id="candidate-2"' not in html
    button = re.search(r'<button type="submit" name="read_as" value="address_text" accesskey="a"[^>]*>', html)
    assert button, "one key reads it as an address"
    assert "Lees als adres" in html

    status, html = search(client, "Kaya 1988", read_as="address_text")

    assert status == 200
    assert "Gelezen als adres: straat Kaya, huisnummer 1988 ." in plain(html)
    assert "Geen handelingskader gevonden" in html
    assert 'value="person" accesskey="n"' in html


def test_the_page_reads_lindenlaan_assen_as_an_address_and_asks_for_the_number(
    client, web_login, responder, kaya
):
    web_login(client, responder)

    status, html = search(client, "Lindenlaan Assen")

    assert status == 422
    assert "Gelezen als adres: straat Lindenlaan, plaats Assen, zonder huisnummer ." in plain(html)
    assert "Noem straat én huisnummer" in html
    assert "Lees als naam" in html


def test_the_page_says_found_on_the_number_of_a_person_not_to_be_informed_in_black(
    client, web_login, responder, kaya
):
    web_login(client, responder)

    status, html = search(client, "06-11223344")

    assert status == 200
    found = re.search(r'<p class="matched-on matched-on-dni" id="matched-on-1">([^<]+)</p>', html)
    assert found, html
    assert found.group(1) == "Gevonden op telefoon van Murat Kaya — pleger — NIET INFORMEREN"
    assert "Gelezen als telefoonnummer 06-11223344 ." in plain(html)


def test_the_page_says_found_on_a_name_with_its_birth_date(client, web_login, responder, kaya):
    web_login(client, responder)

    status, html = search(client, "Sanne Bosch 04-03-1992")

    assert status == 200
    assert "Gelezen als naam Sanne Bosch, geboren op" in plain(html)
    found = re.search(r'<p class="matched-on" id="matched-on-1">([^<]+)</p>', html)
    assert found, html
    assert found.group(1) == "Gevonden op naam Sanne Bos (slachtoffer), geboortedatum klopt"
