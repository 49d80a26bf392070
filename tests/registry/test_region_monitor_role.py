"""Who may hold the region's monitoring (role `region_monitor`, the taakgroep), as
Given/When/Then: a person of any organisation in a region; granted by an administrator through
the command line (audited) or by a coordinator on the accounts page; never outside a region."""

from __future__ import annotations

import html
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from registry.core.models import Organisation, User
from tests.conftest import PASSWORD, csrf_from
from tests.registry.test_lookup_role import audit_rows, cli, stored_roles

ROLE = "region_monitor"


def test_the_cli_refuses_the_role_outside_a_region(
    app: Flask, make_org: Callable[..., Organisation], make_user: Callable[..., User]
) -> None:
    # Given an organisation in no region, with a colleague
    organisation = make_org("Wijkteam Nergens", region=None)
    colleague = make_user(roles=("registrant",), org=organisation)

    # When an administrator adds an account with the taakgroep role there, or grants it
    args = ("taakgroep", "--org", organisation.name, "--role", ROLE, "--password-stdin")
    added = cli(app, "user", "add", *args, stdin=PASSWORD + "\n")
    granted = cli(app, "user", "role", colleague.username, "--add", ROLE)

    # Then both are refused with a message that says why, and nothing is stored
    for result in (added, granted):
        assert result.exit_code != 0
        assert "hoort alleen bij een organisatie in een regio" in result.output
        assert "Wijkteam Nergens hoort bij geen regio" in result.output
    assert stored_roles(app, "taakgroep") is None
    assert stored_roles(app, colleague.username) == {"registrant"}
    # and both attempts are in the audit log, refused
    assert [(row.outcome, row.object_id) for row in audit_rows(app, "user_create")] == [
        ("refused", "taakgroep")
    ]
    assert [(row.outcome, row.detail["roles"]) for row in audit_rows(app, "user_role_grant")] == [
        ("refused", [ROLE])
    ]


def test_an_administrator_grants_the_role_in_a_region_by_cli(
    app: Flask, make_org: Callable[..., Organisation], make_user: Callable[..., User]
) -> None:
    # Given a gemeente's employee in region Noord (any kind of organisation may take part)
    organisation = make_org("Gemeente Noordstad", kind="other", region="Noord")
    colleague = make_user(roles=("registrant",), org=organisation)

    # When an administrator grants the taakgroep role
    result = cli(app, "user", "role", colleague.username, "--add", ROLE)

    # Then it is stored and audited
    assert result.exit_code == 0, result.output
    assert stored_roles(app, colleague.username) == {"registrant", ROLE}
    (granted,) = audit_rows(app, "user_role_grant")
    assert (granted.outcome, granted.username, granted.detail) == ("success", "cli", {"role": ROLE})


def test_a_coordinator_grants_the_role_on_the_accounts_page(
    app: Flask,
    make_org: Callable[..., Organisation],
    make_user: Callable[..., User],
    web_login: Callable[[FlaskClient, User], object],
) -> None:
    # Given a coordinator of a wijkteam in region Noord, on the accounts page
    coordinator = make_user(roles=("coordinator",), org=make_org("Wijkteam Noord", region="Noord"))
    browser = app.test_client()
    web_login(browser, coordinator)
    text = browser.get("/accounts").get_data(as_text=True)

    # Then the form offers the taakgroep role, saying what it gives
    assert f'value="{ROLE}"' in text
    assert "Taakgroep (regionale monitoring)" in html.unescape(text)

    # When the coordinator makes a colleague's account with it
    response = browser.post(
        "/accounts",
        data={"username": "taakgroep.noord", "display_name": "Lid Taakgroep", "email": "",
              "roles": [ROLE], "csrf_token": csrf_from(text)},
    )  # fmt: skip

    # Then the account holds it, and the grant is audited
    assert response.status_code == 201
    assert stored_roles(app, "taakgroep.noord") == {ROLE}
    (created,) = audit_rows(app, "user_create")
    assert (created.outcome, created.user_id) == ("success", coordinator.id)


def test_a_coordinator_outside_a_region_is_not_offered_the_role(
    app: Flask,
    make_org: Callable[..., Organisation],
    make_user: Callable[..., User],
    web_login: Callable[[FlaskClient, User], object],
) -> None:
    # Given a coordinator of an organisation in no region
    coordinator = make_user(roles=("coordinator",), org=make_org("Wijkteam Nergens", region=None))
    browser = app.test_client()
    web_login(browser, coordinator)
    text = browser.get("/accounts").get_data(as_text=True)

    # Then the form does not offer the taakgroep role
    assert f'value="{ROLE}"' not in text
    assert 'value="registrant"' in text

    # When they send it anyway
    response = browser.post(
        "/accounts",
        data={"username": "taakgroep.nergens", "display_name": "Lid", "email": "",
              "roles": ["registrant", ROLE], "csrf_token": csrf_from(text)},
    )  # fmt: skip

    # Then it is refused next to the roles, no account is made, and the attempt is logged
    assert response.status_code == 422
    assert "Kies rollen uit de lijst." in html.unescape(response.get_data(as_text=True))
    assert stored_roles(app, "taakgroep.nergens") is None
    (refused,) = audit_rows(app, "user_create")
    assert (refused.outcome, refused.detail) == ("refused", {"roles": [ROLE, "registrant"]})
