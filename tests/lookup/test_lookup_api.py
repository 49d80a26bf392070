"""POST /api/v1/lookups as the control room uses it: every match kind, what a match shows and
hides, plans that must never be shown, who may look up, bad input, the record of every lookup,
and the access log the plan's owners read."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from lookup import normalise, search
from registry.core.db import db as database
from registry.core.models import AuditEntry, Lookup, LookupResult, Plan, PlanVersion
from registry.plans.cli import expire
from tests.lookups import found_plan_ids
from tests.registry.plan_data import address, agreement, editable, person, plan_body, today

LOOKUPS = "/api/v1/lookups"
PLANS = "/api/v1/plans"

# a responder sees exactly these fields of a plan, and of its rows
RESPONDER_PLAN_FIELDS = {
    "id", "version", "title", "summary", "family_profile", "family_profiles", "risk_signals", "measures",
    "agreements", "contacts", "persons", "addresses", "secret_addresses", "owner", "valid_until",
}  # fmt: skip
RESPONDER_ROW_FIELDS = {
    "agreements": {"id", "position", "trigger", "action", "actor", "contact"},
    "contacts": {
        "name",
        "relation",
        "phone",
        "available",
        "availability",
        "reachable_now",
        "next_reachable_at",
        "knows_plan",
        "tested_on",
    },  # fmt: skip
    "persons": {
        "first_name",
        "surname_prefix",
        "surname",
        "birth_date",
        "role",
        "phone",
        "do_not_inform",
        "do_not_inform_reason",
        "language",
        "interpreter_needed",
    },  # fmt: skip
    "addresses": {"postcode", "house_number", "house_number_suffix", "street", "city", "role"},
}

NOE = person(first_name="Noë", surname_prefix="van der", surname="Veen", birth_date="1990-01-02",
             phone="06-12345678")  # fmt: skip
SAM = person(first_name="Sam", surname_prefix="", surname="Testman", birth_date="1988-07-15",
             role="perpetrator", phone="06-11223344", do_not_inform=True)  # fmt: skip
KERKSTRAAT_14 = address(postcode="9401 AB", house_number=14, street="Kerkstraat", city="Assen")


def family(**overrides: Any) -> dict[str, Any]:
    """Noë van der Veen and Sam Testman at Kerkstraat 14, 9401 AB Assen (all invented)."""
    return plan_body(**{"addresses": [KERKSTRAAT_14], "persons": [NOE, SAM], **overrides})


# --- fixtures and helpers -----------------------------------------------------------------------


@pytest.fixture
def owner_org(make_org: Any) -> Any:
    return make_org("Wijkteam Assen", kind="social_team", region="Drenthe")


@pytest.fixture
def registrant(make_user: Any, owner_org: Any) -> Any:
    return make_user(roles=("registrant",), org=owner_org)


@pytest.fixture
def plan_headers(registrant: Any, auth_headers: Any) -> dict[str, str]:
    return auth_headers(registrant)


@pytest.fixture
def control_room(make_org: Any) -> Any:
    return make_org("Meldkamer Noord-Nederland", kind="police", region="Noord-Nederland")


@pytest.fixture
def responder(make_user: Any, control_room: Any) -> Any:
    return make_user(roles=("responder",), org=control_room)


@pytest.fixture
def headers(responder: Any, auth_headers: Any) -> dict[str, str]:
    return auth_headers(responder)


def create(client: FlaskClient, plan_headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post(PLANS, json=family(**overrides), headers=plan_headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def look_up(
    client: FlaskClient, headers: dict[str, str], incident_ref: str = "P-2024-0001", **query: Any
) -> Any:
    return client.post(LOOKUPS, json={"incident_ref": incident_ref, **query}, headers=headers)


def matches(client: FlaskClient, headers: dict[str, str], **query: Any) -> list[dict[str, Any]]:
    """The plans found: shown, or, for a name without a birth date, listed as candidates (as
    {"plan": {"id"}, "match"}: the searching is the same, only the answer holds less)."""
    response = look_up(client, headers, **query)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    listed = [{"plan": {"id": c["plan_id"]}, "match": c["match"]} for c in body["candidates"]]
    assert not (body["matches"] and listed), body
    return body["matches"] or listed


def found(client: FlaskClient, headers: dict[str, str], **query: Any) -> list[tuple[str, str, str]]:
    """(plan id, on, quality) of every match, in the order the answer gives them."""
    return [
        (m["plan"]["id"], m["match"]["on"], m["match"]["quality"]) for m in matches(client, headers, **query)
    ]


def at(postcode: str = "9401AB", house_number: int = 14, suffix: str | None = None) -> dict[str, Any]:
    query: dict[str, Any] = {"postcode": postcode, "house_number": house_number}
    if suffix is not None:
        query["house_number_suffix"] = suffix
    return {"address": query}


def named(name: str, birth_date: str | None = None) -> dict[str, Any]:
    query: dict[str, Any] = {"name": name}
    if birth_date is not None:
        query["birth_date"] = birth_date
    return {"person": query}


# every way a responder can find the family above
EVERY_KIND = {
    "address": at(),
    "address_text": {"address_text": "Kerkstraat 14 Assen"},
    "person": named("Noë van der Veen", "1990-01-02"),
    "phone": {"phone": "06-12345678"},
    # a name without a birth date lists the family as a candidate (tests/lookup/test_harvesting.py)
    "name_only": named("Noë van der Veen"),
}
# the kinds that show the plan itself, each stored under its own query kind
SHOWN_KINDS = {kind: query for kind, query in EVERY_KIND.items() if kind != "name_only"}


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


def lookup_counts(app: Flask) -> tuple[int, int]:
    """Stored lookups, and audit rows of lookups."""
    with app.app_context():
        session = database.session
        lookups = session.scalar(select(func.count()).select_from(Lookup)) or 0
        audited = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "lookup")
        )
        return lookups, audited or 0


# --- address: exact, building, never the neighbour ----------------------------------------------


def test_postcode_and_number_find_the_plan_at_that_address_as_exact(client, plan_headers, headers):
    plan = create(client, plan_headers)

    shown = matches(client, headers, address={"postcode": "9401 ab", "house_number": "14"})

    assert [m["plan"]["id"] for m in shown] == [plan["id"]]
    assert shown[0]["match"] == {"on": "address", "quality": "exact", "score": 1.0}


def test_the_same_number_with_another_or_no_suffix_is_a_building_match_after_the_exact_one(
    client, plan_headers, headers
):
    ground_floor = create(client, plan_headers, title="Benedenwoning")
    upstairs = create(
        client, plan_headers, title="Bovenwoning", addresses=[{**KERKSTRAAT_14, "house_number_suffix": "A"}]
    )

    assert found(client, headers, **at(suffix="a")) == [
        (upstairs["id"], "address", "exact"),
        (ground_floor["id"], "address", "building"),
    ]
    assert found(client, headers, **at()) == [
        (ground_floor["id"], "address", "exact"),
        (upstairs["id"], "address", "building"),
    ]
    assert set(found(client, headers, **at(suffix="B"))) == {
        (ground_floor["id"], "address", "building"),
        (upstairs["id"], "address", "building"),
    }


NEIGHBOURS = {
    "16": at(house_number=16),
    "140": at(house_number=140),
    "1": at(house_number=1),
    "same number, other postcode": at(postcode="9401 AC"),
    "same number, other area": at(postcode="9402 AB"),
    "text 16": {"address_text": "Kerkstraat 16 Assen"},
    "text 140": {"address_text": "Kerkstraat 140 Assen"},
}


def test_the_neighbours_house_never_matches(client, plan_headers, headers):
    create(client, plan_headers)

    for neighbour, query in NEIGHBOURS.items():
        assert matches(client, headers, **query) == [], neighbour


# --- free text ----------------------------------------------------------------------------------


def test_free_text_with_typos_and_abbreviations_finds_the_address_as_fuzzy(client, plan_headers, headers):
    plan = create(client, plan_headers)

    for text in ("Kerkstrat 14 Asen", "kerkstr. 14, assen", "Kerk straat 14 Assen", "KERKSTRAAT 14"):
        assert found(client, headers, address_text=text) == [(plan["id"], "address", "fuzzy")], text

    spot_on = matches(client, headers, address_text="Kerkstraat 14 Assen")[0]["match"]["score"]
    with_typos = matches(client, headers, address_text="Kerkstrat 14 Asen")[0]["match"]["score"]
    assert 0 < with_typos < spot_on <= 1


def test_free_text_naming_another_city_does_not_show_the_family(client, plan_headers, headers):
    # every town has a Kerkstraat: the family in Assen is not the caller's in Emmen
    create(client, plan_headers)

    assert matches(client, headers, address_text="Kerkstraat 14 Emmen") == []


# --- persons ------------------------------------------------------------------------------------


def test_a_name_with_diacritics_a_typo_or_only_the_surname_finds_the_person(client, plan_headers, headers):
    plan = create(client, plan_headers)

    for name in ("Noë van der Veen", "Noe van der Veen", "noe van der veen", "Veen", "van der Veen",
                 "Veen, Noë", "Veen, Noë van der", "N. van der Veen", "Noë van der Veem"):  # fmt: skip
        assert found(client, headers, **named(name)) == [(plan["id"], "person", "fuzzy")], name
    for stranger in ("Pieter Bakker", "Vos", "Noë Bakker"):
        assert matches(client, headers, **named(stranger)) == [], stranger


def test_a_typo_in_a_longer_surname_finds_the_person(client, plan_headers, headers):
    plan = create(
        client, plan_headers, persons=[person(first_name="Pieter", surname_prefix="", surname="Janssen")]
    )

    assert found(client, headers, **named("Pieter Jansen")) == [(plan["id"], "person", "fuzzy")]
    assert found(client, headers, **named("Jansen")) == [(plan["id"], "person", "fuzzy")]


def test_a_surname_of_two_words_without_tussenvoegsel_is_found_with_a_first_name_and_a_typo(
    client, plan_headers, headers
):
    # 'Henk Ait Txleb' reads as first name 'Henk Ait' and surname 'Txleb' unless the surname
    # may take the first name's last word (a bench run missed every such name with a typo)
    plan = create(client, plan_headers, persons=[
        person(first_name="Henk", surname_prefix="", surname="Ait Taleb", birth_date="1970-12-20"),
        person(first_name="Ayşe", surname_prefix="", surname="El Amrani", birth_date=None),
    ])  # fmt: skip

    for name in ("Henk Ait Txleb", "Henk Aït Taleb", "Ait Talb", "Ayse El Amrxni", "Ayşe El Amrani"):
        assert found(client, headers, **named(name)) == [(plan["id"], "person", "fuzzy")], name
    on_the_day = "1970-12-20"
    assert found(client, headers, **named("Henk Ait Txleb", on_the_day)) == [(plan["id"], "person", "fuzzy")]
    assert found(client, headers, **named("Henk Ait Taleb", on_the_day)) == [(plan["id"], "person", "exact")]
    assert matches(client, headers, **named("Henk Ait Taleb", "1971-12-20")) == []


def test_a_family_sharing_only_the_surname_is_not_shown_when_a_first_name_is_said(
    client, plan_headers, headers
):
    # Given the Veen family, and Kees van der Veen's family, registered without his birth date
    plan = create(client, plan_headers)
    kees_van_der_veen = {**NOE, "first_name": "Kees", "birth_date": None, "phone": "06-23456780"}
    kees = create(client, plan_headers, title="Familie van Kees", addresses=[address(house_number=40)],
                  persons=[kees_van_der_veen])  # fmt: skip

    # a first name said (or an initial) that is not his: his family's plan stays out of sight
    for name in ("Noë van der Veen", "Noe van der Veem", "N. van der Veen"):
        assert found(client, headers, **named(name)) == [(plan["id"], "person", "fuzzy")], name
    hers = "1990-01-02"
    assert found(client, headers, **named("Noë van der Veen", hers)) == [(plan["id"], "person", "exact")]
    # his own name, with a typo in it, or the surname alone: both families may be meant
    assert [m[0] for m in found(client, headers, **named("Kes van der Veen"))] == [kees["id"]]
    assert {m[0] for m in found(client, headers, **named("van der Veen"))} == {plan["id"], kees["id"]}
    # born on the day asked, another first name may still be hers (a nickname)
    assert found(client, headers, **named("Nora van der Veen", hers)) == [(plan["id"], "person", "fuzzy")]


def test_the_right_birth_date_raises_the_score_or_makes_it_exact_and_a_different_one_filters_out(
    client, plan_headers, headers
):
    plan = create(client, plan_headers)

    without = matches(client, headers, **named("Veen"))
    with_date = matches(client, headers, **named("Veen", "1990-01-02"))
    other_date = matches(client, headers, **named("Noë van der Veen", "1991-01-02"))

    assert [m["plan"]["id"] for m in without] == [m["plan"]["id"] for m in with_date] == [plan["id"]]
    assert with_date[0]["match"]["score"] > without[0]["match"]["score"]
    assert other_date == []
    assert found(client, headers, **named("Noe van der Veen", "1990-01-02")) == [
        (plan["id"], "person", "exact")
    ]


def test_an_exact_match_comes_before_a_fuzzy_one(client, plan_headers, headers):
    # the look-alike is registered first and scores as high: quality alone decides the order
    look_alike = create(client, plan_headers, title="Andere Noa", addresses=[address(postcode="9999 ZZ")],
                        persons=[{**NOE, "first_name": "Noa"}])  # fmt: skip
    plan = create(client, plan_headers)

    shown = matches(client, headers, **named("Noë van der Veen", "1990-01-02"))

    assert [(m["plan"]["id"], m["match"]["quality"]) for m in shown] == [
        (plan["id"], "exact"),
        (look_alike["id"], "fuzzy"),
    ]


def test_with_a_birth_date_the_person_born_that_day_comes_before_namesakes_without_a_date(
    client, plan_headers, headers
):
    # Given Noë van der Veen born 1990-01-02, and three people registered without a birth date
    # under the very name the control room will type (as a bench run found: 26 of them hid her)
    plan = create(client, plan_headers)
    namesakes = [
        create(client, plan_headers, title=f"Naamgenoot {n}", addresses=[address(house_number=40 + n)],
               persons=[{**NOE, "surname": "Veem", "birth_date": None}])["id"]
        for n in range(3)
    ]  # fmt: skip

    # When the name is typed with a typo (or as the namesakes are called) and her birth date
    shown = matches(client, headers, **named("Noë van der Veem", "1990-01-02"))

    # Then she comes first; a namesake without a date is a possible match, never an exact one
    assert [(m["plan"]["id"], m["match"]["quality"]) for m in shown] == [(plan["id"], "fuzzy")] + [
        (namesake, "fuzzy") for namesake in sorted(namesakes)
    ]
    assert shown[0]["match"]["score"] > shown[1]["match"]["score"]


# --- phone --------------------------------------------------------------------------------------


def test_a_call_from_a_persons_number_in_any_notation_finds_the_plan(client, plan_headers, headers):
    plan = create(client, plan_headers)  # Noë's number registered as 06-12345678

    for number in ("06-12345678", "+31612345678", "0031 6 1234 5678", "+31 (0)6 12 34 56 78"):
        shown = matches(client, headers, phone=number)
        assert [m["plan"]["id"] for m in shown] == [plan["id"]], number
        assert shown[0]["match"] == {"on": "person", "quality": "exact", "score": 1.0}, number
    assert matches(client, headers, phone="06-50000000") == []  # a number nobody registered


# --- what a match shows, and what it does not ---------------------------------------------------


def test_a_match_shows_what_responders_need_and_nothing_outside_the_allow_list(
    client, plan_headers, headers, registrant
):
    created = create(
        client,
        plan_headers,
        agreements=[
            agreement(trigger="Geluidsoverlast", action="Prio 1"),
            agreement(trigger="Vermoeden huiselijk geweld", action="Aanhouden, THV starten"),
            agreement(trigger="Kinderen moeten weg", action="Naar de tante", actor="network"),
        ],
    )

    answer = look_up(client, headers, **at())
    plan = answer.get_json()["matches"][0]["plan"]

    assert set(plan) == RESPONDER_PLAN_FIELDS  # no status, no valid_from
    # in the order someone reading the answer needs it: what is at stake and what to do first
    assert list(json.loads(answer.get_data(as_text=True))["matches"][0]["plan"]) == [
        "id", "version", "title", "risk_signals", "measures", "agreements", "contacts", "persons",
        "addresses", "secret_addresses", "summary", "family_profiles", "family_profile", "owner",
        "valid_until",
    ]  # fmt: skip
    for name, row_fields in RESPONDER_ROW_FIELDS.items():
        assert plan[name], name
        assert all(set(row) == row_fields for row in plan[name]), name  # no row ids but agreements'
    assert plan["id"] == created["id"]
    assert plan["version"] == 1
    assert plan["risk_signals"] == ["weapons", "threat_to_kill"]
    assert [(a["position"], a["trigger"], a["actor"]) for a in plan["agreements"]] == [
        (1, "Geluidsoverlast", "police"),
        (2, "Vermoeden huiselijk geweld", "police"),
        (3, "Kinderen moeten weg", "network"),
    ]
    # a report refers to the agreements by these ids
    assert [a["id"] for a in plan["agreements"]] == [a["id"] for a in created["agreements"]]
    assert [(c["name"], c["phone"]) for c in plan["contacts"]] == [
        ("Tante Fictief", "06-87654321"),
        ("Piketdienst Jeugdbescherming", "088-7654321"),
    ]
    assert [(p["first_name"], p["role"], p["do_not_inform"]) for p in plan["persons"]] == [
        ("Noë", "victim", False),
        ("Sam", "perpetrator", True),
    ]
    assert plan["persons"][0]["phone"] == "06-12345678"
    assert [p["birth_date"] for p in plan["persons"]] == ["1990-01-02", "1988-07-15"]
    assert plan["owner"] == {"organisation": registrant.organisation.name, "name": "J. Beschermer",
                             "phone": "088-1234567"}  # fmt: skip
    assert plan["valid_until"] == created["valid_until"]


def test_the_rows_of_a_plan_shown_are_read_as_stored(app, client, plan_headers):
    """_views reads the four kinds of rows of the shown versions in one UNION ALL (each kind in
    slots of its columns' types): every row comes back with its table's columns, values and types,
    in the order shown, whether one version is read or several."""
    from sqlalchemy import inspect

    from lookup import operations
    from registry.core.models import Address, Agreement, Contact, Person

    unknown = person(first_name="", surname_prefix="", surname="Onbekend", birth_date=None, phone=None)
    first = create(
        client,
        plan_headers,
        persons=[NOE, SAM, unknown],
        agreements=[agreement(trigger="Eerst"), agreement(trigger="Dan", actor="network"), agreement()],
    )
    second = create(client, plan_headers, addresses=[address(postcode="9999 ZZ", house_number_suffix="BIS")])
    kinds = {"addresses": Address, "persons": Person, "agreements": Agreement, "contacts": Contact}
    order = {"agreements": "position"}
    with app.app_context():
        session = database.session
        versions = [
            session.scalars(select(PlanVersion).where(PlanVersion.plan_id == uuid.UUID(plan["id"]))).one()
            for plan in (first, second)
        ]
        matches = [operations.Match(v.plan_id, v.id, "address", "exact", 1.0) for v in versions]
        for shown in (matches[:1], matches):
            with database.reading():
                views = operations._views(session, shown)
            for view, version in zip(views, versions, strict=False):
                for name, model in kinds.items():
                    stored = session.scalars(
                        select(model)
                        .where(model.plan_version_id == version.id)
                        .order_by(getattr(model, order.get(name, "id")))
                    ).all()
                    columns = [column.key for column in inspect(model).columns]
                    expected = [{key: getattr(row, key) for key in columns} for row in stored]
                    # the rows as stored, besides what the read path adds (a contact's
                    # reachability, an agreement's contact)
                    rows = [{key: row[key] for key in columns} for row in getattr(view, name)]
                    assert rows == expected, name
                    assert [list(row) for row in rows] == [columns] * len(stored), name
                    assert [[type(value) for value in row.values()] for row in rows] == [
                        [type(value) for value in row.values()] for row in expected
                    ], name


def test_the_answer_is_what_the_response_schema_dumps(app, client, plan_headers, headers, monkeypatch):
    """The answer is dumped by a function built from LookupResponseSchema (registry.web.schemas.dumper),
    not by marshmallow itself: the same answer, for every kind of lookup and every kind of value."""
    from lookup import api, operations
    from lookup.schemas import LookupResponseSchema

    outcomes: list[operations.Outcome] = []
    prepare = operations.prepare

    def prepared(*args: Any, **kwargs: Any) -> operations.Outcome:
        outcomes.append(prepare(*args, **kwargs))
        return outcomes[-1]

    monkeypatch.setattr(operations, "prepare", prepared)
    unknown = person(first_name="", surname_prefix="", surname="Onbekend", birth_date=None, phone=None)
    create(client, plan_headers, family_profile=None, persons=[NOE, SAM, unknown])
    create(
        client, plan_headers, title="Bovenwoning", addresses=[{**KERKSTRAAT_14, "house_number_suffix": "A"}]
    )
    queries = [*EVERY_KIND.values(), at(suffix="a"), at(house_number=99)]
    answers = [look_up(client, headers, **query) for query in queries]

    assert [len(found_plan_ids(response.get_json())) for response in answers] == [2, 2, 2, 2, 2, 2, 0]
    schema = LookupResponseSchema()
    for outcome, response in zip(outcomes, answers, strict=True):
        dumped = api.dump_outcome(outcome)
        assert dumped == schema.dump(api.answer(outcome))
        assert json.dumps(dumped, default=str) == json.dumps(schema.dump(api.answer(outcome)), default=str)
        assert response.get_json() == json.loads(json.dumps(dumped))


def test_the_answer_is_not_cached_and_is_logged_with_an_id_and_time(app, client, plan_headers, headers):
    create(client, plan_headers)

    response = look_up(client, headers, **at())

    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"lookup_id", "performed_at", "matches", "candidates"}
    performed_at = datetime.fromisoformat(body["performed_at"])
    assert performed_at.tzinfo is not None
    assert abs(datetime.now(UTC) - performed_at) < timedelta(minutes=1)
    with app.app_context():
        assert database.session.get(Lookup, uuid.UUID(body["lookup_id"])) is not None


def test_a_plan_with_several_matching_persons_is_shown_once(client, plan_headers, headers):
    plan = create(client, plan_headers, persons=[NOE, {**NOE, "first_name": "Daan", "role": "child",
                                                       "birth_date": "2015-03-04"}])  # fmt: skip

    assert [m["plan"]["id"] for m in matches(client, headers, **named("van der Veen"))] == [plan["id"]]


# --- plans that are never shown -----------------------------------------------------------------


def assert_found_every_way(client: FlaskClient, headers: dict[str, str], plan_id: str) -> None:
    for kind, query in EVERY_KIND.items():
        assert [m["plan"]["id"] for m in matches(client, headers, **query)] == [plan_id], kind


def assert_found_no_way(client: FlaskClient, headers: dict[str, str]) -> None:
    for kind, query in EVERY_KIND.items():
        assert matches(client, headers, **query) == [], kind


def test_a_withdrawn_plan_is_never_returned(client, plan_headers, headers):
    plan = create(client, plan_headers)
    assert_found_every_way(client, headers, plan["id"])

    withdrawn = client.post(
        f"{PLANS}/{plan['id']}/withdraw", json={"reason": "Gezin verhuisd"}, headers=plan_headers
    )

    assert withdrawn.status_code == 200
    assert_found_no_way(client, headers)


def test_a_plan_withdrawn_behind_the_index_is_still_not_returned(app, client, plan_headers, headers):
    # Given a plan withdrawn straight in the database: no change-feed row, no signal
    plan = create(client, plan_headers)
    with app.app_context():
        index = search.index_for(app.config["INDEX_DIR"])
        index.catch_up(database.session)  # the creation, as a lookup would apply it
        database.commit()
        database.session.execute(
            update(Plan).where(Plan.id == uuid.UUID(plan["id"])).values(status="withdrawn")
        )
        database.commit()
        for name in ("Noë van der Veen", "Veen"):
            stale = index.find_persons(normalise.query_name(name))
            assert [str(hit.plan_id) for hit in stale] == [plan["id"]], "the index should still hold the plan"

    # When the control room looks it up, Then nothing is shown
    assert_found_no_way(client, headers)
    assert matches(client, headers, **named("Veen")) == []


def test_a_plan_past_its_valid_until_is_not_returned_even_before_the_nightly_expiry(
    app, client, plan_headers, headers, responder, auth_headers
):
    plan = create(client, plan_headers, valid_until=(today() + timedelta(days=1)).isoformat())
    assert_found_every_way(client, headers, plan["id"])

    with time_machine.travel(datetime.now(UTC) + timedelta(days=3)):
        assert_found_no_way(client, auth_headers(responder))

    with app.app_context():  # `samenop plans expire` has not run: only the date keeps it out
        assert database.session.get(Plan, uuid.UUID(plan["id"])).status == "active"


def test_a_plan_whose_validity_starts_later_is_shown_no_way_until_its_first_day(
    app, client, plan_headers, headers, responder, auth_headers
):
    # Given a plan agreed today that holds from the first of next month
    first_day = today() + timedelta(days=30)
    plan = create(client, plan_headers, valid_from=first_day.isoformat())

    # When the control room looks the family up today, by every kind of lookup
    # Then nothing is shown, not even the building
    assert_found_no_way(client, headers)
    assert matches(client, headers, **at(suffix="B")) == []
    # and no report can be filed on it without a lookup that showed it
    report = client.post(
        "/api/v1/reports",
        json={
            "plan_id": plan["id"],
            "incident_ref": "P-2024-0001",
            "occurred_at": datetime.now(UTC).isoformat(),
            "mode": "phone_advice",
            "responders": ["police"],
            "agreements": [],
            "actions": [],
            "narrative": "",
        },
        headers=headers,
    )
    assert report.status_code == 422
    assert "plan_id" in report.get_json()["error"]["fields"]

    # When its first day comes (Amsterdam), Then every kind of lookup finds it
    with time_machine.travel(datetime.combine(first_day, datetime.min.time(), UTC) + timedelta(hours=8)):
        assert_found_every_way(client, auth_headers(responder), plan["id"])


def test_a_plan_expired_by_the_nightly_job_is_not_returned(app, client, plan_headers, headers):
    plan = create(client, plan_headers, valid_until=(today() + timedelta(days=1)).isoformat())
    assert_found_every_way(client, headers, plan["id"])

    result = app.test_cli_runner().invoke(expire, ["--date", (today() + timedelta(days=2)).isoformat()])

    assert result.exit_code == 0, result.output
    assert "1 plan(s) expired" in result.output
    with app.app_context():
        assert database.session.get(Plan, uuid.UUID(plan["id"])).status == "expired"
    assert_found_no_way(client, headers)


def test_after_an_update_the_lookup_shows_the_new_version_and_not_the_old_address(
    client, plan_headers, headers
):
    created = create(client, plan_headers)
    moved = editable(
        created,
        title="Gezin verhuisd",
        addresses=[address(postcode="9402 CD", house_number=3, street="Stationsweg", city="Assen")],
    )
    response = client.put(f"{PLANS}/{created['id']}", json=moved, headers=plan_headers)
    assert response.status_code == 200, response.get_json()

    assert matches(client, headers, **at()) == []
    assert matches(client, headers, address_text="Kerkstraat 14 Assen") == []
    for query in (at(postcode="9402CD", house_number=3), {"address_text": "Stationsweg 3 Assen"},
                  named("Noë van der Veen", "1990-01-02"), {"phone": "06-12345678"}):  # fmt: skip
        shown = matches(client, headers, **query)
        assert [(m["plan"]["id"], m["plan"]["version"], m["plan"]["title"]) for m in shown] == [
            (created["id"], 2, "Gezin verhuisd")
        ], query


# --- who may look up ----------------------------------------------------------------------------


def test_a_responder_of_any_responder_organisation_or_region_can_look_up(
    client, plan_headers, make_org, make_user, auth_headers
):
    # the plan is not shared with anyone: responders need no share to find it (only police, CIT
    # and Veilig Thuis hold the role: tests/registry/test_lookup_role.py)
    plan = create(client, plan_headers)

    for kind, region in (("police", "Oost"), ("cit", "Zuid"), ("veilig_thuis", None), ("police", "Noord")):
        elsewhere = make_user(
            roles=("responder",), org=make_org(f"Team {kind} {region}", kind=kind, region=region)
        )
        shown = matches(client, auth_headers(elsewhere), **at())
        assert [m["plan"]["id"] for m in shown] == [plan["id"]], kind


def test_a_registrant_gets_403_and_nothing_is_stored(app, client, plan_headers):
    create(client, plan_headers)

    response = look_up(client, plan_headers, **at())

    assert_error(response, 403, "forbidden")
    assert lookup_counts(app) == (0, 0)


def test_without_a_valid_token_the_answer_is_401_and_nothing_is_stored(app, client, plan_headers):
    create(client, plan_headers)

    for authorization in (None, "Bearer ", "Bearer not-a-token", "Basic dXNlcjpwdw=="):
        response = look_up(client, {"Authorization": authorization} if authorization else {}, **at())
        assert_error(response, 401, "unauthenticated")
        assert "matches" not in response.get_json()
    assert lookup_counts(app) == (0, 0)


# --- bad input ----------------------------------------------------------------------------------


def test_a_lookup_without_incident_ref_is_refused_naming_the_field(app, client, headers):
    for body in (
        at(),
        {"incident_ref": "", **at()},
        {"incident_ref": "   ", **at()},
        {"incident_ref": None, **at()},
    ):
        error = assert_error(client.post(LOOKUPS, json=body, headers=headers), 422, "invalid_input")
        assert "incident_ref" in error["fields"], body
    assert lookup_counts(app) == (0, 0)


def test_a_lookup_searches_exactly_one_way_and_a_refusal_names_the_ways(app, client, headers):
    error = assert_error(look_up(client, headers), 422, "invalid_input")
    assert {"address", "address_text", "person", "phone"} <= set(error["fields"])
    for query in (
        {**at(), "phone": "06-12345678"},
        {"address_text": "Kerkstraat 14 Assen", **named("Veen")},
        {**at(), "address_text": "Kerkstraat 14 Assen", "phone": "06-12345678"},
    ):
        error = assert_error(look_up(client, headers, **query), 422, "invalid_input")
        assert set(error["fields"]) == set(query)
    assert lookup_counts(app) == (0, 0)


BAD_FIELDS = [
    (at(postcode="0123AB"), "address.postcode"),
    (at(postcode="9401"), "address.postcode"),
    (at(postcode="1234 SS"), "address.postcode"),
    (at(house_number=0), "address.house_number"),
    (at(house_number=100000), "address.house_number"),
    ({"address": {"postcode": "9401AB"}}, "address.house_number"),
    ({"phone": "bel me"}, "phone"),
    ({"person": {"name": ""}}, "person.name"),
    ({"person": {"name": "Veen", "birth_date": "02-01-1990"}}, "person.birth_date"),
    ({"address_text": "Kerkstraat"}, "address_text"),
]


def test_bad_query_fields_are_refused_naming_the_field(app, client, headers):
    for query, field in BAD_FIELDS:
        error = assert_error(look_up(client, headers, **query), 422, "invalid_input")
        assert field in error["fields"], query
    assert lookup_counts(app) == (0, 0)


# --- every lookup is recorded -------------------------------------------------------------------


def test_a_lookup_with_a_match_is_stored_with_one_audit_row_naming_the_version_shown(
    app, client, plan_headers, headers, responder
):
    plan = create(client, plan_headers)
    with app.app_context():
        version_id = database.session.scalars(
            select(PlanVersion.id).where(
                PlanVersion.plan_id == uuid.UUID(plan["id"]), PlanVersion.version == 1
            )
        ).one()

    for number, (kind, query) in enumerate(SHOWN_KINDS.items(), start=1):
        body = look_up(client, headers, incident_ref=f"P-2024-{number}", **query).get_json()

        assert lookup_counts(app) == (number, number), kind
        with app.app_context():
            session = database.session
            stored = session.get(Lookup, uuid.UUID(body["lookup_id"]))
            assert stored is not None
            assert (stored.user_id, stored.organisation_id, stored.role) == (
                responder.id,
                responder.organisation_id,
                "responder",
            )
            assert (stored.incident_ref, stored.query_kind, stored.match_count) == (
                f"P-2024-{number}",
                kind,
                1,
            )
            assert [(r.plan_id, r.plan_version_id) for r in stored.results] == [
                (uuid.UUID(plan["id"]), version_id)
            ]
            entry = session.scalars(select(AuditEntry).where(AuditEntry.object_id == body["lookup_id"])).one()
            assert (entry.action, entry.outcome, entry.user_id, entry.role, entry.organisation) == (
                "lookup",
                "match",
                responder.id,
                "responder",
                "Meldkamer Noord-Nederland",
            )
            assert entry.detail == {
                "incident_ref": f"P-2024-{number}",
                "query_kind": kind,
                "shown": [{"plan": plan["id"], "version_id": version_id}],
            }


def test_a_lookup_without_a_match_is_stored_and_audited_too(app, client, headers, responder):
    for number, (kind, query) in enumerate(SHOWN_KINDS.items(), start=1):
        response = look_up(client, headers, incident_ref=f"P-2024-{number}", **query)

        assert response.status_code == 200
        assert response.get_json()["matches"] == []
        assert lookup_counts(app) == (number, number), kind
        with app.app_context():
            session = database.session
            stored = session.get(Lookup, uuid.UUID(response.get_json()["lookup_id"]))
            assert stored is not None
            assert (stored.user_id, stored.incident_ref, stored.query_kind, stored.match_count) == (
                responder.id,
                f"P-2024-{number}",
                kind,
                0,
            )
            assert stored.results == []
            entry = session.scalars(select(AuditEntry).where(AuditEntry.object_id == str(stored.id))).one()
            assert (entry.action, entry.outcome) == ("lookup", "no_match")
            assert entry.detail == {"incident_ref": f"P-2024-{number}", "query_kind": kind, "shown": []}
    with app.app_context():
        assert database.session.scalars(select(LookupResult)).all() == []


def test_a_lookup_reads_in_one_transaction_and_writes_in_one(app, client, plan_headers, headers):
    """The token check and the search share a read-only transaction (no write lock on SQLite, so
    lookups search in parallel); the lookup, its results and its audit row are one write."""
    import threading

    from sqlalchemy import event

    from registry.core import db as db_module

    create(client, plan_headers)
    begun: list[str] = []
    requests = threading.get_ident()  # the test client's requests run here; the index follower not

    @event.listens_for(app.extensions["samenop.engine"], "begin")
    def _begin(_connection: Any) -> None:
        if threading.get_ident() == requests:
            begun.append("read" if db_module._READING.get() else "write")

    for kind, query in EVERY_KIND.items():
        begun.clear()

        assert len(matches(client, headers, **query)) == 1, kind
        assert begun == ["read", "write"], kind


# --- the access log for the plan's owners -------------------------------------------------------


def test_the_owner_sees_every_lookup_that_showed_the_plan(app, client, plan_headers, headers, responder):
    plan = create(client, plan_headers)
    other = create(client, plan_headers, addresses=[address(postcode="9999 ZZ")], persons=[SAM])
    never_looked_up = client.get(f"{PLANS}/{plan['id']}/access-log", headers=plan_headers)
    assert never_looked_up.status_code == 200
    assert never_looked_up.get_json() == {"items": [], "next_cursor": None}
    look_up(client, headers, incident_ref="P-1", **at())
    look_up(client, headers, incident_ref="P-2", **named("Noë van der Veen", "1990-01-02"))
    look_up(client, headers, incident_ref="P-3", **at(postcode="9999ZZ"))  # shows the other plan only
    look_up(client, headers, incident_ref="P-4", **at(house_number=99))  # shows nothing

    response = client.get(f"{PLANS}/{plan['id']}/access-log", headers=plan_headers)

    assert response.status_code == 200
    items = response.get_json()["items"]
    fields = {"at", "organisation", "user", "incident_ref", "query_kind", "kind"}
    assert all(set(item) == fields for item in items)
    assert {item["kind"] for item in items} == {"lookup"}
    assert sorted((i["incident_ref"], i["query_kind"]) for i in items) == [
        ("P-1", "address"),
        ("P-2", "person"),
    ]
    assert {(i["organisation"], i["user"]) for i in items} == {
        ("Meldkamer Noord-Nederland", responder.username)
    }
    assert all(datetime.fromisoformat(i["at"]).tzinfo is not None for i in items)
    other_log = client.get(f"{PLANS}/{other['id']}/access-log", headers=plan_headers).get_json()["items"]
    assert [i["incident_ref"] for i in other_log] == ["P-3"]


def test_another_organisation_gets_404_and_a_responder_403_for_the_access_log(
    client, plan_headers, headers, make_user, auth_headers
):
    plan = create(client, plan_headers)
    look_up(client, headers, **at())
    stranger = make_user(roles=("registrant",))

    response = client.get(f"{PLANS}/{plan['id']}/access-log", headers=auth_headers(stranger))

    assert_error(response, 404, "not_found")
    assert_error(client.get(f"{PLANS}/{uuid.uuid4()}/access-log", headers=plan_headers), 404, "not_found")
    assert_error(client.get(f"{PLANS}/not-a-uuid/access-log", headers=plan_headers), 404, "not_found")
    assert_error(client.get(f"{PLANS}/{plan['id']}/access-log", headers=headers), 403, "forbidden")
