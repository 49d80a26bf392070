"""The operator at 3 a.m. who took a long call: the search typed after the idle timeout is not
lost; password and code in place, and the answer comes. Desktop (1366×800) and phone (390×844),
screenshots kept as artefacts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from registry.core.db import db as database
from registry.core.models import WebSession
from tests.browser.family import create_plan, introduce

INCIDENT = "P-2026-0412"
SEARCH = "Adres, naam of telefoonnummer"


def lapse_every_session(app) -> None:
    """As if 31 minutes passed without a click: the idle clock of every web session moved back."""
    with app.app_context():
        long_ago = datetime.now(UTC) - timedelta(minutes=31)
        database.session.execute(update(WebSession).values(last_seen_at=long_ago))
        database.commit()


@pytest.mark.parametrize(("width", "height"), [(1366, 800), (390, 844)])
def test_a_search_typed_after_the_idle_timeout_is_answered_after_password_and_code(
    app, client, page, live_server, make_org, make_user, auth_headers, browser_login, code_for, artifacts,
    width, height,
):  # fmt: skip
    # Given a wijkteam's plan at 9401 AB 14
    registrant = make_user(roles=("registrant",), org=make_org("Wijkteam Oost"))
    create_plan(client, auth_headers(registrant), title="Gezin Testveen")
    # And an operator who logs in: they land on the lookup page, the cursor in the first field
    operator = make_user(roles=("responder",), org=make_org("Meldkamer Politie Noord", kind="police"))
    introduce(app, operator, "Agent Meldkamer")
    page.set_viewport_size({"width": width, "height": height})
    browser_login(page, live_server, operator)
    expect(page).to_have_url(f"{live_server.url}/raadplegen")
    expect(page.get_by_label("Meldingnummer")).to_be_focused()

    # When they type the incident and the address, but their session lapsed during the call
    page.keyboard.type(INCIDENT)
    page.keyboard.press("Tab")
    page.keyboard.type("9401AB 14")
    lapse_every_session(app)
    page.keyboard.press("Enter")

    # Then they are asked for password and code in place, told that nothing is lost
    expect(page.get_by_role("heading", level=1)).to_have_text("Opnieuw inloggen")
    expect(page.locator("#opnieuw-inloggen")).to_contain_text("Wat u verstuurde is niet verloren")
    expect(page.get_by_label("Gebruikersnaam")).to_be_focused()
    page.screenshot(path=artifacts / f"login-again-{width}.png", full_page=True)

    # When they log in there, by keyboard
    page.keyboard.type(operator.username)
    page.keyboard.press("Tab")
    page.keyboard.type(operator.password)
    page.keyboard.press("Tab")
    page.keyboard.type(code_for(operator))
    page.keyboard.press("Enter")

    # Then the search they typed is answered without typing it again
    expect(page).to_have_url(f"{live_server.url}/raadplegen")
    expect(page.locator("#resultaat")).to_contain_text(
        f"1 handelingskader gevonden op postcode en huisnummer · melding {INCIDENT}"
    )
    expect(page.locator("article.plan-result h3")).to_have_text("Gezin Testveen")
    expect(page.get_by_label("Meldingnummer")).to_have_value(INCIDENT)
    expect(page.get_by_label(SEARCH)).to_have_value("9401AB 14")
    page.screenshot(path=artifacts / f"login-again-answered-{width}.png", full_page=True)
