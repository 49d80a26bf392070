"""The answer first: after Enter, what an operator with a caller on the line needs is on the first
screen, without scrolling. On a phone (390×844) the match, the risk strip, the niet-informeren
strip and the first agreement; on a desktop (1366×800) the summary for the control room, then the
agreements, the numbers to call and "Inzet registreren". Real chromium; screenshots kept as
artefacts."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.family import create_plan, introduce

INCIDENT = "P-2026-0412"
SEARCH = "Adres, naam of telefoonnummer"
SUMMARY = (
    "Vader heeft een vuurwapenverleden en dreigt bij een scheiding. Kinderen (4 en 7) slapen "
    "boven; moeder belt vaak stil. Ga met twee eenheden."
)


def on_first_screen(locator: Locator, height: int) -> dict[str, float]:
    """The element's box, asserted to lie wholly within the viewport (0..height)."""
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box is not None
    assert box["y"] >= 0, f"{locator} is above the screen: {box}"
    assert box["y"] + box["height"] <= height, f"{locator} is below the first screen: {box}"
    return box


@pytest.mark.parametrize(("width", "height"), [(1366, 800), (390, 844)])
def test_after_enter_the_answer_is_on_the_first_screen(
    app, client, page: Page, live_server, make_org, make_user, auth_headers, browser_login, artifacts,
    width, height,
):  # fmt: skip
    # Given a wijkteam's plan with a summary for the control room, weapons and a threat to kill,
    # a father who must not be informed and three agreements
    registrant = make_user(roles=("registrant",), org=make_org("Wijkteam Oost"))
    create_plan(client, auth_headers(registrant), title="Gezin Testveen", summary=SUMMARY)
    # And an operator of the control room on a screen of this size
    operator = make_user(roles=("responder",), org=make_org("Meldkamer Politie Noord", kind="police"))
    introduce(app, operator, "Agent Meldkamer")
    page.set_viewport_size({"width": width, "height": height})
    browser_login(page, live_server, operator)
    page.goto("/raadplegen")

    # When they type the incident number and the address and press Enter
    page.get_by_label("Meldingnummer").fill(INCIDENT)
    field = page.get_by_label(SEARCH)
    field.fill("9401AB 14")
    field.press("Enter")
    expect(page.locator("#resultaat")).to_contain_text("1 handelingskader gevonden")
    result = page.locator("article.plan-result")
    page.wait_for_function("document.readyState === 'complete'")

    # Then the match, how it was read and what it was found on, the risk strip, the niet-informeren
    # strip and the first agreement are on the first screen, in that order
    head = on_first_screen(result.locator(".result-head"), height)
    on_first_screen(page.locator("#reading"), height)
    on_first_screen(result.locator("#matched-on-1"), height)
    risk = on_first_screen(result.locator(".risk-strip"), height)
    dni = on_first_screen(result.locator(".dni-strip"), height)
    agreements = result.locator("ol.agreements-list > li")
    expect(agreements).to_have_count(3)
    first = on_first_screen(agreements.first, height)
    assert head["y"] < risk["y"] <= dni["y"] < first["y"]
    page.screenshot(path=artifacts / f"lookup-answer-first-{width}.png", full_page=False)

    if width > 800:
        # And on a desktop the search form stays in view, and the summary for the control room
        # comes before the agreements, the numbers to call and "Inzet registreren", all on the
        # first screen
        on_first_screen(page.get_by_label("Meldingnummer"), height)
        on_first_screen(field, height)
        summary = on_first_screen(result.locator("#summary-1"), height)
        expect(result.locator("#summary-1")).to_contain_text(f"Samenvatting voor de meldkamer: {SUMMARY}")
        for index in range(3):
            on_first_screen(agreements.nth(index), height)
        contacts = result.locator("ul.contacts > li")
        expect(contacts).to_have_count(2)
        boxes = [on_first_screen(contacts.nth(index), height) for index in range(2)]
        owner = on_first_screen(result.locator(".owner"), height)
        register = on_first_screen(result.get_by_role("link", name="Inzet registreren"), height)
        assert summary["y"] + summary["height"] <= first["y"], "the summary before the agreements"
        assert summary["y"] + summary["height"] <= boxes[0]["y"], "the summary before the contacts"
        assert boxes[1]["y"] < owner["y"] < register["y"]
    else:
        # And on a phone the summary follows the strips, the rest below
        expect(result.locator("#summary-1")).to_be_visible()
        expect(result.get_by_role("link", name="Inzet registreren")).to_be_attached()
