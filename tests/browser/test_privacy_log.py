"""The Logboek in the real browser: the privacy officer finds it in the navigation, filters the
audit log by a username and sees that person's rows, with the chain check at the top."""

from __future__ import annotations

from playwright.sync_api import Page, expect

CELLS = "rows => rows.map(row => [...row.cells].map(cell => cell.innerText.trim()))"


def test_auditor_filters_the_logboek_by_username(
    app, page: Page, live_server, make_org, make_user, browser_login, web_login
):
    # Given two colleagues of a wijkteam who each logged in (each login is an audit row)
    team = make_org("Wijkteam Oost")
    anna = make_user(roles=("registrant",), org=team, username="anna.devries")
    bram = make_user(roles=("registrant",), org=team, username="bram.jansen")
    web_login(app.test_client(), anna)
    web_login(app.test_client(), bram)
    auditor = make_user(roles=("auditor",), org=make_org("Gemeente Testdorp"), username="privacy.officer")

    # When the privacy officer opens the Logboek from the navigation and searches for anna
    browser_login(page, live_server, auditor)
    page.get_by_role("navigation").get_by_role("link", name="Logboek").click()
    expect(page.get_by_role("heading", level=1, name="Logboek")).to_be_visible()
    expect(page.locator("#keten")).to_contain_text("De keten is intact:")
    page.get_by_label("Gebruikersnaam").fill("anna.devries")
    page.get_by_role("button", name="Zoeken").click()

    # Then only anna's rows are listed, her login among them, in her organisation
    expect(page).to_have_url(
        f"{live_server.url}/logboek?username=anna.devries&plan=&organisation=&action=&from=&to="
    )
    rows = page.locator("table.audit-log tbody tr").evaluate_all(CELLS)
    assert rows, "no rows shown"
    assert {row[2] for row in rows} == {"anna.devries"}
    assert {row[3] for row in rows} == {"Wijkteam Oost"}
    assert "Inloggen" in {row[5] for row in rows}
    expect(page.locator("#gevonden")).to_contain_text(f"{len(rows)} regel")
    expect(page.get_by_label("Gebruikersnaam")).to_have_value("anna.devries")
