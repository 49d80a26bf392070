"""A geheim address (the shelter, the safe house): the control room learns that there is one and
that it must never be said, sees it only on purpose with a reason (audited), and a lookup through
the perpetrator never shows it, nor that it exists."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from registry.core.db import db as database
from registry.core.models import AuditEntry
from tests.conftest import csrf_from
from tests.registry.plan_data import address, person, plan_body

LOOKUPS = "/api/v1/lookups"
PLANS = "/api/v1/plans"
HOME = address(postcode="9401 AB", house_number=14, street="Kerkstraat", city="Assen")
SHELTER = address(
    postcode="9999 XY",
    house_number=7,
    street="Verscholenlaan",
    city="Schuilplaats",
    role="safe_address",
    is_secret=True,
)
HIS = address(
    postcode="9402 CD", house_number=3, street="Plegerweg", city="Elders", role="perpetrator_address"
)
NOOR = person(first_name="Noor", surname="Testveen", birth_date="1990-01-02", phone="06-12345678")
SAM = person(
    first_name="Sam", surname="Testman", birth_date="1988-07-15", role="perpetrator", phone="06-11223344",
    do_not_inform=True,
)  # fmt: skip
# what must never be in an answer that did not reveal it
SECRETS = ("Verscholenlaan", "9999XY", "9999 XY", "Schuilplaats")


@pytest.fixture
def plan(client: FlaskClient, make_user: Any, make_org: Any, auth_headers: Any) -> dict[str, Any]:
    owner = make_user(roles=("registrant",), org=make_org("Wijkteam Assen", kind="social_team"))
    body = plan_body(addresses=[HOME, SHELTER, HIS], persons=[NOOR, SAM])
    response = client.post(PLANS, json=body, headers=auth_headers(owner))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def responder(make_user: Any, make_org: Any) -> Any:
    return make_user(roles=("responder",), org=make_org("Meldkamer Noord", kind="police"))


@pytest.fixture
def headers(responder: Any, auth_headers: Any) -> dict[str, str]:
    return auth_headers(responder)


def shelter_id(plan: dict[str, Any]) -> int:
    return next(a["id"] for a in plan["addresses"] if a["is_secret"])


def look_up(client: FlaskClient, headers: dict[str, str], **query: Any) -> tuple[dict[str, Any], str]:
    response = client.post(LOOKUPS, json={"incident_ref": "P-2026-0001", **query}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json(), response.get_data(as_text=True)


def reveals(app: Any) -> list[tuple[str, dict[str, Any]]]:
    with app.app_context():
        rows = database.session.scalars(select(AuditEntry).where(AuditEntry.action == "address_reveal"))
        return [(row.outcome, row.detail) for row in rows]


def test_the_lookup_says_there_is_a_geheim_address_and_shows_it_only_with_a_reason(
    app, client, plan, headers
):
    # When the control room looks up the family's home
    body, text = look_up(client, headers, address={"postcode": "9401AB", "house_number": 14})
    # Then the plan says there is a geheim address, of which kind, and not where
    shown = body["matches"][0]["plan"]
    assert shown["secret_addresses"] == [{"id": shelter_id(plan), "role": "safe_address"}]
    assert [a["street"] for a in shown["addresses"]] == ["Kerkstraat", "Plegerweg"]
    assert not [secret for secret in SECRETS if secret in text]

    # When it asks for the address without a reason, Then it is refused naming the reason
    path = f"{LOOKUPS}/{body['lookup_id']}/reveal"
    refused = client.post(path, json={"address_id": shelter_id(plan), "reason": " "}, headers=headers)
    assert refused.status_code == 422
    assert "reason" in refused.get_json()["error"]["fields"]
    assert reveals(app) == []

    # When it asks with a reason, Then it gets the address with the warning, and the log has why
    revealed = client.post(
        path, json={"address_id": shelter_id(plan), "reason": "Melder is op het opvangadres"}, headers=headers
    )
    assert revealed.status_code == 200, revealed.get_json()
    assert revealed.headers["Cache-Control"].startswith("no-store")
    answer = revealed.get_json()
    assert answer["warning"] == "Geheim adres — nooit noemen via portofoon of aan de melder."
    assert (answer["address"]["street"], answer["address"]["postcode"]) == ("Verscholenlaan", "9999XY")
    ((outcome, detail),) = reveals(app)
    assert outcome == "success"
    assert detail["reason"] == "Melder is op het opvangadres"
    assert detail["lookup_id"] == body["lookup_id"]


@pytest.mark.parametrize(
    "query",
    [
        {"phone": "06-11223344"},
        {"person": {"name": "Sam Testman", "birth_date": "1988-07-15"}},
        {"address": {"postcode": "9402CD", "house_number": 3}},
        {"address_text": "Plegerweg 3 Elders"},
    ],
    ids=["his phone", "his name", "his address", "his address as text"],
)
def test_a_lookup_through_the_perpetrator_never_shows_it_nor_that_it_exists(
    app, client, plan, headers, query
):
    # When the control room looks up the perpetrator
    body, text = look_up(client, headers, **query)
    # Then the plan is shown without any geheim address, not even that there is one
    (match,) = body["matches"]
    assert match["plan"]["secret_addresses"] == []
    assert not [secret for secret in SECRETS if secret in text]
    # And asking for it by its id is refused like an address it never showed, and logged
    path = f"{LOOKUPS}/{body['lookup_id']}/reveal"
    refused = client.post(
        path, json={"address_id": shelter_id(plan), "reason": "Nieuwsgierig"}, headers=headers
    )
    assert refused.status_code == 404
    assert "Verscholenlaan" not in refused.get_data(as_text=True)
    assert [outcome for outcome, _detail in reveals(app)] == ["refused"]


def test_a_lookup_by_the_geheim_address_finds_the_plan_without_saying_it(client, plan, headers):
    body, text = look_up(client, headers, address={"postcode": "9999XY", "house_number": 7})
    (match,) = body["matches"]
    assert match["plan"]["id"] == plan["id"]
    assert match["plan"]["secret_addresses"] == [{"id": shelter_id(plan), "role": "safe_address"}]
    assert "Verscholenlaan" not in text


def test_only_the_user_who_looked_up_can_reveal(client, plan, headers, make_user, make_org, auth_headers):
    body, _text = look_up(client, headers, address={"postcode": "9401AB", "house_number": 14})
    colleague = auth_headers(make_user(roles=("responder",), org=make_org("Meldkamer Oost", kind="police")))
    path = f"{LOOKUPS}/{body['lookup_id']}/reveal"
    refused = client.post(
        path, json={"address_id": shelter_id(plan), "reason": "Collega vroeg"}, headers=colleague
    )
    assert refused.status_code == 404
    # and an address that is not geheim is no reveal either
    home_id = next(a["id"] for a in plan["addresses"] if a["street"] == "Kerkstraat")
    refused = client.post(path, json={"address_id": home_id, "reason": "Waarom niet"}, headers=headers)
    assert refused.status_code == 404


def test_candidates_of_a_name_never_name_the_geheim_city(
    client, plan, headers, make_user, make_org, auth_headers
):
    owner = make_user(roles=("registrant",), org=make_org("Wijkteam Verborgen", kind="social_team"))
    hidden = plan_body(addresses=[{**SHELTER, "role": "residence"}], persons=[person(surname="Verborgen")])
    assert client.post(PLANS, json=hidden, headers=auth_headers(owner)).status_code == 201
    body, text = look_up(client, headers, person={"name": "Noor Verborgen"})
    assert [c["city"] for c in body["candidates"]] == [""]
    assert "Schuilplaats" not in text


def test_the_page_offers_toon_adres_and_asks_why(app, client, plan, responder, web_login):
    web_login(client, responder)
    page = client.get("/raadplegen")
    result = client.post(
        "/raadplegen",
        data={
            "incident_ref": "P-2026-1",
            "q": "9401 AB 14",
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    html = result.get_data(as_text=True)
    assert (
        "Geheim adres</strong> (opvangadres (veilig adres)) — nooit noemen via portofoon of aan de melder."
        in html
    )
    assert "Verscholenlaan" not in html
    lookup_id = html.split('name="lookup_id" value="', 1)[1].split('"', 1)[0]
    token = csrf_from(html)
    form = {"csrf_token": token, "lookup_id": lookup_id, "address_id": str(shelter_id(plan))}
    # without a reason: refused, saying so
    refused = client.post("/raadplegen/adres", data={**form, "reason": ""})
    assert refused.status_code == 422
    assert "Reden: Dit veld is verplicht." in refused.get_data(as_text=True)
    assert "Verscholenlaan" not in refused.get_data(as_text=True)
    # with one: shown, with the warning
    shown = client.post("/raadplegen/adres", data={**form, "reason": "Slachtoffer belt vanaf daar"})
    assert shown.status_code == 200
    assert "Verscholenlaan 7, 9999 XY Schuilplaats" in shown.get_data(as_text=True)
    assert "Nooit noemen via portofoon of aan de melder." in shown.get_data(as_text=True)
    assert [(outcome, detail["reason"]) for outcome, detail in reveals(app)] == [
        ("success", "Slachtoffer belt vanaf daar")
    ]
    assert json.dumps(reveals(app)).count("Verscholenlaan") == 0  # the log holds why, not where
