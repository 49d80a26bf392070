"""The control room's lookup page in the real browser: keyboard only, one search field that
understands an address, a street with a typo, a name with a birth date or a phone number."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.browser.family import create_plan, introduce
from tests.registry.plan_data import person

INCIDENT = "P-2026-0412"
SEARCH = "Adres, naam of telefoonnummer"
# the family of plan_body at 9401 AB 14, Verzonnenstraat, Testdorp
TITLE = "Gezin Testveen"
# an element's font size as a multiple of the body text's
RELATIVE_SIZE = (
    "el => parseFloat(getComputedStyle(el).fontSize) / parseFloat(getComputedStyle(document.body).fontSize)"
)


def search(page: Page, text: str) -> Locator:
    """A next search for the same incident: the search field, new text, Enter. -> the results."""
    field = page.get_by_label(SEARCH)
    field.fill(text)
    field.press("Enter")
    return page.locator("#resultaat")


def expect_found(page: Page, heading: Locator, on: str, quality: str) -> None:
    expect(heading).to_contain_text(f"1 handelingskader gevonden op {on} · melding {INCIDENT}")
    result = page.locator("article.plan-result")
    expect(result).to_have_count(1)
    expect(result.get_by_role("heading", level=3)).to_have_text(TITLE)
    expect(result.locator(".quality")).to_have_text(quality)


def test_control_room_finds_the_plan_by_keyboard_in_every_way(
    app, client, page, live_server, make_org, make_user, auth_headers, browser_login, artifacts
):
    # Given a wijkteam's plan: weapons and a threat to kill, a father who must not be informed
    wijkteam = make_org("Wijkteam Oost")
    registrant = make_user(roles=("registrant",), org=wijkteam)
    plan = create_plan(
        client,
        auth_headers(registrant),
        title=TITLE,
        persons=[
            person(first_name="Noë", birth_date="1990-01-02", phone="06-12345678"),
            person(first_name="Sam", surname_prefix="", surname="Testman", birth_date="1988-07-15",
                   role="perpetrator", phone="06-11223344", do_not_inform=True),
        ],
    )  # fmt: skip
    # And an operator of the police control room, logged in
    responder = make_user(roles=("responder",), org=make_org("Meldkamer Politie Noord", kind="police"))
    introduce(app, responder, "Agent Meldkamer")
    browser_login(page, live_server, responder)

    # When they open the lookup page
    page.goto("/raadplegen")
    expect(page.get_by_role("heading", level=1)).to_have_text("Raadplegen (meldkamer)")

    # Then the cursor waits in the incident number field
    expect(page.get_by_label("Meldingnummer")).to_be_focused()

    # When they type the incident number, tab to the search field, type the address and press Enter
    page.keyboard.type(INCIDENT)
    page.keyboard.press("Tab")
    expect(page.get_by_label(SEARCH)).to_be_focused()
    page.keyboard.type("9401AB 14")
    page.keyboard.press("Enter")

    # Then the plan is found on its exact address
    heading = page.locator("#resultaat")
    expect_found(page, heading, "postcode en huisnummer", "Precies gevonden · op adres")
    result = page.locator("article.plan-result")

    # And the risk signals and the do-not-inform warning come before the agreements, unmistakably
    alerts = result.get_by_role("alert")
    expect(alerts).to_have_text(
        [
            re.compile(r"^Risicosignalen:\s*Wapenbezit\s*Doodsbedreiging$"),
            "Niet informeren: Sam Testman (pleger; waarom: Zoekt het gezin.) — deze persoon mag niet van "
            "het handelingskader weten.",
        ]
    )
    expect(result.locator("li.dni")).to_contain_text("Sam Testman")
    expect(result.locator("li.dni .dni-label")).to_have_text("NIET INFORMEREN")
    agreements = result.locator("ol.agreements-list > li .what")
    expect(agreements).to_have_text([agreement["action"] for agreement in plan["agreements"]])
    first_alert, first_agreement = alerts.first.bounding_box(), agreements.first.bounding_box()
    assert first_alert is not None
    assert first_agreement is not None
    assert first_alert["y"] < first_agreement["y"], "the warnings are read first"

    # And the numbers to call are large: both contacts and the plan's owner
    phones = result.locator(".phone-big")
    expect(phones).to_have_text(["06-87654321", "088-7654321", "088-1234567"])
    for index in range(3):
        assert phones.nth(index).evaluate(RELATIVE_SIZE) >= 1.4, "phone numbers must be readable at a glance"
    expect(result.get_by_role("link", name="Inzet registreren")).to_be_visible()
    page.screenshot(path=artifacts / "lookup-result.png", full_page=True)

    # When they search the street and town as a caller says it, with a typo
    heading = search(page, "Verzonenstraat 14 Testdrop")
    # Then the plan is found, marked as a likely (not exact) match
    expect_found(page, heading, "adres", re.compile(r"^\s*Lijkt op de zoekvraag \(\d+%\)\s+· op adres\s*$"))

    # When they search a name without the diacritic, with the birth date
    heading = search(page, "Noe van der Testveen 02-01-1990")
    expect_found(page, heading, "persoon", re.compile(r"· op persoon\s*$"))

    # When they search the number a silent call came from
    heading = search(page, "+31 6 1234 5678")
    expect_found(page, heading, "telefoonnummer", re.compile(r"· op persoon\s*$"))

    # When they search the neighbours' address, which has no plan
    heading = search(page, "9401 AB 16")

    # Then the page says so plainly, and what to do
    expect(heading).to_contain_text("Geen handelingskader gevonden")
    expect(page.locator("article.plan-result")).to_have_count(0)
    expect(page.locator(".results")).to_contain_text("handel volgens de gewone werkwijze")
