"""The plans API as the contract states it: fields, status codes, versions, withdraw, audit,
roles, normalisation, the "one is none" warning and sharing between organisations."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from registry.core.db import db as database
from registry.core.models import AuditEntry, PlanVersion
from registry.plans import operations
from tests.registry.plan_data import (
    API,
    address,
    contact,
    editable,
    person,
    plan_body,
    requests_on_plan,
    stored_rows,
    today,
    version_snapshot,
)

PLAN_FIELDS = {
    "id", "version", "status", "title", "summary", "valid_from", "valid_until", "family_profile",
    "family_profiles", "risk_signals", "owner", "addresses", "persons", "agreements", "contacts", "measures",
}  # fmt: skip
OWNER_FIELDS = {"organisation", "name", "phone"}
ADDRESS_FIELDS = {
    "id", "postcode", "house_number", "house_number_suffix", "street", "city", "role", "is_secret",
}  # fmt: skip
PERSON_FIELDS = {
    "id", "first_name", "surname_prefix", "surname", "birth_date", "role", "phone", "do_not_inform",
    "do_not_inform_reason", "perpetrator_may_know", "language", "interpreter_needed",
}  # fmt: skip
AGREEMENT_FIELDS = {"id", "position", "trigger", "action", "actor", "contact_number"}
CONTACT_FIELDS = {"id", "name", "relation", "phone", "available", "availability", "knows_plan", "tested_on"}


def assert_contract_plan(plan: dict[str, Any]) -> None:
    assert set(plan) == PLAN_FIELDS
    assert set(plan["owner"]) == OWNER_FIELDS
    for name, row_fields in (
        ("addresses", ADDRESS_FIELDS),
        ("persons", PERSON_FIELDS),
        ("agreements", AGREEMENT_FIELDS),
        ("contacts", CONTACT_FIELDS),
    ):
        assert isinstance(plan[name], list)
        for row in plan[name]:
            assert set(row) == row_fields, name


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The contract's error body, and nothing else."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return body["error"]


@pytest.fixture
def registrant(make_user: Any) -> Any:
    return make_user(roles=("registrant",))


@pytest.fixture
def headers(registrant: Any, auth_headers: Any) -> dict[str, str]:
    return auth_headers(registrant)


def create(client: FlaskClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post(API, json=plan_body(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# --- create, read, list ------------------------------------------------------------------------


def test_create_answers_201_with_exactly_the_contract_fields_and_warnings(client, headers, registrant):
    response = client.post(API, json=plan_body(), headers=headers)

    assert response.status_code == 201
    plan = response.get_json()
    assert plan.pop("warnings") == []
    assert_contract_plan(plan)
    assert uuid.UUID(plan["id"])
    assert plan["version"] == 1
    assert plan["status"] == "active"
    assert plan["title"] == "Gezin Voorbeeld"
    assert plan["valid_from"] == today().isoformat()  # defaults to today
    assert plan["valid_until"] == (today() + timedelta(days=60)).isoformat()
    assert plan["family_profile"] == "intimate_terror"
    assert plan["risk_signals"] == ["weapons", "threat_to_kill"]
    assert plan["owner"] == {
        "organisation": registrant.organisation.name,
        "name": "J. Beschermer",
        "phone": "088-1234567",
    }
    assert [a["position"] for a in plan["agreements"]] == [1, 2, 3]
    assert [a["actor"] for a in plan["agreements"]] == ["police", "police", "network"]
    assert [p["do_not_inform"] for p in plan["persons"]] == [False, True]
    assert plan["persons"][0]["birth_date"] == "1990-01-02"
    assert plan["addresses"][0]["house_number"] == 14
    assert all(isinstance(row["id"], int) for row in plan["addresses"] + plan["contacts"])


def test_get_one_shows_the_plan_as_created_without_warnings(client, headers):
    created = create(client, headers, valid_from=(today() + timedelta(days=2)).isoformat())

    response = client.get(f"{API}/{created['id']}", headers=headers)

    assert response.status_code == 200
    shown = response.get_json()
    assert_contract_plan(shown)
    created.pop("warnings")
    assert shown == created
    assert shown["valid_from"] == (today() + timedelta(days=2)).isoformat()


def test_list_answers_items_with_the_contract_fields(client, headers):
    first = create(client, headers, title="Gezin Een")
    second = create(client, headers, title="Gezin Twee", family_profile=None, risk_signals=[])

    response = client.get(API, headers=headers)

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"items", "next_cursor"}
    assert body["next_cursor"] is None
    for item in body["items"]:
        assert_contract_plan(item)
    assert {item["id"] for item in body["items"]} == {first["id"], second["id"]}
    by_id = {item["id"]: item for item in body["items"]}
    assert by_id[second["id"]]["family_profile"] is None
    assert by_id[second["id"]]["risk_signals"] == []


def test_list_filters_by_status(app, client, headers):
    active = create(client, headers, title="Loopt nog")
    withdrawn = create(client, headers, title="Ingetrokken")
    expired = create(client, headers, title="Verlopen", valid_until=(today() + timedelta(days=1)).isoformat())
    assert (
        client.post(
            f"{API}/{withdrawn['id']}/withdraw", json={"reason": "Gezin verhuisd"}, headers=headers
        ).status_code
        == 200
    )
    with app.app_context():  # two days on, the nightly `samenop plans expire` would do this
        operations.expire_plans(database.session, today() + timedelta(days=2))
        database.commit()

    def listed(query: str) -> set[str]:
        response = client.get(f"{API}{query}", headers=headers)
        assert response.status_code == 200
        return {item["id"] for item in response.get_json()["items"]}

    assert listed("?status=active") == {active["id"]}
    assert listed("?status=withdrawn") == {withdrawn["id"]}
    assert listed("?status=expired") == {expired["id"]}
    assert listed("") == {active["id"], withdrawn["id"], expired["id"]}
    statuses = {item["id"]: item["status"] for item in client.get(API, headers=headers).get_json()["items"]}
    assert statuses == {active["id"]: "active", withdrawn["id"]: "withdrawn", expired["id"]: "expired"}
    error = assert_error(client.get(f"{API}?status=gesloten", headers=headers), 400, "invalid_input")
    assert "status" in error["fields"]


# --- versions ----------------------------------------------------------------------------------


def test_put_with_the_current_version_makes_a_new_version_and_keeps_the_old_one(app, client, headers):
    created = create(client, headers)
    before = version_snapshot(app, created["id"], 1)
    changed = editable(
        created,
        title="Gezin Voorbeeld, bijgewerkt",
        addresses=[address(postcode="9402 CD", house_number=3, role="safe_address")],
    )

    response = client.put(f"{API}/{created['id']}", json=changed, headers=headers)

    assert response.status_code == 200, response.get_json()
    updated = response.get_json()
    assert updated.pop("warnings") == []
    assert_contract_plan(updated)
    assert updated["version"] == 2
    assert updated["title"] == "Gezin Voorbeeld, bijgewerkt"
    assert [(a["postcode"], a["role"]) for a in updated["addresses"]] == [("9402CD", "safe_address")]
    assert client.get(f"{API}/{created['id']}", headers=headers).get_json() == updated
    # the first version is still there, to the letter
    assert version_snapshot(app, created["id"], 1) == before
    assert before["title"] == "Gezin Voorbeeld"
    assert [a["postcode"] for a in before["addresses"]] == ["9401AB"]
    with app.app_context():
        versions = database.session.scalars(
            select(PlanVersion.version).where(PlanVersion.plan_id == uuid.UUID(created["id"]))
        ).all()
    assert sorted(versions) == [1, 2]

    again = client.put(
        f"{API}/{created['id']}", json=editable(updated, summary="Derde versie"), headers=headers
    )
    assert again.status_code == 200
    assert again.get_json()["version"] == 3
    assert version_snapshot(app, created["id"], 1) == before


def test_put_with_a_stale_version_is_a_409_version_conflict_and_changes_nothing(app, client, headers):
    created = create(client, headers)
    stale = editable(created, title="Van versie 1 uit")
    assert (
        client.put(
            f"{API}/{created['id']}", json=editable(created, title="Eerste wijziging"), headers=headers
        ).status_code
        == 200
    )
    rows = stored_rows(app)

    response = client.put(f"{API}/{created['id']}", json=stale, headers=headers)

    error = assert_error(response, 409, "version_conflict")
    assert "version" in error["fields"]
    assert stored_rows(app) == rows
    shown = client.get(f"{API}/{created['id']}", headers=headers).get_json()
    assert (shown["version"], shown["title"]) == (2, "Eerste wijziging")


def save_at_once(
    app: Flask, plan_id: str, bodies: list[dict[str, Any]], headers: list[dict[str, str]]
) -> list[Any]:
    """PUT each body from its own thread and test client, released together by a barrier."""
    barrier = threading.Barrier(len(bodies))
    answers: list[Any] = [None] * len(bodies)

    def save(index: int) -> None:
        own_client = app.test_client()
        barrier.wait(timeout=30)
        answers[index] = own_client.put(f"{API}/{plan_id}", json=bodies[index], headers=headers[index])

    threads = [threading.Thread(target=save, args=(index,)) for index in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_two_editors_saving_from_the_same_version_one_wins_the_other_gets_409(
    app, make_org, make_user, auth_headers
):
    organisation = make_org()
    editor_headers = [auth_headers(make_user(org=organisation)) for _ in range(2)]
    plan = create(app.test_client(), editor_headers[0])

    for round_ in range(3):  # a few rounds, so that the requests really do overlap
        shown = app.test_client().get(f"{API}/{plan['id']}", headers=editor_headers[0]).get_json()
        bodies = [editable(shown, title=f"Redacteur {index}, ronde {round_}") for index in (0, 1)]

        answers = save_at_once(app, plan["id"], bodies, editor_headers)

        assert sorted(answer.status_code for answer in answers) == [200, 409]
        winner = next(answer for answer in answers if answer.status_code == 200).get_json()
        loser = next(answer for answer in answers if answer.status_code == 409)
        assert_error(loser, 409, "version_conflict")
        assert winner["version"] == shown["version"] + 1
        now = app.test_client().get(f"{API}/{plan['id']}", headers=editor_headers[1]).get_json()
        assert (now["version"], now["title"]) == (winner["version"], winner["title"])

    with app.app_context():
        versions = database.session.scalars(
            select(PlanVersion.version).where(PlanVersion.plan_id == uuid.UUID(plan["id"]))
        ).all()
    assert sorted(versions) == [1, 2, 3, 4]


# --- withdraw ------------------------------------------------------------------------------------


def test_withdraw_makes_the_plan_withdrawn_and_final(app, client, headers):
    created = create(client, headers)

    response = client.post(
        f"{API}/{created['id']}/withdraw", json={"reason": "Gezin uit beeld"}, headers=headers
    )

    assert response.status_code == 200
    withdrawn = response.get_json()
    assert_contract_plan(withdrawn)
    assert withdrawn["status"] == "withdrawn"
    assert client.get(f"{API}/{created['id']}", headers=headers).get_json()["status"] == "withdrawn"
    rows = stored_rows(app)
    late_edit = editable(withdrawn, title="Toch nog wijzigen")
    assert_error(client.put(f"{API}/{created['id']}", json=late_edit, headers=headers), 409, "withdrawn")
    assert stored_rows(app) == rows
    shown = client.get(f"{API}/{created['id']}", headers=headers).get_json()
    assert (shown["version"], shown["status"], shown["title"]) == (1, "withdrawn", "Gezin Voorbeeld")


def test_withdraw_needs_a_reason(client, headers):
    created = create(client, headers)

    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": None}, {"reason": 5}):
        response = client.post(f"{API}/{created['id']}/withdraw", json=body, headers=headers)
        assert list(assert_error(response, 422, "invalid_input")["fields"]) == ["reason"], body
    error = assert_error(
        client.post(f"{API}/{created['id']}/withdraw", json={"reden": "x"}, headers=headers),
        422,
        "invalid_input",
    )
    assert set(error["fields"]) == {"reason", "reden"}
    assert_error(
        client.post(f"{API}/{created['id']}/withdraw", data="klaar", headers=headers), 400, "invalid_json"
    )

    assert client.get(f"{API}/{created['id']}", headers=headers).get_json()["status"] == "active"


# --- audit ---------------------------------------------------------------------------------------


def test_reading_a_plan_leaves_an_audit_row(app, client, headers, registrant):
    created = create(client, headers)

    response = client.get(
        f"{API}/{created['id']}", headers=headers, environ_base={"REMOTE_ADDR": "192.0.2.10"}
    )

    assert response.status_code == 200
    with app.app_context():
        rows = database.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "plan_read", AuditEntry.object_id == created["id"])
        ).all()
    assert len(rows) == 1
    row = rows[0]
    assert row.user_id == registrant.id
    assert row.username == registrant.username
    assert row.organisation == registrant.organisation.name
    assert row.role == "registrant"
    assert row.object_type == "plan"
    assert row.remote_addr == "192.0.2.10"
    assert row.outcome == "success"
    assert row.at is not None


# --- not found -----------------------------------------------------------------------------------


def test_unknown_or_garbage_plan_ids_are_404_on_every_endpoint(app, client, headers):
    create(client, headers)  # a plan exists, just not these
    rows = stored_rows(app)

    for plan_id in (str(uuid.uuid4()), "not-a-uuid", "12345", "00000000-0000-0000-0000-00000000000g", "%00"):
        for name, (method, path, body) in requests_on_plan(plan_id).items():
            response = client.open(path, method=method, json=body, headers=headers)
            assert response.status_code == 404, f"{name} {plan_id}"
            assert_error(response, 404, "not_found")

    assert stored_rows(app) == rows


# --- roles and authentication --------------------------------------------------------------------


def every_endpoint(plan_id: str) -> dict[str, tuple[str, str, Any]]:
    return {
        "create": ("POST", API, plan_body()),
        "list": ("GET", API, None),
        **requests_on_plan(plan_id),
    }


def test_users_without_the_registrant_role_get_403_on_every_endpoint(
    app, client, headers, make_user, auth_headers, registrant
):
    created = create(client, headers)
    rows = stored_rows(app)

    for roles in (("responder",), ("coordinator",), ("responder", "coordinator"), ("auditor",)):
        # even colleagues in the owning organisation: the role decides (a responder is one of a
        # control room: nobody else holds the role, registry/core/roles.py)
        org = None if "responder" in roles else registrant.organisation
        outsider = auth_headers(make_user(roles=roles, org=org))
        for name, (method, path, body) in every_endpoint(created["id"]).items():
            response = client.open(path, method=method, json=body, headers=outsider)
            assert response.status_code == 403, f"{name} as {roles}"
            assert_error(response, 403, "forbidden")

    assert stored_rows(app) == rows
    shown = client.get(f"{API}/{created['id']}", headers=headers).get_json()
    assert (shown["version"], shown["status"]) == (1, "active")


def test_without_a_valid_token_every_endpoint_is_401(app, client, headers):
    created = create(client, headers)
    rows = stored_rows(app)

    for authorization in (None, "", "Bearer", "Bearer not-a-real-token", "Basic dXNlcjpwYXNz"):
        sent = {} if authorization is None else {"Authorization": authorization}
        for name, (method, path, body) in every_endpoint(created["id"]).items():
            response = client.open(path, method=method, json=body, headers=sent)
            assert response.status_code == 401, f"{name} with {authorization!r}"
            assert_error(response, 401, "unauthenticated")
    # a token that was valid, once revoked
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert_error(client.get(f"{API}/{created['id']}", headers=headers), 401, "unauthenticated")

    assert stored_rows(app) == rows


# --- normalisation -------------------------------------------------------------------------------


NORMALISED = [  # typed postcode, suffix, phone -> the phone as shown
    ("9401 ab", "-a", "+31612345678", "06-12345678"),
    ("9401AB", "a", "0031 6 1234 5678", "06-12345678"),
    ("  9401  Ab ", " A", "06 12 34 56 78", "06-12345678"),
    ("9401aB", "/a", "(06) 12345678", "06-12345678"),
    ("9401 AB", "A", "0592 123 456", "0592-123456"),
]


def test_postcodes_suffixes_and_phone_numbers_are_stored_normalised(app, client, headers):
    for typed_postcode, typed_suffix, typed_phone, shown_phone in NORMALISED:
        body = plan_body(
            addresses=[address(postcode=typed_postcode, house_number=14, house_number_suffix=typed_suffix)],
            persons=[person(phone=typed_phone)],
            contacts=[contact(phone=typed_phone), contact(name="Buurvrouw", phone="+31 6 8765 4321")],
            owner={"name": "J. Beschermer", "phone": typed_phone},
        )

        response = client.post(API, json=body, headers=headers)

        assert response.status_code == 201, response.get_json()
        plan = response.get_json()
        assert (plan["addresses"][0]["postcode"], plan["addresses"][0]["house_number_suffix"]) == (
            "9401AB",
            "A",
        )
        assert plan["persons"][0]["phone"] == shown_phone
        assert [c["phone"] for c in plan["contacts"]] == [shown_phone, "06-87654321"]
        assert plan["owner"]["phone"] == shown_phone
        # stored in one normal form (E.164), whatever was typed
        stored = version_snapshot(app, plan["id"], 1)
        e164 = "+31" + shown_phone[1:].replace("-", "")
        assert (stored["addresses"][0]["postcode"], stored["addresses"][0]["house_number_suffix"]) == (
            "9401AB",
            "A",
        )
        assert stored["persons"][0]["phone"] == e164
        assert [c["phone"] for c in stored["contacts"]] == [e164, "+31687654321"]
        assert stored["owner_phone"] == e164


def test_texts_are_trimmed_a_missing_suffix_is_empty_and_a_typed_number_is_a_number(client, headers):
    body = plan_body(
        title="  Gezin Spatie  ",
        addresses=[address(house_number="27", house_number_suffix=None, street=" Verzonnenstraat ")],
    )

    plan = client.post(API, json=body, headers=headers).get_json()

    assert plan["title"] == "Gezin Spatie"
    assert plan["addresses"][0]["house_number"] == 27
    assert plan["addresses"][0]["house_number_suffix"] == ""
    assert plan["addresses"][0]["street"] == "Verzonnenstraat"


# --- one is none ---------------------------------------------------------------------------------


def test_fewer_than_two_contacts_is_saved_with_a_one_is_none_warning(client, headers):
    for contacts in ([], [contact()]):
        response = client.post(API, json=plan_body(contacts=contacts), headers=headers)

        assert response.status_code == 201
        plan = response.get_json()
        assert len(plan["contacts"]) == len(contacts)
        assert len(plan["warnings"]) == 1
        warning = plan["warnings"][0]
        assert set(warning) == {"field", "code", "message"}
        assert (warning["field"], warning["code"]) == ("contacts", "one_is_none")
        assert warning["message"]
        # the warning travels with the write, not with every read
        assert "warnings" not in client.get(f"{API}/{plan['id']}", headers=headers).get_json()

    # a backup on the next version clears it (two contacts: no warning); removing it brings it back
    backed_up = editable(plan, contacts=[contact(), contact(name="Opa Fictief", phone="06-22334455")])
    response = client.put(f"{API}/{plan['id']}", json=backed_up, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["warnings"] == []
    alone = editable(response.get_json(), contacts=[contact()])
    response = client.put(f"{API}/{plan['id']}", json=alone, headers=headers)
    assert [warning["code"] for warning in response.get_json()["warnings"]] == ["one_is_none"]


# --- sharing -------------------------------------------------------------------------------------


def test_sharing_lets_the_other_organisation_see_edit_and_withdraw_until_unshared(
    app, client, headers, registrant, make_org, make_user, auth_headers
):
    partner_name = "Wijkteam Noord/Oost"  # a slash, as organisation names may have
    partner = make_org(name=partner_name)
    partner_headers = auth_headers(make_user(org=partner))
    plan = create(client, headers)
    shares = f"{API}/{plan['id']}/shares"
    assert_error(client.get(f"{API}/{plan['id']}", headers=partner_headers), 404, "not_found")

    response = client.post(shares, json={"organisation": partner_name}, headers=headers)

    assert response.status_code == 201
    assert response.get_json() == {"items": [{"organisation": partner_name}], "next_cursor": None}
    assert client.get(shares, headers=headers).get_json() == {
        "items": [{"organisation": partner_name}],
        "next_cursor": None,
    }
    # the partner reads, finds it in its list, and edits it
    seen = client.get(f"{API}/{plan['id']}", headers=partner_headers)
    assert seen.status_code == 200
    assert seen.get_json()["owner"]["organisation"] == registrant.organisation.name
    listed = client.get(API, headers=partner_headers).get_json()["items"]
    assert [item["id"] for item in listed] == [plan["id"]]
    edited = client.put(
        f"{API}/{plan['id']}",
        json=editable(seen.get_json(), title="Door partner bijgewerkt"),
        headers=partner_headers,
    )
    assert edited.status_code == 200
    assert client.get(f"{API}/{plan['id']}", headers=headers).get_json()["title"] == "Door partner bijgewerkt"

    # unshared: gone for the partner, as if it never existed
    unshared = client.delete(f"{shares}/{partner_name}", headers=headers)
    assert unshared.status_code == 204
    assert client.get(shares, headers=headers).get_json() == {"items": [], "next_cursor": None}
    for method, path, body in requests_on_plan(plan["id"]).values():
        assert_error(client.open(path, method=method, json=body, headers=partner_headers), 404, "not_found")
    assert client.get(API, headers=partner_headers).get_json() == {"items": [], "next_cursor": None}
    assert client.get(f"{API}/{plan['id']}", headers=headers).get_json()["status"] == "active"

    # shared again, the partner may withdraw it too
    assert client.post(shares, json={"organisation": partner_name}, headers=headers).status_code == 201
    withdrawn = client.post(
        f"{API}/{plan['id']}/withdraw", json={"reason": "Afgesloten"}, headers=partner_headers
    )
    assert withdrawn.status_code == 200
    assert client.get(f"{API}/{plan['id']}", headers=headers).get_json()["status"] == "withdrawn"


def test_sharing_with_an_unknown_organisation_is_422_and_unsharing_it_404(app, client, headers):
    plan = create(client, headers)
    rows = stored_rows(app)

    error = assert_error(
        client.post(f"{API}/{plan['id']}/shares", json={"organisation": "Bestaat Niet"}, headers=headers),
        422,
        "invalid_input",
    )

    assert "organisation" in error["fields"]
    assert stored_rows(app) == rows
    assert_error(client.delete(f"{API}/{plan['id']}/shares/Bestaat Niet", headers=headers), 404, "not_found")
    for body in ({}, {"organisation": ""}, {"organisation": 7}, {"organisation": "x" * 201}):
        error = assert_error(
            client.post(f"{API}/{plan['id']}/shares", json=body, headers=headers), 422, "invalid_input"
        )
        assert "organisation" in error["fields"]
    assert stored_rows(app) == rows


def test_a_plan_shared_with_two_organisations_is_seen_by_both(
    client, headers, make_org, make_user, auth_headers
):
    plan = create(client, headers)
    partners = [make_org(name="Jeugdbescherming Fictief"), make_org(name="Wijkteam Fictief")]
    for partner in partners:
        assert (
            client.post(
                f"{API}/{plan['id']}/shares", json={"organisation": partner.name}, headers=headers
            ).status_code
            == 201
        )

    for partner in partners:
        partner_headers = auth_headers(make_user(org=partner))
        assert client.get(f"{API}/{plan['id']}", headers=partner_headers).status_code == 200

    items = client.get(f"{API}/{plan['id']}/shares", headers=headers).get_json()["items"]
    assert sorted(item["organisation"] for item in items) == sorted(partner.name for partner in partners)
