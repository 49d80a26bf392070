"""The loop the product exists for, in the real browser: the control room finds the plan and records
what was done; with an arrest a spoedmelding, which the wijkteam reads within hours and marks read
and picked up; its answer goes back to the control room, and the next lookup says what happened
before."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Locator, Page, expect

from registry.core import dutch
from tests.browser.family import create_plan, network

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
INCIDENT = "P-2026-0815"
NARRATIVE = "Vader aangehouden; de kinderen slapen bij de tante. Moeder wil morgen gebeld worden."
# the plan's three agreements (plan_body), judged one way each
OUTCOMES = ["Uitgevoerd", "Niet uitgevoerd", "Niet van toepassing"]


def agreement_check(page: Page, position: int) -> Locator:
    """An agreement on the report form: a fieldset whose legend starts with its number."""
    return page.locator("fieldset.agreement-check").filter(
        has=page.locator("legend", has_text=f"{position}. Wanneer:")
    )


def expect_spoed_deadline(shown: Locator) -> str:
    """The deadline a spoedmelding shows: nine hours after the call (the lookup's minute, a
    moment ago). -> the text shown, 'zaterdag 14 maart 2026 08.40 uur'."""
    now = datetime.now(AMSTERDAM)
    candidates = [
        f"{dutch.long_date(moment.date())} {moment.hour:02d}.{moment.minute:02d} uur"
        for moment in (now - timedelta(minutes=back) + timedelta(hours=9) for back in range(4))
    ]
    expect(shown).to_have_text(re.compile("|".join(re.escape(text) for text in candidates)))
    return shown.inner_text()


def test_an_arrest_reaches_the_wijkteam_as_a_spoedmelding(
    app, client, page, new_page, live_server, make_org, make_user, auth_headers, browser_login, artifacts
):
    # Given a wijkteam's plan for a family at 9401 AB 14
    people = network(app, make_org, make_user)
    plan = create_plan(client, auth_headers(people.registrant), title="Gezin Testveen")

    # When the control room looks the address up during an incident
    browser_login(page, live_server, people.responder)
    page.get_by_role("link", name="Raadplegen (meldkamer)").first.click()
    page.get_by_label("Meldingnummer").fill(INCIDENT)
    page.get_by_label("Adres, naam of telefoonnummer").fill("9401AB 14")
    page.get_by_role("button", name="Zoeken").click()
    result = page.locator("article.plan-result")
    expect(result).to_have_count(1)
    expect(result.get_by_role("heading", level=3)).to_have_text("Gezin Testveen")

    # And chooses to record what was done
    result.get_by_role("link", name="Inzet registreren").click()

    # Then the report form names the plan and the incident, and lists the plan's agreements in order
    expect(page.get_by_role("heading", level=1)).to_have_text("Inzet registreren")
    expect(page.locator("p.meta")).to_contain_text(f"Gezin Testveen · melding {INCIDENT}")
    expect(page.get_by_label("Meldingnummer")).to_have_value(INCIDENT)
    legends = page.locator("fieldset.agreement-check legend")
    expect(legends).to_have_text([f"{a['position']}. Wanneer: {a['trigger']}" for a in plan["agreements"]])

    # When they fill it in: how, who, each agreement's outcome, what was done, and the story
    page.get_by_role("group", name="Type inzet").get_by_label("Interventie ter plaatse").check()
    who = page.get_by_role("group", name="Wie gingen erop af")
    who.get_by_label("Politie").check()
    who.get_by_label("CIT").check()
    for position, outcome in enumerate(OUTCOMES, 1):
        agreement_check(page, position).get_by_label(outcome, exact=True).check()
    agreement_check(page, 2).get_by_label("Toelichting").fill("Vader was al vertrokken.")
    done = page.get_by_role("group", name="Wat is er gedaan")
    done.get_by_label("Aanhouding").check()
    done.get_by_label("Kinderen bij netwerk").check()
    page.get_by_label("Aard van het geweld").select_option(label="(Ex) partnergeweld/conflictscheiding")
    page.get_by_label("Type huishouden").select_option(label="Gezin met minderjarige kinderen")
    page.get_by_label("Toelichting voor de regiehouder").fill(NARRATIVE)
    page.screenshot(path=artifacts / "report-form.png", full_page=True)
    page.get_by_role("button", name="Inzet registreren").click()

    # Then the report is recorded: an arrest makes it a spoedmelding, due within hours (nine, from
    # the time of the call: the lookup's), not on the next working day
    expect(page.get_by_role("heading", level=1)).to_have_text("Inzet geregistreerd")
    deadline = expect_spoed_deadline(page.locator("#terugkoppelen-voor"))
    done_url = page.url

    # When they go back in the browser to the form
    page.go_back()

    # Then it is the same report, stored, not an empty form for a second one
    expect(page.get_by_role("heading", level=1)).to_have_text("Inzet geregistreerd")
    expect(page.locator("#al-geregistreerd")).to_contain_text("Deze inzet is al geregistreerd")
    assert page.url == f"{done_url}?al=1"

    # When the wijkteam worker logs in at another desk and opens the feedback
    desk = new_page()
    browser_login(desk, live_server, people.registrant)
    desk.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Terugkoppeling").click()

    # Then they see one item: the plan, when and what was done, each agreement's outcome, the story
    expect(desk.get_by_role("heading", level=1)).to_have_text("Terugkoppeling")
    item = desk.locator("article.feedback-item")
    expect(item).to_have_count(1)
    expect(item.get_by_role("heading", level=2)).to_have_text("Spoed Gezin Testveen")
    expect(item).to_have_class(re.compile(r"\bspoed\b"))
    expect(item).to_contain_text(f"Terugkoppelen vóór {deadline}")
    expect(item.locator("p.when")).to_contain_text(
        f"melding {INCIDENT} · Interventie ter plaatse door CIT / SEZ (spoedeisende zorg jeugd), Politie"
    )
    rows = item.locator("table.outcomes tbody tr")
    expect(rows).to_have_count(3)
    for index, (agreement, outcome) in enumerate(zip(plan["agreements"], OUTCOMES, strict=True)):
        cells = rows.nth(index).locator("td")
        expect(cells.nth(0)).to_have_text(f"{index + 1}. {agreement['trigger']}: {agreement['action']}")
        expect(cells.nth(1)).to_have_text(outcome)
    expect(rows.nth(1).locator("td").nth(2)).to_have_text("Vader was al vertrokken.")
    expect(item).to_contain_text("Gedaan: Aanhouding, Kinderen bij netwerk")
    expect(item.locator(".narrative")).to_have_text(NARRATIVE)
    expect(item.locator(".callback")).to_have_text(
        "Terugbellen: Agent Meldkamer, Meldkamer Politie Noord · 088-1122334"
    )
    desk.screenshot(path=artifacts / "inbox.png", full_page=True)

    # When they note what they pick up and mark it read
    item.get_by_label("Notitie (wat pakt u op?)").fill("Moeder morgenochtend gebeld.")
    item.get_by_role("button", name="Gelezen en opgepakt").click()

    # Then the item is gone from the inbox
    expect(desk.get_by_role("status")).to_have_text("Gemarkeerd als gelezen en opgepakt.")
    expect(desk.locator("article.feedback-item")).to_have_count(0)
    expect(desk.locator("#geen-terugkoppeling")).to_have_text(
        "Er is geen open terugkoppeling. Alles is gelezen en opgepakt."
    )

    # When the officer opens Teruggekoppeld
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Teruggekoppeld").click()

    # Then the wijkteam's answer is there, with the melding it answers
    expect(page.get_by_role("heading", level=1)).to_have_text("Teruggekoppeld")
    answered = page.locator("article.answered-report")
    expect(answered).to_have_count(1)
    expect(answered.get_by_role("heading", level=2)).to_have_text(f"Spoed Melding {INCIDENT}")
    expect(answered.locator("ul.answers li")).to_contain_text("Wijkteam Oost")
    expect(answered.locator(".answer-note")).to_have_text("Moeder morgenochtend gebeld.")

    # And the next lookup of the address says what happened before
    page.get_by_role("link", name="Raadplegen (meldkamer)").first.click()
    page.get_by_label("Meldingnummer").fill("P-2026-0816")
    page.get_by_label("Adres, naam of telefoonnummer").fill("9401AB 14")
    page.get_by_role("button", name="Zoeken").click()
    expect(page.locator("article.plan-result p.history")).to_have_text(
        re.compile(r"1 eerdere melding, laatste \d{1,2} [a-z]{3}\.?")
    )
