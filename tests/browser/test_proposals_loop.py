"""From crisis to structure, in the real browser: the control room records an arrest and a new
agreement it made with the family; the wijkteam sees the spoedmelding in red with the proposal,
takes it into the plan in one step (the plan form opens with it marked as a proposal, and saving
makes the new version); the control room reads that answer under Teruggekoppeld, and the next
lookup shows the new agreement and the earlier melding."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.family import create_plan, network
from tests.browser.test_feedback_loop import expect_spoed_deadline

INCIDENT = "P-2026-0917"
TRIGGER = "Vader komt naar het huis tijdens het huisverbod"
ACTION = "Moeder belt 112; politie rijdt met prio 1 en belt de tante"
RED = "rgb(179, 0, 27)"  # --danger


def look_up(page: Page, incident_ref: str) -> None:
    page.get_by_role("link", name="Raadplegen (meldkamer)").first.click()
    page.get_by_label("Meldingnummer").fill(incident_ref)
    page.get_by_label("Adres, naam of telefoonnummer").fill("9401AB 14")
    page.get_by_role("button", name="Zoeken").click()
    expect(page.locator("article.plan-result")).to_have_count(1)


def test_a_proposed_agreement_goes_from_the_night_into_the_plan(
    app, client, page, new_page, live_server, make_org, make_user, auth_headers, browser_login, artifacts
):
    # Given a wijkteam's plan for a family at 9401 AB 14, with three agreements
    people = network(app, make_org, make_user)
    plan = create_plan(client, auth_headers(people.registrant), title="Gezin Testveen")
    assert len(plan["agreements"]) == 3

    # When the control room looks the address up and records an arrest, with a new agreement
    # made with the family
    browser_login(page, live_server, people.responder)
    look_up(page, INCIDENT)
    page.locator("article.plan-result").get_by_role("link", name="Inzet registreren").click()
    page.get_by_role("group", name="Type inzet").get_by_label("Interventie ter plaatse").check()
    page.get_by_role("group", name="Wie gingen erop af").get_by_label("Politie").check()
    page.get_by_role("group", name="Wat is er gedaan").get_by_label("Aanhouding").check()
    expect(page.get_by_role("heading", name="Nieuwe afspraken met de familie (voorstel)")).to_be_visible()
    proposed = page.get_by_role("group", name="Voorgestelde afspraak 1")
    proposed.get_by_label("Wanneer").fill(TRIGGER)
    proposed.get_by_label("Wat te doen").fill(ACTION)
    proposed.get_by_label("Door wie").select_option(label="Politie")
    page.screenshot(path=artifacts / "proposal-report-form.png", full_page=True)
    page.get_by_role("button", name="Inzet registreren").click()

    # Then it is a spoedmelding
    expect(page.get_by_role("heading", level=1)).to_have_text("Inzet geregistreerd")
    deadline = expect_spoed_deadline(page.locator("#terugkoppelen-voor"))

    # When the wijkteam worker opens Terugkoppeling
    desk = new_page()
    browser_login(desk, live_server, people.registrant)
    desk.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Terugkoppeling").click()

    # Then the item is at the top, in red, with its deadline and the proposed agreement
    item = desk.locator("article.feedback-item").first
    expect(item.get_by_role("heading", level=2)).to_have_text("Spoed Gezin Testveen")
    expect(item).to_have_css("border-left-color", RED)
    expect(item.locator(".spoed-label")).to_have_css("background-color", RED)
    expect(item).to_contain_text(f"Terugkoppelen vóór {deadline}")
    proposals = item.locator("section.proposals")
    expect(proposals.get_by_role("heading", level=3)).to_contain_text("Voorgestelde afspraken")
    expect(proposals.locator("table.proposed-agreements tbody tr td")).to_have_text(
        [TRIGGER, ACTION, "Politie"]
    )
    desk.screenshot(path=artifacts / "proposal-inbox.png", full_page=True)

    # When they take it into the plan
    proposals.get_by_role("link", name="Overnemen in het handelingskader").click()

    # Then the plan form opens with the plan's agreements and, marked as a proposal, the new one
    expect(desk.get_by_role("heading", level=1)).to_have_text("Handelingskader wijzigen")
    expect(desk.locator("#voorstel")).to_contain_text("Voorgestelde afspraken van Meldkamer Politie Noord")
    rows = desk.locator("#afspraken fieldset.row")
    expect(rows).to_have_count(4)
    expect(desk.locator("#afspraken fieldset.proposed")).to_have_count(1)
    new_row = rows.nth(3)
    expect(new_row).to_have_class(re.compile(r"\bproposed\b"))
    expect(new_row.locator("legend")).to_have_text("Afspraak 4 Voorstel")
    expect(new_row.get_by_label("Wanneer")).to_have_value(TRIGGER)
    expect(new_row.get_by_label("Wat te doen")).to_have_value(ACTION)
    expect(new_row.get_by_label("Door wie")).to_have_value("police")
    desk.screenshot(path=artifacts / "proposal-plan-form.png", full_page=True)

    # When they save it
    desk.get_by_role("button", name="Opslaan als nieuwe versie").click()

    # Then version 2 holds the new agreement as the fourth
    expect(desk.get_by_role("status").first).to_contain_text(
        "Versie 2 is opgeslagen, met de voorgestelde afspraken van Meldkamer Politie Noord."
    )
    agreements = desk.locator("table.agreements tbody tr")
    expect(agreements).to_have_count(4)
    expect(agreements.nth(3)).to_contain_text(TRIGGER)

    # And Terugkoppeling says the proposal was taken into version 2; they mark the item read
    desk.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Terugkoppeling").click()
    item = desk.locator("article.feedback-item").first
    expect(item.locator(".decision")).to_contain_text(
        "Overgenomen in het handelingskader (versie 2) door Wijkteam Oost"
    )
    expect(item.get_by_role("link", name="Overnemen in het handelingskader")).to_have_count(0)
    item.get_by_label("Notitie (wat pakt u op?)").fill("Afspraak staat in versie 2; moeder morgen gebeld.")
    item.get_by_role("button", name="Gelezen en opgepakt").click()
    expect(desk.locator("article.feedback-item")).to_have_count(0)

    # When the officer opens Teruggekoppeld
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Teruggekoppeld").click()

    # Then the wijkteam's answer is there: the proposal taken into version 2, and what they pick up
    answered = page.locator("article.answered-report")
    expect(answered).to_have_count(1)
    expect(answered.get_by_role("heading", level=2)).to_have_text(f"Spoed Melding {INCIDENT}")
    expect(answered.locator(".decision")).to_contain_text(
        "Overgenomen in het handelingskader (versie 2) door Wijkteam Oost"
    )
    expect(answered.locator(".answer-note")).to_have_text("Afspraak staat in versie 2; moeder morgen gebeld.")
    page.screenshot(path=artifacts / "proposal-answered.png", full_page=True)

    # And the next lookup shows the new agreement, and the earlier melding
    look_up(page, "P-2026-0918")
    result = page.locator("article.plan-result")
    shown = result.locator("ol.agreements-list li")
    expect(shown).to_have_count(4)
    expect(shown.nth(3).locator(".when")).to_have_text(f"Wanneer: {TRIGGER}")
    expect(shown.nth(3).locator(".what")).to_have_text(ACTION)
    expect(result.locator("p.history")).to_have_text(
        re.compile(r"1 eerdere melding, laatste \d{1,2} [a-z]{3}\.?")
    )
