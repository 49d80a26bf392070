"""The five core questions as the melding's shared record, in the real browser (issue 22): the
police answer questions 1 and 3 with their report at night; Veilig Thuis opens the melding in the
morning, reads them and adds questions 2 and 4 instead of asking again; the wijkteam that owns
the plan finds the five questions once in its feedback item, and prints the hand-over on one page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from registry.core.db import db as database
from registry.regions import operations as regions
from tests.browser.family import create_plan, introduce, network

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
INCIDENT = "P-2026-0230"
HAPPENED = "Buren belden om 02.30 over geschreeuw; moeder met een blauwe plek, vader onder invloed."
SAFE_NOW = "Vader meegenomen naar het bureau; moeder en de kinderen blijven thuis, de tante komt."
KNOWN = "Bij Veilig Thuis bekend sinds 2025: twee eerdere meldingen, verslavingszorg betrokken."
NEEDED_NOW = "Vandaag: gesprek met moeder over een veilige plek. Deze week: overleg met het wijkteam."


def last_night() -> datetime:
    """02.40 of the last night that has passed: the time the call came in."""
    now = datetime.now(AMSTERDAM)
    night = now.replace(hour=2, minute=40, second=0, microsecond=0)
    return night if night < now - timedelta(minutes=5) else night - timedelta(days=1)


def test_police_answer_at_night_veilig_thuis_adds_in_the_morning_the_wijkteam_reads_all_five(
    app, client, page, new_page, live_server, make_org, make_user, auth_headers, browser_login, artifacts
):
    # Given a wijkteam's plan, a control room, and the region's Veilig Thuis
    people = network(app, make_org, make_user)
    create_plan(client, auth_headers(people.registrant), title="Gezin Testveen")
    veilig_thuis = make_org("Veilig Thuis Noord", kind="veilig_thuis", region="Noord")
    with app.app_context():
        regions.set_veilig_thuis(
            database.session, regions.find_or_add(database.session, "Noord"), veilig_thuis.name
        )
        database.commit()
    vt_worker = introduce(app, make_user(roles=("registrant",), org=veilig_thuis), "Vera Veilig")

    # When the control room looks the address up during the night's call
    browser_login(page, live_server, people.responder)
    page.get_by_role("link", name="Raadplegen (meldkamer)").first.click()
    page.get_by_label("Meldingnummer").fill(INCIDENT)
    page.get_by_label("Adres, naam of telefoonnummer").fill("9401AB 14")
    page.keyboard.press("Enter")
    page.locator("article.plan-result").get_by_role("link", name="Inzet registreren").click()

    # Then the report form asks the five core questions, each with its sub-questions as the hint
    expect(page.get_by_role("heading", level=1)).to_have_text("Inzet registreren")
    questions = page.locator(".assessment-fields label")
    expect(questions).to_have_text(
        [
            "1. Wat is er gebeurd?",
            "2. Wat is er bekend?",
            "3. Is het NU veilig?",
            "4. Wat moet er NU gebeuren?",
            "5. Wie zijn betrokken en hoe staan zij erin?",
        ]
    )
    expect(page.get_by_role("textbox", name="Wat is er gebeurd?")).to_have_accessible_description(
        re.compile("^De acute crisis, de aanleiding")
    )

    # When they record the call of 02.40, and answer questions 1 and 3 by keyboard
    page.get_by_label("Tijdstip van de melding").fill(last_night().strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("group", name="Type inzet").get_by_label("Interventie ter plaatse").check()
    page.get_by_role("group", name="Wie gingen erop af").get_by_label("Politie").check()
    page.get_by_role("textbox", name="Wat is er gebeurd?").fill(HAPPENED)
    page.keyboard.press("Tab")  # past question 2: not theirs to answer tonight
    page.keyboard.press("Tab")
    page.keyboard.type(SAFE_NOW)
    expect(page.get_by_role("textbox", name="Is het NU veilig?")).to_have_value(SAFE_NOW)
    page.screenshot(path=artifacts / "five-questions-report-form.png", full_page=True)
    page.get_by_role("button", name="Inzet registreren").click()

    # Then the report is on record, with the way to its melding
    expect(page.get_by_role("heading", level=1)).to_have_text("Inzet geregistreerd")
    expect(page.get_by_role("link", name="Melding openen: de vijf kernvragen")).to_be_visible()

    # When Veilig Thuis opens its Terugkoppeling in the morning, and the melding from there
    morning = new_page()
    browser_login(morning, live_server, vt_worker)
    morning.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Terugkoppeling").click()
    morning.locator("article.feedback-item").get_by_role("link", name="Melding openen en aanvullen").click()

    # Then the police's answers are there, with who gave them, and what the registry knows
    expect(morning.get_by_role("heading", level=1)).to_have_text(f"Melding {INCIDENT}")
    expect(morning.locator("#vraag-happened .addition")).to_have_count(1)
    expect(morning.locator("#vraag-happened .addition .pre")).to_have_text(HAPPENED)
    expect(morning.locator("#vraag-happened .addition .by")).to_contain_text("Meldkamer Politie Noord")
    expect(morning.locator("#vraag-safe_now .addition .pre")).to_have_text(SAFE_NOW)
    expect(morning.locator("#vraag-known .known-signals")).to_contain_text("Wapenbezit, Doodsbedreiging")
    expect(morning.locator("#vraag-known .unanswered")).to_have_text("Nog niet beantwoord.")

    # When they add questions 2 and 4, by keyboard
    morning.get_by_role("textbox", name="Wat is er bekend?").fill(KNOWN)
    morning.keyboard.press("Tab")
    morning.keyboard.press("Tab")
    morning.keyboard.type(NEEDED_NOW)
    morning.get_by_role("button", name="Aanvulling opslaan").click()

    # Then the record holds all four answers, each with its own organisation
    expect(morning.get_by_role("status")).to_have_text("Uw aanvulling staat in de melding.")
    expect(morning.locator("#vraag-known .addition .pre")).to_have_text(KNOWN)
    expect(morning.locator("#vraag-known .addition .by")).to_contain_text("Veilig Thuis Noord (Vera Veilig)")
    expect(morning.locator("#vraag-needed_now .addition .pre")).to_have_text(NEEDED_NOW)
    expect(morning.locator("#vraag-happened .addition .pre")).to_have_text(HAPPENED)
    morning.screenshot(path=artifacts / "five-questions-melding.png", full_page=True)

    # When the wijkteam reads its Terugkoppeling
    desk = new_page()
    browser_login(desk, live_server, people.registrant)
    desk.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Terugkoppeling").click()

    # Then its one item shows the five questions once, with the four answers
    item = desk.locator("article.feedback-item")
    expect(item).to_have_count(1)
    summary = item.locator(".assessment-summary")
    expect(summary).to_have_count(1)
    expect(summary.locator("dt")).to_have_text(
        [
            "1. Wat is er gebeurd?",
            "2. Wat is er bekend?",
            "3. Is het NU veilig?",
            "4. Wat moet er NU gebeuren?",
            "5. Wie zijn betrokken en hoe staan zij erin?",
        ]
    )
    for answer in (HAPPENED, KNOWN, SAFE_NOW, NEEDED_NOW):
        expect(item.get_by_text(answer)).to_have_count(1)
    expect(summary.locator(".answer-known .answer")).to_contain_text("Veilig Thuis Noord")
    expect(summary.locator(".answer-involved .unanswered")).to_have_text("Nog niet beantwoord.")
    expect(summary.locator(".answer-involved li.dni")).to_contain_text("Niet informeren")
    desk.screenshot(path=artifacts / "five-questions-inbox.png", full_page=True)

    # When they open the hand-over to print it
    item.get_by_role("link", name="Overdracht afdrukken").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text(f"Overdracht melding {INCIDENT}")
    desk.emulate_media(media="print")

    # Then on paper there is no menu, and the five answers fit on one page
    expect(desk.locator("header.topbar")).to_be_hidden()
    pdf = desk.pdf(format="A4")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1
