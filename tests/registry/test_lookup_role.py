"""Who may look up, as Given/When/Then: the lookup role (`responder`) belongs to police, CIT and
Veilig Thuis only; an administrator grants it through the command line (audited), never a
coordinator on the accounts page; and a stored `responder` row of anyone else opens nothing."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from registry.core.db import db as database
from registry.core.models import AuditEntry, Lookup, Organisation, User, UserRole
from tests.conftest import PASSWORD, csrf_from

LOOKUPS = "/api/v1/lookups"
A_LOOKUP = {"incident_ref": "P-2026-0001", "address": {"postcode": "9401 AB", "house_number": 14}}
NOT_RESPONDERS = ("social_team", "youth_protection", "other")


def audit_rows(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(
            database.session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


def stored_roles(app: Flask, username: str) -> set[str] | None:
    """The user's role rows, or None when there is no such user."""
    with app.app_context():
        user = database.session.scalars(select(User).where(User.username == username)).first()
        return None if user is None else set(user.roles)


def lookup_count(app: Flask) -> int:
    with app.app_context():
        return database.session.scalar(select(func.count()).select_from(Lookup)) or 0


def cli(app: Flask, *args: str, stdin: str | None = None) -> Any:
    """`samenop ARGS...`, as an administrator types it."""
    return app.test_cli_runner().invoke(args=list(args), input=stdin)


def give_stored_role(app: Flask, user: User, role: str) -> None:
    """A role row written straight into the database, past every rule: old data."""
    with app.app_context():
        database.session.add(UserRole(user_id=user.id, role=role))
        database.commit()


# --- the accounts page ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["social_team", "police"])
def test_a_coordinator_can_neither_offer_nor_grant_the_lookup_role(
    app: Flask,
    make_org: Callable[..., Organisation],
    make_user: Callable[..., User],
    web_login: Callable[[FlaskClient, User], Any],
    kind: str,
) -> None:
    # Given a coordinator on the accounts page (of a social team, and even of a control room)
    coordinator = make_user(roles=("coordinator",), org=make_org(f"Organisatie {kind}", kind=kind))
    browser = app.test_client()
    web_login(browser, coordinator)
    page = browser.get("/accounts")
    assert page.status_code == 200

    # Then the form does not offer the lookup role
    text = page.get_data(as_text=True)
    assert 'value="responder"' not in text
    assert 'value="registrant"' in text

    # When the coordinator sends it anyway, for a new colleague
    response = browser.post(
        "/accounts",
        data={
            "username": "nieuwe.zoeker",
            "display_name": "Nieuwe Zoeker",
            "email": "",
            "roles": ["registrant", "responder"],
            "csrf_token": csrf_from(text),
        },
    )

    # Then it is refused in Dutch next to the roles, no account is made, and the attempt is logged
    assert response.status_code == 422
    shown = html.unescape(response.get_data(as_text=True))
    assert "kent alleen een beheerder toe" in shown
    assert "activeringslink" not in shown
    assert stored_roles(app, "nieuwe.zoeker") is None
    (refused,) = audit_rows(app, "user_create")
    assert (refused.outcome, refused.user_id, refused.object_id) == (
        "refused",
        coordinator.id,
        "nieuwe.zoeker",
    )
    assert refused.detail == {"roles": ["registrant", "responder"]}


# --- the command line -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", NOT_RESPONDERS)
def test_the_cli_refuses_the_lookup_role_outside_a_responder_organisation(
    app: Flask, make_org: Callable[..., Organisation], make_user: Callable[..., User], kind: str
) -> None:
    # Given an organisation that is no control room, crisis team or Veilig Thuis, with a colleague
    organisation = make_org(f"Team {kind}", kind=kind)
    colleague = make_user(roles=("registrant",), org=organisation)

    # When an administrator adds an account with the lookup role there
    args = ["zoeker", "--org", organisation.name, "--role", "responder", "--password-stdin"]
    added = cli(app, "user", "add", *args, stdin=PASSWORD + "\n")
    # or grants the lookup role to the colleague
    granted = cli(app, "user", "role", colleague.username, "--add", "responder")

    # Then both are refused with the reason, and nothing is stored
    for result in (added, granted):
        assert result.exit_code != 0
        assert "alleen bij politie, CIT of Veilig Thuis" in result.output
        assert f"{organisation.name} is van het soort {kind}" in result.output
    assert stored_roles(app, "zoeker") is None
    assert stored_roles(app, colleague.username) == {"registrant"}
    # and both attempts are in the audit log, refused
    assert [(row.outcome, row.object_id) for row in audit_rows(app, "user_create")] == [("refused", "zoeker")]
    assert [(row.outcome, row.object_id) for row in audit_rows(app, "user_role_grant")] == [
        ("refused", colleague.username)
    ]


def test_an_administrator_grants_and_takes_away_the_lookup_role_by_cli(
    app: Flask,
    client: FlaskClient,
    make_org: Callable[..., Organisation],
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    # Given a police employee without the lookup role, signed in to the API
    officer = make_user(roles=("registrant",), org=make_org("Meldkamer Oost", kind="police"))
    headers = auth_headers(officer)
    assert client.post(LOOKUPS, json=A_LOOKUP, headers=headers).status_code == 403

    # When an administrator grants the lookup role
    granted = cli(app, "user", "role", officer.username, "--add", "responder")

    # Then the officer looks up from the next request on, and the grant is in the audit log
    assert granted.exit_code == 0, granted.output
    assert "registrant, responder" in granted.output
    assert client.post(LOOKUPS, json=A_LOOKUP, headers=headers).status_code == 200
    (grant,) = audit_rows(app, "user_role_grant")
    assert (grant.outcome, grant.username, grant.object_id) == ("success", "cli", str(officer.id))
    assert grant.detail == {"role": "responder"}

    # When the administrator takes it away again
    revoked = cli(app, "user", "role", officer.username, "--remove", "responder")

    # Then the next lookup is refused, and that is in the audit log too
    assert revoked.exit_code == 0, revoked.output
    assert client.post(LOOKUPS, json=A_LOOKUP, headers=headers).status_code == 403
    assert stored_roles(app, officer.username) == {"registrant"}
    (revoke,) = audit_rows(app, "user_role_revoke")
    assert (revoke.outcome, revoke.object_id, revoke.detail) == (
        "success",
        str(officer.id),
        {"role": "responder"},
    )


def test_user_add_with_the_lookup_role_in_a_control_room_is_audited_with_its_roles(
    app: Flask, make_org: Callable[..., Organisation]
) -> None:
    # Given a control room
    make_org("Meldkamer Noord", kind="police")

    # When an administrator adds an account with the lookup role
    args = ["meldkamer1", "--org", "Meldkamer Noord", "--role", "responder", "--password-stdin"]
    result = cli(app, "user", "add", *args, stdin=PASSWORD + "\n")

    # Then it is made, and the audit row says which roles were given
    assert result.exit_code == 0, result.output
    assert stored_roles(app, "meldkamer1") == {"responder"}
    (created,) = audit_rows(app, "user_create")
    assert (created.outcome, created.detail) == ("success", {"roles": ["responder"]})


# --- old data: defence in depth ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", NOT_RESPONDERS)
def test_a_stored_lookup_role_outside_a_responder_organisation_opens_nothing(
    app: Flask,
    client: FlaskClient,
    make_org: Callable[..., Organisation],
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
    web_login: Callable[[FlaskClient, User], Any],
    kind: str,
) -> None:
    # Given a registrant of a social team (or youth protection, or another organisation) who has a
    # `responder` row in user_roles, from before the rule or written around it
    user = make_user(roles=("registrant",), org=make_org(f"Team {kind}", kind=kind))
    headers = auth_headers(user)  # before the row: the factory's merge would take it away again
    give_stored_role(app, user, "responder")
    assert stored_roles(app, user.username) == {"registrant", "responder"}

    # When they look up through the API, or file a report
    lookup = client.post(LOOKUPS, json=A_LOOKUP, headers=headers)
    report = client.post("/api/v1/reports", json={}, headers=headers)

    # Then both are refused as for anyone without the role, and no lookup is stored
    for response in (lookup, report):
        assert response.status_code == 403, response.get_data(as_text=True)
        assert response.get_json()["error"]["code"] == "forbidden"
    assert lookup_count(app) == 0

    # When they open the lookup page in the browser
    browser = app.test_client()
    web_login(browser, user)
    page = browser.get("/raadplegen")
    home = browser.get("/").get_data(as_text=True)
    searched = browser.post(
        "/raadplegen", data={"incident_ref": "P-2026-0001", "q": "9401AB 14", "csrf_token": csrf_from(home)}
    )

    # Then it is refused too, and the menu does not offer it
    assert page.status_code == 403
    assert searched.status_code == 403
    assert lookup_count(app) == 0
    assert "Raadplegen (meldkamer)" not in home
    assert stored_roles(app, user.username) == {"registrant", "responder"}


@pytest.mark.parametrize("kind", ["police", "cit", "veilig_thuis"])
def test_the_responder_organisations_keep_looking_up(
    client: FlaskClient,
    make_org: Callable[..., Organisation],
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
    kind: str,
) -> None:
    # Given a responder of a control room, a crisis team or Veilig Thuis
    responder = make_user(roles=("responder",), org=make_org(f"Team {kind}", kind=kind))

    # When they look up, Then they are answered
    assert client.post(LOOKUPS, json=A_LOOKUP, headers=auth_headers(responder)).status_code == 200
