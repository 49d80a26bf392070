"""The report form of a lookup in the real browser: a double click stores one report, the form
open in another tab sent after it says once that the report is stored, "Inzet registreren" of
the same lookup opens the stored report, and an amendment is added from its page. Desktop
(1366×800) and phone (390×844), screenshots kept as artefacts."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from registry.core.db import db as database
from registry.core.models import Report
from tests.browser.family import create_plan, network

INCIDENT = "P-2026-0412"


def reports_stored(app) -> int:
    with app.app_context():
        return database.session.scalar(select(func.count()).select_from(Report)) or 0


def fill_report(page: Page, story: str) -> None:
    page.get_by_role("group", name="Type inzet").get_by_label("Interventie ter plaatse").check()
    page.get_by_role("group", name="Wie gingen erop af").get_by_label("Politie").check()
    for fieldset in page.locator("fieldset.agreement-check").all():
        fieldset.get_by_label("Uitgevoerd", exact=True).check()
    page.get_by_label("Toelichting voor de regiehouder").fill(story)


@pytest.mark.parametrize(("width", "height"), [(1366, 800), (390, 844)])
def test_one_report_per_lookup_shown_again_and_amended_from_its_page(
    app, client, page: Page, live_server, make_org, make_user, auth_headers, browser_login, artifacts,
    width, height,
):  # fmt: skip
    # Given a wijkteam's plan, and an operator who found it
    people = network(app, make_org, make_user)
    create_plan(client, auth_headers(people.registrant), title="Gezin Testveen")
    page.set_viewport_size({"width": width, "height": height})
    browser_login(page, live_server, people.responder)
    page.goto("/raadplegen")
    page.get_by_label("Meldingnummer").fill(INCIDENT)
    field = page.get_by_label("Adres, naam of telefoonnummer")
    field.fill("9401AB 14")
    field.press("Enter")
    page.locator("article.plan-result").get_by_role("link", name="Inzet registreren").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inzet registreren")
    form_url = page.url
    # And the same form open in a second tab (a colleague's screen share, a second window)
    other_tab = page.context.new_page()
    other_tab.set_viewport_size({"width": width, "height": height})
    other_tab.goto(form_url)
    fill_report(other_tab, "Vader was al vertrokken.")

    # When they fill the form in and double-click "Inzet registreren"
    fill_report(page, "Vader aangehouden; kinderen bij de tante.")
    page.locator(".form-actions").get_by_role("button", name="Inzet registreren").dblclick()

    # Then one report is stored, and the page says it is registered, at most once "already"
    expect(page.get_by_role("heading", level=1)).to_have_text("Inzet geregistreerd")
    expect(page.locator("#toelichting")).to_have_text("Vader aangehouden; kinderen bij de tante.")
    assert page.locator("#al-geregistreerd").count() <= 1
    assert reports_stored(app) == 1
    # with the regiehouder's number to call back, big
    callback = page.locator("#terugbellen")
    expect(callback).to_contain_text("Terugbellen: regiehouder J. Beschermer, Wijkteam Oost")
    expect(page.locator("#terugbellen .phone-big")).to_have_text("088-1234567")
    page.screenshot(path=artifacts / f"report-stored-{width}.png", full_page=True)

    # When the form in the other tab is sent after it
    other_tab.locator(".form-actions").get_by_role("button", name="Inzet registreren").click()

    # Then no second report is stored: the stored one is shown, saying once that it is stored,
    # and what was typed there waits in the amendment field
    expect(other_tab.get_by_role("heading", level=1)).to_have_text("Inzet geregistreerd")
    expect(other_tab.locator("#al-geregistreerd")).to_have_count(1)
    expect(other_tab.locator("#al-geregistreerd")).to_contain_text("Deze inzet is al geregistreerd")
    expect(other_tab.get_by_label("Aanvulling")).to_have_value("Vader was al vertrokken.")
    assert reports_stored(app) == 1
    other_tab.screenshot(path=artifacts / f"report-sent-again-{width}.png", full_page=True)
    other_tab.close()

    # When the operator opens the lookup's "Inzet registreren" link again (from the history)
    page.goto(form_url)

    # Then they see the report stored, read-only, not an empty form
    expect(page.get_by_role("heading", level=1)).to_have_text("Inzet geregistreerd")
    expect(page.locator("#al-geregistreerd")).to_have_count(1)
    expect(page.locator("table.outcomes tbody tr")).to_have_count(3)
    expect(page.locator("input[type=radio]")).to_have_count(0)
    expect(page.locator("#geen-aanvullingen")).to_have_text("Nog geen aanvulling.")

    # When they add what they heard later
    page.get_by_label("Aanvulling").fill("Moeder belde om 02.10 uur: veilig bij de tante.")
    page.get_by_role("button", name="Aanvulling opslaan").click()

    # Then it is under Aanvullingen, with when and by whom, and the page says once it is saved
    expect(page.get_by_role("status").filter(has_text="De aanvulling is opgeslagen.")).to_have_count(1)
    amendment = page.locator("ol.additions li.amendment")
    expect(amendment).to_have_count(1)
    expect(amendment).to_contain_text("Moeder belde om 02.10 uur: veilig bij de tante.")
    expect(amendment).to_contain_text("Agent Meldkamer")
    expect(page.get_by_label("Aanvulling")).to_have_value("")
    assert reports_stored(app) == 1
    page.screenshot(path=artifacts / f"report-amended-{width}.png", full_page=True)
