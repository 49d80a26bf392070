"""A call about a family nobody has a handelingskader for, in the real browser: the control room
finds nothing, registers the melding from the lookup page by keyboard, and it reaches the region's
Veilig Thuis and its Monitoring (issue 16)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from registry.core.db import db as database
from registry.regions import operations as regions
from tests.browser.family import introduce

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
INCIDENT = "P-2026-1207"
NARRATIVE = "Buren belden om 02.10; ter plaatse rustig. Moeder en twee kinderen, vader vertrokken."


def test_no_match_then_melding_registreren_reaches_veilig_thuis_and_monitoring(
    app, page, new_page, live_server, make_org, make_user, browser_login, artifacts
):
    # Given a control room and a Veilig Thuis in region Noord, which names that VT
    control_room = make_org("Meldkamer Politie Noord", kind="police", region="Noord")
    veilig_thuis = make_org("Veilig Thuis Noord", kind="veilig_thuis", region="Noord")
    with app.app_context():
        regions.set_veilig_thuis(
            database.session, regions.find_or_add(database.session, "Noord"), veilig_thuis.name
        )
        database.commit()
    operator = introduce(app, make_user(roles=("responder",), org=control_room), "Agent Nacht", "088-1122334")
    vt_worker = make_user(roles=("registrant",), org=veilig_thuis)
    vt_coordinator = make_user(roles=("coordinator",), org=veilig_thuis)

    # When the operator looks up an address nobody has a plan for
    browser_login(page, live_server, operator)
    page.get_by_role("link", name="Raadplegen (meldkamer)").first.click()
    page.get_by_label("Meldingnummer").fill(INCIDENT)
    page.get_by_label("Adres, naam of telefoonnummer").fill("9999 ZZ 1")
    page.keyboard.press("Enter")

    # Then nothing is found, and the melding can be registered all the same
    expect(page.locator("#resultaat")).to_contain_text("Geen handelingskader gevonden")
    page.get_by_role("link", name="Melding registreren").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Melding registreren")
    expect(page.get_by_label("Meldingnummer")).to_have_value(INCIDENT)
    looked_up = datetime.now(AMSTERDAM).strftime("%Y-%m-%dT%H:%M")
    expect(page.get_by_label("Tijdstip van de melding")).to_have_value(looked_up)
    expect(page.locator("fieldset.agreement-check")).to_have_count(0)

    # When they fill in what was done, the sheet by keyboard
    page.get_by_role("group", name="Type inzet").get_by_label("Telefonisch advies").check()
    who = page.get_by_role("group", name="Wie gingen erop af")
    who.get_by_label("Politie").check()
    who.get_by_label("Veilig Thuis").check()
    page.get_by_label("Aard van het geweld").select_option(label="(Ex) partnergeweld/conflictscheiding")
    page.get_by_label("Toelichting voor Veilig Thuis").fill(NARRATIVE)
    page.get_by_label("Partner bereikt na (minuten)").fill("10")
    page.keyboard.press("Tab")
    page.keyboard.type("Veilig Thuis")
    page.keyboard.press("Tab")
    page.keyboard.type("1,5")
    page.screenshot(path=artifacts / "melding-form.png", full_page=True)
    page.get_by_role("button", name="Melding registreren").click()

    # Then it is on record, for Veilig Thuis
    expect(page.get_by_role("heading", level=1)).to_have_text("Melding geregistreerd")
    expect(page.locator("main")).to_contain_text("Veilig Thuis in uw regio")

    # When a Veilig Thuis worker opens the Terugkoppeling at another desk
    desk = new_page()
    browser_login(desk, live_server, vt_worker)
    desk.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Terugkoppeling").click()
    # Then the melding is there, without a handelingskader, with the story and who to call back
    item = desk.locator("article.feedback-item")
    expect(item).to_have_count(1)
    expect(item.get_by_role("heading", level=2)).to_have_text("Melding zonder handelingskader")
    expect(item).to_contain_text(INCIDENT)
    expect(item.locator(".narrative")).to_have_text(NARRATIVE)
    expect(item.locator(".callback")).to_contain_text("Agent Nacht, Meldkamer Politie Noord")
    desk.screenshot(path=artifacts / "vt-inbox.png", full_page=True)

    # When VT's coordinator opens Monitoring
    office = new_page()
    browser_login(office, live_server, vt_coordinator)
    office.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Monitoring").click()
    # Then the melding is counted, once
    expect(office.locator("#periode")).to_contain_text("1 melding ·")
    office.screenshot(path=artifacts / "vt-monitoring.png", full_page=True)
