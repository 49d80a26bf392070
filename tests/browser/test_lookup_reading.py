"""The lookup page says how it read the search field and reads it the other way on one key, and
says what each plan was found on: through a person who must not be informed, in black. Real
chromium, desktop (1366×800) and phone (390×844), screenshots kept as artefacts."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.family import create_plan, introduce
from tests.registry.plan_data import address, person

INCIDENT = "P-2026-0412"
SEARCH = "Adres, naam of telefoonnummer"


def press_access_key(page: Page, key: str) -> None:
    """Alt + the key, as chromium's keyboard sends it on Linux: the key down, its character and
    the key up, each with Alt held. (Playwright's keyboard.press sends no character with Alt, and
    chromium fires an accesskey on the character.)"""
    cdp = page.context.new_cdp_session(page)
    number = ord(key.upper())
    code = {
        "key": key,
        "code": f"Key{key.upper()}",
        "windowsVirtualKeyCode": number,
        "nativeVirtualKeyCode": number,
    }
    cdp.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", "modifiers": 1, **code})
    cdp.send(
        "Input.dispatchKeyEvent",
        {"type": "char", "modifiers": 1, "key": key, "text": key, "unmodifiedText": key},
    )
    cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", "modifiers": 1, **code})
    cdp.detach()


@pytest.mark.parametrize(("width", "height"), [(1366, 800), (390, 844)])
def test_kaya_1988_is_read_as_a_name_and_one_key_reads_it_as_an_address(
    app, client, page: Page, live_server, make_org, make_user, auth_headers, browser_login, artifacts,
    width, height,
):  # fmt: skip
    # Given a plan in which Murat Kaya (born 1988) is the perpetrator who must not be informed
    registrant = make_user(roles=("registrant",), org=make_org("Wijkteam Oost"))
    create_plan(
        client,
        auth_headers(registrant),
        title="Gezin Kaya",
        addresses=[address(street="Lindenlaan", city="Assen")],
        persons=[
            person(first_name="Sanne", surname_prefix="", surname="Bos", birth_date="1992-03-04", phone=None),
            person(first_name="Murat", surname_prefix="", surname="Kaya", birth_date="1988-07-15",
                   role="perpetrator", phone="06-11223344", do_not_inform=True),
        ],
    )  # fmt: skip
    # And an operator of the control room, logged in, on a screen of this size
    responder = make_user(roles=("responder",), org=make_org("Meldkamer Politie Noord", kind="police"))
    introduce(app, responder, "Agent Meldkamer")
    page.set_viewport_size({"width": width, "height": height})
    browser_login(page, live_server, responder)
    page.goto("/raadplegen")
    page.get_by_label("Meldingnummer").fill(INCIDENT)

    # When they type "Kaya 1988" and press Enter
    field = page.get_by_label(SEARCH)
    field.fill("Kaya 1988")
    field.press("Enter")

    # Then the page says it read a name and a year of birth, above the result
    reading = page.locator("#reading")
    expect(reading).to_contain_text("Gelezen als naam Kaya, geboren in 1988.")
    expect(page.locator("#candidate-1")).to_contain_text("Murat Kaya")
    reading_box, result_box = reading.bounding_box(), page.locator("#resultaat").bounding_box()
    assert reading_box is not None
    assert result_box is not None
    assert reading_box["y"] < result_box["y"], "how it was read comes above the result"
    page.screenshot(path=artifacts / f"lookup-reading-name-{width}.png", full_page=True)

    # When they press the one key that reads it the other way (Alt+A: "Lees als adres")
    press_access_key(page, "a")

    # Then it is read as an address, and no family is found there
    expect(page.locator("#reading")).to_contain_text("Gelezen als adres: straat Kaya, huisnummer 1988.")
    expect(page.locator("#resultaat")).to_contain_text("Geen handelingskader gevonden")
    expect(page.get_by_role("button", name="Lees als naam")).to_be_visible()

    # When a silent call comes from Murat's number
    field = page.get_by_label(SEARCH)
    field.fill("06-11223344")
    field.press("Enter")

    # Then the plan says it was found on the phone of the perpetrator, who must not be informed
    found = page.locator("#matched-on-1")
    expect(found).to_have_text("Gevonden op telefoon van Murat Kaya — pleger — NIET INFORMEREN")
    expect(found).to_have_class("matched-on matched-on-dni")
    assert found.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(0, 0, 0)"
    assert found.is_visible()
    box = found.bounding_box()
    assert box is not None
    assert box["y"] >= 0, "what it was found on is not scrolled away"
    assert box["y"] + box["height"] <= height, "what it was found on is on the first screen"
    page.screenshot(path=artifacts / f"lookup-matched-on-{width}.png", full_page=False)
