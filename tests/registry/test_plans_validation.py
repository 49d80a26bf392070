"""Every validation rule of a plan, on create and on update: 422 (400 for a body that is no JSON
object) naming the field, and nothing stored. Then arbitrary JSON: never a 5xx, never half a plan."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.conftest import csrf_from
from tests.registry.plan_data import (
    API,
    address,
    agreement,
    contact,
    measure,
    person,
    plan_body,
    stored_rows,
    today,
    window,
)


@dataclass(frozen=True)
class Raw:
    """A request body sent as it is, with a content type."""

    data: str | bytes
    content_type: str = "application/json"


Body = dict[str, Any] | Raw
Case = tuple[str, Callable[[], Body], str]


def days(n: int) -> str:
    return (today() + timedelta(days=n)).isoformat()


def rows(kind: str, **overrides: Any) -> dict[str, Any]:
    """A valid body whose first row of `kind` has the given fields replaced."""
    make = {
        "addresses": address,
        "persons": person,
        "agreements": agreement,
        "contacts": contact,
        "measures": measure,
    }[kind]
    return plan_body(**{kind: [make(**overrides)]})


def without(body: dict[str, Any], *path: str | int) -> dict[str, Any]:
    """The body with one (nested) field left out."""
    result = copy.deepcopy(body)
    node: Any = result
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return result


def unknown_in(kind: str, name: str) -> dict[str, Any]:
    body = plan_body()
    body[kind][0][name] = "extra"
    return body


def raw_with(field: str, json_text: str) -> Raw:
    """A valid body whose `field` holds a JSON text Python's json.dumps would never write."""
    marker = "__RAW__"
    return Raw(json.dumps(plan_body(**{field: marker})).replace(f'"{marker}"', json_text))


def six_months(extra_days: int = 0) -> str:
    return (today() + relativedelta(months=6) + timedelta(days=extra_days)).isoformat()


def each_value(kind: str, name: str, values: Iterable[Any]) -> list[Case]:
    """One case per value of field `name` in the first row of `kind`."""

    def case(value: Any) -> Case:
        return (f"{name} {value!r}", lambda: rows(kind, **{name: value}), f"{kind}.0.{name}")

    return [case(value) for value in values]


BAD_PHONES = ("12345", "06-1234567", "06123456789", "0612345678901234567890", "bel mij", "112", "",
              612345678, "+31 6 1234 5678 9")  # fmt: skip

CASES: dict[str, list[Case]] = {
    "postcode": each_value(
        "addresses",
        "postcode",
        [
            "1234",
            "940 AB",
            "09401 AB",
            "0401 AB",
            "9401 A",
            "9401 ABC",
            "AB 9401",
            "9401 SA",
            "9401 ÄB",
            "９４０１ AB",
            "",
            "   ",
            9401,
            None,
            ["9401 AB"],
        ],
    ),
    "house number": each_value(
        "addresses", "house_number", [0, -1, 100000, 10**20, 14.5, "abc", "14a", "", None, True, [], {}]
    )
    + [("missing", lambda: without(plan_body(), "addresses", 0, "house_number"), "addresses.0.house_number")],
    "house number suffix": [
        (
            "too long",
            lambda: rows("addresses", house_number_suffix="A" * 11),
            "addresses.0.house_number_suffix",
        ),
        ("a number", lambda: rows("addresses", house_number_suffix=2), "addresses.0.house_number_suffix"),
        ("NUL", lambda: rows("addresses", house_number_suffix="a\x00"), "addresses.0.house_number_suffix"),
    ],
    "address or person": [
        ("both empty", lambda: plan_body(addresses=[], persons=[]), "addresses"),
        ("both left out", lambda: without(without(plan_body(), "addresses"), "persons"), "addresses"),
    ],
    "agreements": [
        ("empty list", lambda: plan_body(agreements=[]), "agreements"),
        ("left out", lambda: without(plan_body(), "agreements"), "agreements"),
        ("empty trigger", lambda: rows("agreements", trigger="  "), "agreements.0.trigger"),
        ("no action", lambda: without(plan_body(), "agreements", 0, "action"), "agreements.0.action"),
    ],
    "validity": [
        ("today", lambda: plan_body(valid_until=days(0)), "valid_until"),
        ("yesterday", lambda: plan_body(valid_until=days(-1)), "valid_until"),
        ("long ago", lambda: plan_body(valid_until="2020-01-01"), "valid_until"),
        ("a day past six months", lambda: plan_body(valid_until=six_months(1)), "valid_until"),
        ("a year ahead", lambda: plan_body(valid_until=days(366)), "valid_until"),
        ("left out", lambda: without(plan_body(), "valid_until"), "valid_until"),
        ("Dutch date order", lambda: plan_body(valid_until="01-03-2027"), "valid_until"),
        ("no such day", lambda: plan_body(valid_until="2027-02-30"), "valid_until"),
        ("from after until", lambda: plan_body(valid_from=days(20), valid_until=days(10)), "valid_from"),
        ("from not a date", lambda: plan_body(valid_from="morgen"), "valid_from"),
    ],
    "birth date": [
        ("tomorrow", lambda: rows("persons", birth_date=days(1)), "persons.0.birth_date"),
        ("far future", lambda: rows("persons", birth_date="2999-01-01"), "persons.0.birth_date"),
        ("before 1900", lambda: rows("persons", birth_date="1850-05-05"), "persons.0.birth_date"),
        ("Dutch date order", lambda: rows("persons", birth_date="02-01-1990"), "persons.0.birth_date"),
        ("a number", lambda: rows("persons", birth_date=19900102), "persons.0.birth_date"),
    ],
    "phone": [
        *each_value("contacts", "phone", BAD_PHONES),
        *each_value("persons", "phone", BAD_PHONES),
    ]
    + [
        ("contact without phone", lambda: without(plan_body(), "contacts", 0, "phone"), "contacts.0.phone"),
        ("contact phone null", lambda: rows("contacts", phone=None), "contacts.0.phone"),
        ("owner phone", lambda: plan_body(owner={"name": "J. Beschermer", "phone": "nee"}), "owner.phone"),
        ("owner no phone", lambda: plan_body(owner={"name": "J. Beschermer"}), "owner.phone"),
    ],
    "vocabulary": [
        ("address role", lambda: rows("addresses", role="home"), "addresses.0.role"),
        ("person role", lambda: rows("persons", role="mother"), "persons.0.role"),
        ("actor", lambda: rows("agreements", actor="brandweer"), "agreements.0.actor"),
        ("actor in capitals", lambda: rows("agreements", actor="POLICE"), "agreements.0.actor"),
        ("family profile", lambda: plan_body(family_profile="chaotic"), "family_profile"),
        ("risk signal", lambda: plan_body(risk_signals=["weapons", "knife"]), "risk_signals.1"),
        ("risk signal not text", lambda: plan_body(risk_signals=[7]), "risk_signals.0"),
        ("risk signal twice", lambda: plan_body(risk_signals=["stalking", "stalking"]), "risk_signals"),
        ("do not inform", lambda: rows("persons", do_not_inform="misschien"), "persons.0.do_not_inform"),
    ],
    "length": [
        ("title", lambda: plan_body(title="T" * 201), "title"),
        ("summary", lambda: plan_body(summary="S" * 4001), "summary"),
        ("street", lambda: rows("addresses", street="s" * 201), "addresses.0.street"),
        ("city", lambda: rows("addresses", city="c" * 101), "addresses.0.city"),
        ("first name", lambda: rows("persons", first_name="f" * 101), "persons.0.first_name"),
        ("surname prefix", lambda: rows("persons", surname_prefix="v" * 31), "persons.0.surname_prefix"),
        ("surname", lambda: rows("persons", surname="s" * 151), "persons.0.surname"),
        ("trigger", lambda: rows("agreements", trigger="t" * 1001), "agreements.0.trigger"),
        ("action", lambda: rows("agreements", action="a" * 2001), "agreements.0.action"),
        ("contact name", lambda: rows("contacts", name="n" * 201), "contacts.0.name"),
        ("relation", lambda: rows("contacts", relation="r" * 201), "contacts.0.relation"),
        ("available", lambda: rows("contacts", available="a" * 201), "contacts.0.available"),
        ("owner name", lambda: plan_body(owner={"name": "o" * 201, "phone": "088-1234567"}), "owner.name"),
        ("empty title", lambda: plan_body(title=""), "title"),
        ("blank title", lambda: plan_body(title=" \t\n "), "title"),
        ("empty surname", lambda: rows("persons", surname=""), "persons.0.surname"),
        ("empty street", lambda: rows("addresses", street=""), "addresses.0.street"),
    ],
    "row count": [
        (
            "11 addresses",
            lambda: plan_body(addresses=[address(house_number=n) for n in range(1, 12)]),
            "addresses",
        ),
        ("21 persons", lambda: plan_body(persons=[person(surname=f"Test{n}") for n in range(21)]), "persons"),
        ("31 agreements", lambda: plan_body(agreements=[agreement() for _ in range(31)]), "agreements"),
        ("21 contacts", lambda: plan_body(contacts=[contact() for _ in range(21)]), "contacts"),
    ],
    "types": [
        ("addresses as text", lambda: plan_body(addresses="Verzonnenstraat 14"), "addresses"),
        ("persons as object", lambda: plan_body(persons=person()), "persons"),
        ("agreements as text", lambda: plan_body(agreements="bel de politie"), "agreements"),
        ("contacts as number", lambda: plan_body(contacts=5), "contacts"),
        ("risk signals as text", lambda: plan_body(risk_signals="weapons"), "risk_signals"),
        ("address as text", lambda: plan_body(addresses=["Verzonnenstraat 14"]), "addresses.0._schema"),
        ("owner as text", lambda: plan_body(owner="J. Beschermer"), "owner._schema"),
        ("owner as list", lambda: plan_body(owner=[]), "owner._schema"),
        ("title as number", lambda: plan_body(title=5), "title"),
        ("title as list", lambda: plan_body(title=["a"]), "title"),
        ("summary as bool", lambda: plan_body(summary=True), "summary"),
        ("surname as number", lambda: rows("persons", surname=42), "persons.0.surname"),
        ("title null", lambda: plan_body(title=None), "title"),
        ("valid_until null", lambda: plan_body(valid_until=None), "valid_until"),
        ("owner null", lambda: plan_body(owner=None), "owner"),
        ("agreements null", lambda: plan_body(agreements=None), "agreements"),
        ("risk signals null", lambda: plan_body(risk_signals=None), "risk_signals"),
        ("postcode null", lambda: rows("addresses", postcode=None), "addresses.0.postcode"),
        ("surname null", lambda: rows("persons", surname=None), "persons.0.surname"),
        ("title NaN", lambda: raw_with("title", "NaN"), "title"),
        ("title with NUL", lambda: plan_body(title="Gezin\x00Voorbeeld"), "title"),
        ("summary with a lone surrogate", lambda: raw_with("summary", '"tekst \\ud800"'), "summary"),
        ("surname with NUL", lambda: rows("persons", surname="Test\x00"), "persons.0.surname"),
    ],
    # characters that change how the text around them is shown, or are not shown at all: a
    # right-to-left override makes a control room read another name or number than was stored
    "invisible characters": [
        ("RLO in a surname", lambda: rows("persons", surname="Jan\u202esen"), "persons.0.surname"),
        ("LRO in a street", lambda: rows("addresses", street="Dorps\u202dstraat"), "addresses.0.street"),
        ("LRE in a city", lambda: rows("addresses", city="Test\u202adorp"), "addresses.0.city"),
        ("RLE in the title", lambda: plan_body(title="Gezin \u202bVoorbeeld"), "title"),
        ("PDF in a first name", lambda: rows("persons", first_name="Noor\u202c"), "persons.0.first_name"),
        ("RLI in the summary", lambda: plan_body(summary="Let op \u2067wapen\u2069"), "summary"),
        ("LRI in a trigger", lambda: rows("agreements", trigger="\u2066Melding"), "agreements.0.trigger"),
        ("FSI in an action", lambda: rows("agreements", action="Bel \u2068112"), "agreements.0.action"),
        ("RLM in a contact", lambda: rows("contacts", name="Tante\u200f Fictief"), "contacts.0.name"),
        ("LRM in a relation", lambda: rows("contacts", relation="tante\u200e"), "contacts.0.relation"),
        ("ALM in availability", lambda: rows("contacts", available="\u061cdag"), "contacts.0.available"),
        (
            "zero-width space in a surname",
            lambda: rows("persons", surname="Test\u200bveen"),
            "persons.0.surname",
        ),
        (
            "zero-width joiner in a prefix",
            lambda: rows("persons", surname_prefix="van\u200d"),
            "persons.0.surname_prefix",
        ),
        (
            "zero-width non-joiner in a street",
            lambda: rows("addresses", street="A\u200cstraat"),
            "addresses.0.street",
        ),
        (
            "word joiner in the owner",
            lambda: plan_body(owner={"name": "J.\u2060B.", "phone": "088-1234567"}),
            "owner.name",
        ),
        ("BOM in the title", lambda: plan_body(title="\ufeffGezin"), "title"),
        ("soft hyphen in a city", lambda: rows("addresses", city="Test\u00addorp"), "addresses.0.city"),
        (
            "zero-width space in a suffix",
            lambda: rows("addresses", house_number_suffix="A\u200b"),
            "addresses.0.house_number_suffix",
        ),
        ("bell in a surname", lambda: rows("persons", surname="Test\x07"), "persons.0.surname"),
        ("escape in the title", lambda: plan_body(title="Gezin\x1b[2J"), "title"),
        ("DEL in a street", lambda: rows("addresses", street="Straat\x7f"), "addresses.0.street"),
        ("C1 next line in a city", lambda: rows("addresses", city="Test\x85dorp"), "addresses.0.city"),
        ("newline in a surname", lambda: rows("persons", surname="Test\nveen"), "persons.0.surname"),
        ("tab in the title", lambda: plan_body(title="Gezin\tVoorbeeld"), "title"),
        ("vertical tab in the summary", lambda: plan_body(summary="regel\x0bregel"), "summary"),
        (
            "line separator in an action",
            lambda: rows("agreements", action="Bel\u2028112"),
            "agreements.0.action",
        ),
        (
            "paragraph separator in a trigger",
            lambda: rows("agreements", trigger="Melding\u2029op het adres"),
            "agreements.0.trigger",
        ),
    ],
    # issue 18: the plan as the practice writes it
    "person": [
        ("no role", lambda: without(plan_body(), "persons", 0, "role"), "persons.0.role"),
        (
            "do not inform without a reason",
            lambda: rows("persons", do_not_inform=True, do_not_inform_reason=""),
            "persons.0.do_not_inform_reason",
        ),
        (
            "a perpetrator not confirmed",
            lambda: rows("persons", role="perpetrator", perpetrator_may_know=False),
            "persons.0.perpetrator_may_know",
        ),
        (
            "do not inform and may know",
            lambda: rows("persons", role="perpetrator", do_not_inform=True, perpetrator_may_know=True),
            "persons.0.perpetrator_may_know",
        ),
        ("language too long", lambda: rows("persons", language="t" * 51), "persons.0.language"),
        (
            "interpreter not a yes",
            lambda: rows("persons", interpreter_needed="ja"),
            "persons.0.interpreter_needed",
        ),
    ],
    "measures": [
        (
            "end before start",
            lambda: rows("measures", starts_on=days(5), ends_on=days(1)),
            "measures.0.ends_on",
        ),
        ("no end date", lambda: rows("measures", ends_on=None), "measures.0.ends_on"),
        (
            "no start date",
            lambda: without(rows("measures"), "measures", 0, "starts_on"),
            "measures.0.starts_on",
        ),
        ("unknown kind", lambda: plan_body(measures=[measure(kind="straatverbod")]), "measures.0.kind"),
        (
            "custody without holder",
            lambda: plan_body(measures=[measure(kind="custody", ends_on=None)]),
            "measures.0.holder",
        ),
        ("end date not a date", lambda: rows("measures", ends_on="over tien dagen"), "measures.0.ends_on"),
        ("11 measures", lambda: plan_body(measures=[measure() for _ in range(11)]), "measures"),
    ],
    "contacts": [
        (
            "hour past 23",
            lambda: rows("contacts", availability=[window([1], "25:00", "09:00")]),
            "contacts.0.availability.0.from",
        ),
        (
            "minutes past 59",
            lambda: rows("contacts", availability=[window([1], "09:00", "17:60")]),
            "contacts.0.availability.0.to",
        ),
        (
            "starts at 24:00",
            lambda: rows("contacts", availability=[window([1], "24:00", "09:00")]),
            "contacts.0.availability.0.from",
        ),
        (
            "ends when it starts",
            lambda: rows("contacts", availability=[window([1], "09:00", "09:00")]),
            "contacts.0.availability.0.to",
        ),
        (
            "day 8",
            lambda: rows("contacts", availability=[window([1, 8], "09:00", "17:00")]),
            "contacts.0.availability.0.days.1",
        ),
        (
            "no days",
            lambda: rows("contacts", availability=[window([], "09:00", "17:00")]),
            "contacts.0.availability.0.days",
        ),
        (
            "a day twice",
            lambda: rows("contacts", availability=[window([2, 2], "09:00", "17:00")]),
            "contacts.0.availability.0.days",
        ),
        (
            "a window as text",
            lambda: rows("contacts", availability=["werkdagen"]),
            "contacts.0.availability.0._schema",
        ),
        ("tested tomorrow", lambda: rows("contacts", tested_on=days(1)), "contacts.0.tested_on"),
        (
            "an agreement's contact that is not there",
            lambda: plan_body(agreements=[agreement(contact_number=3)]),
            "agreements.0.contact_number",
        ),
        (
            "an agreement's contact 0",
            lambda: plan_body(agreements=[agreement(contact_number=0)]),
            "agreements.0.contact_number",
        ),
    ],
    "profiles and addresses": [
        ("unknown profile", lambda: plan_body(family_profiles=["chaos"]), "family_profiles.0"),
        (
            "a profile twice",
            lambda: plan_body(family_profiles=["long_term_care", "long_term_care"]),
            "family_profiles",
        ),
        (
            "the old and the new field disagree",
            lambda: plan_body(family_profile="long_term_care", family_profiles=["intimate_terror"]),
            "family_profile",
        ),
        (
            "a geheim perpetrator address",
            lambda: rows("addresses", role="perpetrator_address", is_secret=True),
            "addresses.0.is_secret",
        ),
    ],
    "unknown fields": [
        ("top level", lambda: plan_body(priority="hoog"), "priority"),
        ("address", lambda: unknown_in("addresses", "floor"), "addresses.0.floor"),
        ("person", lambda: unknown_in("persons", "bsn"), "persons.0.bsn"),
        ("agreement", lambda: unknown_in("agreements", "deadline"), "agreements.0.deadline"),
        ("contact", lambda: unknown_in("contacts", "email"), "contacts.0.email"),
        (
            "owner",
            lambda: plan_body(owner={"name": "J. B.", "phone": "088-1234567", "email": "x"}),
            "owner.email",
        ),
    ],
}


@pytest.fixture
def headers(make_user: Any, auth_headers: Any) -> dict[str, str]:
    return auth_headers(make_user(roles=("registrant",)))


@pytest.fixture
def plan_id(client: FlaskClient, headers: dict[str, str]) -> str:
    """An existing plan (version 1) to send updates to."""
    response = client.post(API, json=plan_body(), headers=headers)
    assert response.status_code == 201
    return str(response.get_json()["id"])


def send(client: FlaskClient, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    if isinstance(body, Raw):
        return client.open(
            path, method=method, data=body.data, content_type=body.content_type, headers=headers
        )
    return client.open(path, method=method, json=body, headers=headers)


def for_update(body: Any, version: int = 1) -> Any:
    """The same body as an update of version `version` (unless it says its own version)."""
    if isinstance(body, Raw) and isinstance(body.data, str) and body.data.startswith("{"):
        return Raw(f'{{"version": {version}, ' + body.data[1:], body.content_type)
    if isinstance(body, dict) and "version" not in body:
        return {**body, "version": version}
    return body


def assert_refused(response: Any, status: int, field: str | None) -> dict[str, list[str]]:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == ("invalid_input" if status == 422 else "invalid_json")
    assert error["message"]
    for messages in error["fields"].values():
        assert messages
        assert all(isinstance(message, str) and message for message in messages)
    if field is not None:
        assert field in error["fields"], error["fields"]
    return error["fields"]


@pytest.mark.parametrize("rule", list(CASES))
def test_a_bad_plan_is_refused_naming_the_field_and_nothing_is_stored(app, client, headers, plan_id, rule):
    before = stored_rows(app)
    shown_before = client.get(f"{API}/{plan_id}", headers=headers).get_json()

    for label, make, field in CASES[rule]:
        created = send(client, "POST", API, make(), headers)
        assert created.status_code == 422, f"{rule}: {label}: {created.get_data(as_text=True)}"
        assert_refused(created, 422, field)
        updated = send(client, "PUT", f"{API}/{plan_id}", for_update(make()), headers)
        assert updated.status_code == 422, f"{rule}: {label} (update): {updated.get_data(as_text=True)}"
        assert_refused(updated, 422, field)

    assert stored_rows(app) == before
    assert client.get(f"{API}/{plan_id}", headers=headers).get_json() == shown_before


NOT_AN_OBJECT = [
    Raw(""),
    Raw("geen json"),
    Raw("{'title': 'enkele aanhalingstekens'}"),
    Raw('{"title": "afgebroken"'),
    Raw("[1, 2]"),
    Raw('"een tekst"'),
    Raw("null"),
    Raw("42"),
    Raw("[" * 100_000 + "]" * 100_000),
    Raw(b'{"title": "\xff\xfe"}'),
    Raw(json.dumps({"title": "x"}), content_type="text/plain"),
    Raw("title=Gezin", content_type="application/x-www-form-urlencoded"),
]


def test_a_body_that_is_not_a_json_object_is_400_and_nothing_is_stored(app, client, headers, plan_id):
    before = stored_rows(app)

    for body in NOT_AN_OBJECT:
        assert_refused(send(client, "POST", API, body, headers), 400, None)
        assert_refused(send(client, "PUT", f"{API}/{plan_id}", body, headers), 400, None)

    assert stored_rows(app) == before


def test_an_update_needs_a_whole_version_number(app, client, headers, plan_id):
    before = stored_rows(app)

    for version in (None, "1", 0, -1, 1.5, True, 10**30, 2**40, [1]):
        body = plan_body(title="Nieuwe titel")
        if version is not None:
            body["version"] = version
        response = client.put(f"{API}/{plan_id}", json=body, headers=headers)
        assert response.status_code == 422, f"version {version!r}: {response.get_data(as_text=True)}"
        assert_refused(response, 422, "version")

    assert stored_rows(app) == before


def test_a_create_carries_no_version(app, client, headers):
    before = stored_rows(app)

    assert_refused(client.post(API, json={**plan_body(), "version": 1}, headers=headers), 422, "version")

    assert stored_rows(app) == before


def test_every_problem_is_named_at_once(client, headers):
    body = plan_body(
        title="",
        valid_until=days(0),
        addresses=[address(postcode="9401", house_number=0)],
        persons=[person(birth_date=days(5), phone="12")],
        agreements=[],
        contacts=[contact(phone="nee")],
        owner={"name": "J. Beschermer", "phone": "x"},
        extra=True,
    )

    fields = assert_refused(client.post(API, json=body, headers=headers), 422, None)

    assert set(fields) >= {
        "title", "valid_until", "addresses.0.postcode", "addresses.0.house_number", "persons.0.birth_date",
        "persons.0.phone", "agreements", "contacts.0.phone", "owner.phone", "extra",
    }  # fmt: skip


# --- the edges are inside ----------------------------------------------------------------------


def test_the_bounds_themselves_are_accepted(client, headers):
    body = plan_body(
        title="T" * 200,
        summary="S" * 4000,
        valid_until=six_months(),
        addresses=[address(house_number=1, house_number_suffix="A" * 10, street="s" * 200, city="c" * 100)]
        + [address(house_number=99999 - n) for n in range(9)],
        persons=[person(first_name="f" * 100, surname_prefix="v" * 30, surname="s" * 150, birth_date=days(0))]
        + [person(surname=f"Test{n}") for n in range(19)],
        agreements=[agreement(trigger="t" * 1000, action="a" * 2000)] + [agreement() for _ in range(29)],
        contacts=[contact(name="n" * 200, relation="r" * 200, available="a" * 200)]
        + [contact() for _ in range(19)],
        risk_signals=["weapons", "firearm", "strangulation", "threat_to_kill", "stalking", "substance_abuse",
                      "psychiatric", "honour_related", "prior_violence"],
    )  # fmt: skip

    response = client.post(API, json=body, headers=headers)

    assert response.status_code == 201, response.get_json()
    plan = response.get_json()
    assert (len(plan["addresses"]), len(plan["persons"]), len(plan["agreements"]), len(plan["contacts"])) == (
        10, 20, 30, 20,
    )  # fmt: skip
    assert plan["valid_until"] == body["valid_until"]
    assert plan["addresses"][0]["house_number"] == 1


def test_text_as_people_write_it_is_accepted(client, headers):
    # line breaks and tabs in the texts of several lines, names in other scripts and with
    # diacritics, a no-break space: all stored as they came
    body = plan_body(
        title="Gezin D\u2019Artagnan-Øster\u00a0(2e)",
        summary="Eerste regel.\r\nTweede regel:\n\t- wapen in huis",
        persons=[person(first_name="محمد", surname_prefix="el", surname="Amrani"), person(surname="Çelik")],
        agreements=[agreement(trigger="Melding\nop het adres", action="1. Bel 112\r\n2.\tBel regiehouder")],
    )
    response = client.post(API, json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    plan = response.get_json()
    assert plan["summary"] == body["summary"]
    assert plan["agreements"][0]["action"] == body["agreements"][0]["action"]
    assert plan["persons"][0]["first_name"] == "محمد"


def test_a_withdrawal_reason_with_a_right_to_left_override_is_refused(client, headers, plan_id):
    response = client.post(
        f"{API}/{plan_id}/withdraw", json={"reason": "Gezin \u202everhuisd"}, headers=headers
    )
    assert_refused(response, 422, "reason")


def test_the_largest_plan_fits_the_request_size_limit(app, client, headers):
    # Given a plan with every row and every text at its maximum, in accented letters, sent as
    # JSON that escapes each of them (\u00e9: six bytes a letter)
    body = plan_body(
        title="é" * 200,
        summary="é" * 4000,
        valid_until=six_months(),
        addresses=[address(house_number=n, house_number_suffix="A" * 10, street="é" * 200, city="é" * 100)
                   for n in range(1, 11)],
        persons=[person(first_name="é" * 100, surname_prefix="é" * 30, surname="é" * 150) for _ in range(20)],
        agreements=[agreement(trigger="é" * 1000, action="é" * 2000) for _ in range(30)],
        contacts=[contact(name="é" * 200, relation="é" * 200, available="é" * 200) for _ in range(20)],
        owner={"name": "é" * 200, "phone": "088-1234567"},
    )  # fmt: skip
    data = json.dumps(body, ensure_ascii=True)
    # Then it is well within the default request size limit, and stored
    assert len(data) < 0.7 * app.config["MAX_CONTENT_LENGTH"]
    response = client.post(API, data=data, content_type="application/json", headers=headers)
    assert response.status_code == 201, response.get_json()


def test_a_plan_with_only_a_person_or_only_an_address_valid_until_tomorrow_is_fine(client, headers):
    for body in (plan_body(addresses=[]), plan_body(persons=[]), plan_body(valid_until=days(1))):
        response = client.post(API, json=body, headers=headers)

        assert response.status_code == 201, response.get_json()
        assert response.get_json()["valid_until"] == body["valid_until"]


# --- arbitrary input ---------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
FIELD_NAMES = [*plan_body(), "version", "id", "status", "warnings", "owner.phone", ""]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


# values of the same kind as the one replaced: often still a valid plan, so that successes are tried too
SAME_KIND: dict[type, st.SearchStrategy[Any]] = {
    str: st.text(max_size=40),
    int: st.integers(),
    bool: st.booleans(),
}


@st.composite
def mutated_plans(
    draw: st.DrawFn, changes: int = 3, actions: tuple[str, ...] = ("same kind", "replace", "remove", "add")
) -> Any:
    """A valid plan with a few of its values replaced, removed, or joined by unknown ones."""
    body: Any = plan_body()
    for _ in range(draw(st.integers(1, changes))):
        paths = _paths(body)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = body
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(actions))
        if action == "same kind":
            parent[path[-1]] = draw(SAME_KIND.get(type(parent[path[-1]]), json_values))
        elif action == "replace":
            parent[path[-1]] = draw(json_values)
        elif action == "remove":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=12))] = draw(json_values)
        else:
            parent.append(draw(json_values))
    return body


arbitrary_bodies = (
    json_values
    | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=12), json_values, max_size=8)
    | mutated_plans()
    | mutated_plans(changes=1, actions=("same kind",))
)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_error_body(response: Any) -> None:
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["fields"], dict)


@FUZZ
@given(body=arbitrary_bodies)
def test_any_json_posted_is_answered_without_a_5xx_and_stores_a_plan_only_on_201(app, client, headers, body):
    before = stored_rows(app)

    response = client.post(API, json=body, headers=headers)

    event(f"answered {response.status_code}")  # --hypothesis-show-statistics: the mix of answers
    assert response.status_code in (201, 400, 422), response.get_data(as_text=True)
    after = stored_rows(app)
    if response.status_code == 201:
        assert after["Plan"] == before["Plan"] + 1
        assert after["PlanVersion"] == before["PlanVersion"] + 1
        assert after["audited writes"] == before["audited writes"] + 1
    else:
        assert_error_body(response)
        assert after == before


@FUZZ
@given(body=arbitrary_bodies, version_kind=st.sampled_from(["current", "stale", "own"]))
def test_any_json_put_is_answered_without_a_5xx_and_stores_a_version_only_on_200(
    app, client, headers, plan_id, body, version_kind
):
    before = stored_rows(app)
    current = before["PlanVersion"]  # the only plan, so its versions are all versions
    stale = current - 1 if current > 1 else current + 1
    if isinstance(body, dict) and version_kind != "own":
        body = {**body, "version": current if version_kind == "current" else stale}

    response = client.put(f"{API}/{plan_id}", json=body, headers=headers)

    event(f"answered {response.status_code}")
    assert response.status_code in (200, 400, 409, 422), response.get_data(as_text=True)
    after = stored_rows(app)
    if response.status_code == 200:
        assert response.get_json()["version"] == current + 1
        assert after["PlanVersion"] == before["PlanVersion"] + 1
        assert after["Plan"] == before["Plan"]
    else:
        assert_error_body(response)
        assert after == before


# --- the plan form and the plan pages: what no page sends is a 4xx, never a 500 -------------------


def form_fields(**extra: str) -> dict[str, str]:
    """A valid plan form as the page sends it (one person, one agreement, two contacts)."""
    return {
        "title": "Gezin Formulier",
        "valid_until": days(60),
        "owner-name": "J. Beschermer",
        "owner-phone": "088-1234567",
        "persons-0-surname": "Formulier",
        "persons-0-role": "victim",
        "agreements-0-trigger": "Melding op het adres",
        "agreements-0-action": "Direct ter plaatse",
        "agreements-0-actor": "police",
        "contacts-0-name": "Tante Fictief",
        "contacts-0-phone": "06-87654321",
        "contacts-1-name": "Buurvrouw Fictief",
        "contacts-1-phone": "06-12345678",
        **extra,
    }


@pytest.fixture
def registrant(make_user: Any) -> Any:
    return make_user(roles=("registrant",))


@pytest.fixture
def browser(app: Any, registrant: Any, web_login: Any) -> FlaskClient:
    """A registrant logged in on the web."""
    client = app.test_client()
    assert web_login(client, registrant).status_code == 302
    return client


def post_page(browser: FlaskClient, page: str, path: str, fields: dict[str, str]) -> Any:
    """POST a form of `page` (for its CSRF token) to `path`."""
    token = csrf_from(browser.get(page).get_data(as_text=True))
    return browser.post(path, data={**fields, "csrf_token": token})


HUGE = "9" * 5000


@pytest.mark.parametrize(
    "name", ["persons-²-surname", "agreements-¹-trigger", f"persons-{HUGE}-surname", f"contacts-{HUGE}0-name"]
)
def test_a_form_field_with_a_row_number_no_page_writes_answers_400(app, browser, name):
    """Given a registrant's plan form, valid
    When one field's name carries a row number no page writes (a superscript digit, 5 000 digits)
    Then 400 (the form was tampered with), nothing stored; it answered 500."""
    response = post_page(browser, "/plans/new", "/plans/new", form_fields(**{name: "Vreemd"}))
    assert response.status_code == 400
    assert stored_rows(app)["Plan"] == 0
    # the same form without it is stored
    assert post_page(browser, "/plans/new", "/plans/new", form_fields()).status_code == 302


@pytest.mark.parametrize("action", ["remove:persons:²", f"up:agreements:{HUGE}", "down:contacts:¹"])
def test_a_row_button_no_page_writes_shows_the_form_again(app, browser, action):
    # Given a plan form, When a row button's value names a row no page writes
    response = post_page(browser, "/plans/new", "/plans/new", form_fields(row_action=action))
    # Then the form comes back as it was typed (a button that does nothing), nothing stored
    assert response.status_code == 200
    assert 'value="Formulier"' in response.get_data(as_text=True)
    assert stored_rows(app)["Plan"] == 0


def test_sharing_with_an_organisation_id_past_any_column_answers_4xx(
    app, client, registrant, auth_headers, browser
):
    """Given a registrant's plan
    When it is shared with, or unshared from, an organisation id larger than any database holds
    Then 400 (share: no such organisation) and 404 (unshare: no such page); they answered 500."""
    created = client.post(API, json=plan_body(), headers=auth_headers(registrant))
    plan_id = created.get_json()["id"]
    page = f"/plans/{plan_id}"
    huge = "99999999999999999999999"
    assert post_page(browser, page, f"{page}/share", {"organisation_id": huge}).status_code == 400
    assert post_page(browser, page, f"{page}/unshare/{huge}", {}).status_code == 404


def test_the_form_names_the_field_with_an_invisible_character(app, browser):
    """Given a registrant's plan form
    When the surname carries a right-to-left override
    Then the form comes back (422) with the error next to that field, nothing stored; it was
    stored as typed."""
    response = post_page(
        browser, "/plans/new", "/plans/new", form_fields(**{"persons-0-surname": "For\u202emulier"})
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'<p class="error" id="persons-0-surname-error">[^<]*U\+202E', html), html
    assert stored_rows(app)["Plan"] == 0
