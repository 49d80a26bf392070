"""Cross-organisation isolation of the plans API, as Given/When/Then: a registrant of another
organisation learns nothing about a plan (404 everywhere, never 403, never data), changes
nothing, and leaves an audit row of the attempt."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from registry.core.db import db as database
from registry.core.models import AuditEntry, Organisation, User
from tests.conftest import csrf_from
from tests.registry.plan_data import API, PLAN_ENDPOINTS, plan_body, requests_on_plan, stored_rows

# what each refused attempt is logged as
AUDIT_ACTIONS = {
    "read": "plan_read",
    "update": "plan_update",
    "withdraw": "plan_withdraw",
    "list shares": "plan_shares",
    "share": "plan_share",
    "unshare": "plan_unshare",
}
# words of the plan that must never reach the stranger
SECRETS = ("Gezin Voorbeeld", "9401", "Testveen", "Testman", "Beschermer", "06-", "Tante")


@dataclass
class World:
    """Organisation A owns a plan shared with organisation C; B is a stranger to it."""

    plan: dict[str, Any]
    owner_headers: dict[str, str]
    stranger: User
    stranger_headers: dict[str, str]
    partner_name: str

    def attempts(self, plan_id: str | None = None) -> dict[str, tuple[str, str, Any]]:
        """Every endpoint, aimed by the stranger at the plan (or at `plan_id`): sharing it with
        their own organisation, and taking the partner's access away."""
        return requests_on_plan(
            plan_id or self.plan["id"],
            share_with=self.stranger.organisation.name,
            unshare=self.partner_name,
            version=self.plan["version"],
        )


@pytest.fixture
def world(client: FlaskClient, make_org: Any, make_user: Any, auth_headers: Any) -> World:
    owner_headers = auth_headers(make_user(roles=("registrant",), org=make_org(name="Jeugdbescherming A")))
    partner = make_org(name="Wijkteam C")
    response = client.post(API, json=plan_body(), headers=owner_headers)
    assert response.status_code == 201
    plan = response.get_json()
    plan.pop("warnings")
    shared = client.post(
        f"{API}/{plan['id']}/shares", json={"organisation": partner.name}, headers=owner_headers
    )
    assert shared.status_code == 201
    stranger = make_user(roles=("registrant",), org=make_org(name="Wijkteam B"))
    return World(plan, owner_headers, stranger, auth_headers(stranger), partner.name)


def organisation(app: Flask, name: str) -> Organisation:
    with app.app_context():
        return database.session.scalars(select(Organisation).where(Organisation.name == name)).one()


def plan_as_owner_sees_it(client: FlaskClient, world: World) -> dict[str, Any]:
    response = client.get(f"{API}/{world.plan['id']}", headers=world.owner_headers)
    assert response.status_code == 200
    return response.get_json()


def refusals(app: Flask, user: User, plan_id: str) -> list[AuditEntry]:
    with app.app_context():
        return list(
            database.session.scalars(
                select(AuditEntry).where(AuditEntry.user_id == user.id, AuditEntry.object_id == plan_id)
            )
        )


def assert_not_found_and_silent(response: Any) -> None:
    assert response.status_code == 404, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "not_found"
    assert body["error"]["fields"] == {}
    text = response.get_data(as_text=True)
    for secret in SECRETS:
        assert secret not in text


@pytest.mark.parametrize("endpoint", PLAN_ENDPOINTS)
def test_a_registrant_of_another_organisation_gets_404_and_changes_nothing(app, client, world, endpoint):
    # Given a plan of organisation A, shared with C, and a registrant of organisation B
    rows_before = stored_rows(app)
    shares_before = client.get(f"{API}/{world.plan['id']}/shares", headers=world.owner_headers).get_json()
    method, path, body = world.attempts()[endpoint]

    # When B's registrant aims the endpoint at A's plan
    response = client.open(path, method=method, json=body, headers=world.stranger_headers)

    # Then the answer is the plain 404 of a plan that does not exist: not 403, no data
    assert_not_found_and_silent(response)
    # and the attempt is in the audit log, refused
    (row,) = refusals(app, world.stranger, world.plan["id"])
    assert (row.action, row.outcome) == (AUDIT_ACTIONS[endpoint], "not_found")
    assert (row.organisation, row.role, row.object_type) == ("Wijkteam B", "registrant", "plan")
    assert row.remote_addr == "127.0.0.1"
    # and the plan, its versions and its shares are exactly as before
    assert stored_rows(app) == rows_before
    assert plan_as_owner_sees_it(client, world) == world.plan
    assert (
        client.get(f"{API}/{world.plan['id']}/shares", headers=world.owner_headers).get_json()
        == shares_before
    )
    # and the answer is the one for an id that belongs to no plan at all: existence does not leak
    method, path, body = world.attempts(str(uuid.uuid4()))[endpoint]
    missing = client.open(path, method=method, json=body, headers=world.stranger_headers)
    assert (response.status_code, response.get_json()) == (missing.status_code, missing.get_json())


def test_a_bad_or_stale_update_from_a_stranger_is_still_404(app, client, world):
    # Given A's plan
    bodies = {
        "bad field": {"title": 5},
        "empty body": {},
        "bad version": {**plan_body(), "version": "oud"},
        "stale version": {**plan_body(), "version": 99},
    }
    for name, body in bodies.items():
        # When B's registrant sends a PUT that would be refused for other reasons
        response = client.put(f"{API}/{world.plan['id']}", json=body, headers=world.stranger_headers)

        # Then it is 404, not the 422 or 409 that would show that the plan exists
        assert response.status_code == 404, name
        assert_not_found_and_silent(response)
    assert plan_as_owner_sees_it(client, world) == world.plan


def test_a_stranger_does_not_see_the_plan_in_any_list(app, client, world):
    # Given A's plan, and a plan of B's own
    own = client.post(API, json=plan_body(title="Gezin van B"), headers=world.stranger_headers)
    assert own.status_code == 201

    # When B's registrant lists plans, with and without a status filter
    for query in ("", "?status=active", "?status=withdrawn", "?status=expired"):
        response = client.get(f"{API}{query}", headers=world.stranger_headers)

        # Then only B's own plan is there, and nothing of A's
        assert response.status_code == 200
        ids = [item["id"] for item in response.get_json()["items"]]
        assert ids == ([own.get_json()["id"]] if query in ("", "?status=active") else [])
        assert world.plan["id"] not in response.get_data(as_text=True)
        assert "Gezin Voorbeeld" not in response.get_data(as_text=True)


def test_a_registrant_with_more_roles_is_still_a_stranger(app, client, world, make_user, auth_headers):
    # Given a user of B who is registrant, coordinator and auditor at once
    powerful = make_user(roles=("registrant", "coordinator", "auditor"), org=world.stranger.organisation)

    # When they try every endpoint on A's plan
    for method, path, body in world.attempts().values():
        response = client.open(path, method=method, json=body, headers=auth_headers(powerful))

        # Then each is 404
        assert_not_found_and_silent(response)
    assert len(refusals(app, powerful, world.plan["id"])) == len(PLAN_ENDPOINTS)
    assert plan_as_owner_sees_it(client, world) == world.plan


def test_sharing_with_one_organisation_opens_the_plan_to_that_one_only(
    app, client, world, make_user, auth_headers
):
    # Given C, with whom A shared the plan, and B, with whom nobody did
    partner = auth_headers(make_user(org=organisation(app, world.partner_name)))

    # When C reads the plan and B tries right after
    assert client.get(f"{API}/{world.plan['id']}", headers=partner).status_code == 200
    response = client.get(f"{API}/{world.plan['id']}", headers=world.stranger_headers)

    # Then C sees it and B still does not
    assert_not_found_and_silent(response)


# --- sharing is the owner's ---------------------------------------------------------------------


def shares_of(client: FlaskClient, world: World) -> list[str]:
    response = client.get(f"{API}/{world.plan['id']}/shares", headers=world.owner_headers)
    assert response.status_code == 200
    return sorted(item["organisation"] for item in response.get_json()["items"])


def test_an_organisation_the_plan_is_shared_with_neither_shares_it_onward_nor_ends_shares(
    app, client, world, make_org, make_user, auth_headers
):
    # Given A's plan, shared by A with C and with D, and a registrant of C
    shares = f"{API}/{world.plan['id']}/shares"
    other_partner = make_org(name="Jeugdbescherming D")
    added = client.post(shares, json={"organisation": other_partner.name}, headers=world.owner_headers)
    assert added.status_code == 201
    partner = make_user(roles=("registrant",), org=organisation(app, world.partner_name))
    partner_headers = auth_headers(partner)
    before = shares_of(client, world)
    attempts = {
        "share onward with B": ("POST", shares, {"organisation": "Wijkteam B"}),
        "share with an unknown organisation": ("POST", shares, {"organisation": "Bestaat Niet"}),
        "end A's share with D": ("DELETE", f"{shares}/{other_partner.name}", None),
        "end its own share": ("DELETE", f"{shares}/{world.partner_name}", None),
        "end a share that does not exist": ("DELETE", f"{shares}/Wijkteam B", None),
    }

    for why, (method, path, body) in attempts.items():
        # When C's registrant tries it
        response = client.open(path, method=method, json=body, headers=partner_headers)

        # Then it is 403 in the contract's error body, saying in Dutch that sharing is the owner's
        assert response.status_code == 403, (why, response.get_data(as_text=True))
        error = response.get_json()["error"]
        assert (error["code"], error["fields"]) == ("forbidden", {}), why
        assert "Alleen de regiehouder" in error["message"], why

    # and the shares are what A made them, each attempt is in the audit log as refused
    assert shares_of(client, world) == before == sorted([world.partner_name, other_partner.name])
    assert [(row.action, row.outcome) for row in refusals(app, partner, world.plan["id"])] == [
        ("plan_share", "refused"),
        ("plan_share", "refused"),
        ("plan_unshare", "refused"),
        ("plan_unshare", "refused"),
        ("plan_unshare", "refused"),
    ]
    # and C still reads the plan, and A still shares and ends shares
    assert client.get(f"{API}/{world.plan['id']}", headers=partner_headers).status_code == 200
    ended = client.delete(f"{shares}/{other_partner.name}", headers=world.owner_headers)
    assert ended.status_code == 204
    assert shares_of(client, world) == [world.partner_name]


def test_the_plan_page_offers_sharing_to_the_owner_only(app, client, world, make_user, web_login):
    # Given a registrant of A, the owner, and one of C, with whom A shared the plan
    page_path = f"/plans/{world.plan['id']}"
    share_action = f'action="{page_path}/share"'
    partner_org = organisation(app, world.partner_name)
    owner = make_user(roles=("registrant",), org=organisation(app, "Jeugdbescherming A"))
    partner = make_user(roles=("registrant",), org=partner_org)
    owner_browser, partner_browser = app.test_client(), app.test_client()
    web_login(owner_browser, owner)
    web_login(partner_browser, partner)

    # When each opens the plan's page
    owners_page = owner_browser.get(page_path).get_data(as_text=True)
    partners_page = partner_browser.get(page_path)

    # Then the owner is offered to share and to end the share, and C neither, though C sees with whom
    assert share_action in owners_page
    assert f"{page_path}/unshare/" in owners_page
    text = partners_page.get_data(as_text=True)
    assert partners_page.status_code == 200
    assert share_action not in text
    assert f"{page_path}/unshare/" not in text
    assert world.partner_name in text
    assert "Delen en het delen beëindigen doet de regiehouder" in text

    # When C sends the share and unshare forms anyway
    token = csrf_from(text)
    stranger = organisation(app, "Wijkteam B")
    shared = partner_browser.post(
        f"{page_path}/share", data={"organisation_id": stranger.id, "csrf_token": token}
    )
    ended = partner_browser.post(f"{page_path}/unshare/{partner_org.id}", data={"csrf_token": token})

    # Then both are refused with the reason in Dutch, nothing changed, and both are logged as refused
    for response in (shared, ended):
        assert response.status_code == 403
        assert "Alleen de regiehouder" in response.get_data(as_text=True)
    assert [
        (row.action, row.outcome)
        for row in refusals(app, partner, world.plan["id"])
        if row.outcome != "success"
    ] == [("plan_share", "refused"), ("plan_unshare", "refused")]
    assert shares_of(client, world) == [world.partner_name]
