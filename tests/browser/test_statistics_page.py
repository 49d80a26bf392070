"""The monitoring page in the real browser: a coordinator picks a period and sees the pilots'
tables with the right counts, charts that load, and a CSV a Dutch spreadsheet opens; a
coordinator in the taakgroep switches to the whole region."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Locator, Page, expect

from registry.core import dutch
from tests.browser.family import create_plan, look_up, network, report

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MONTHS = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
MIXED = ("followed", "not_followed", "not_applicable")
CELLS = "rows => rows.map(row => [...row.cells].map(cell => cell.innerText.trim()))"


def at(day: date, hour: int, minute: int) -> datetime:
    """A wall-clock moment in Amsterdam."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMSTERDAM)


def table(page: Page, title: str) -> Locator:
    return page.locator("section.stat-table").filter(
        has=page.get_by_role("heading", level=2, name=title, exact=True)
    )


def rows(section: Locator) -> list[list[str]]:
    return section.locator("tbody tr").evaluate_all(CELLS)


def months_between(start: date, end: date) -> list[str]:
    labels, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        labels.append(f"{MONTHS[month - 1]} {year}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return labels


def test_coordinator_sees_the_tables_charts_and_csv_of_a_period(
    app, client, page, live_server, make_org, make_user, auth_headers, browser_login, artifacts
):
    # Given a wijkteam's plan, and a control room that recorded five reports on it:
    # four in a week two to three weeks ago (day, weekend day, evening, night), one the week before
    people = network(app, make_org, make_user)
    plan = create_plan(client, auth_headers(people.registrant), title="Gezin Testveen")
    police = auth_headers(people.responder)
    today = datetime.now(AMSTERDAM).date()
    monday = today - timedelta(days=today.weekday() + 14)
    reports = [
        # (moment, outcomes per agreement, monitoring categories)
        (at(monday, 10, 15), ("followed",), {"responders": ["police", "cit"],
         "violence_type": "partner_violence", "household_type": "minor_children",
         "care_involvement": "informed_by_phone", "mental_health_service": "not_needed"}),
        (at(monday + timedelta(days=5), 11, 0), MIXED, {"violence_type": "child_abuse",
         "household_type": "minor_children", "care_involvement": "none", "mental_health_service": "youth"}),
        (at(monday + timedelta(days=2), 19, 30), MIXED, {"mode": "phone_advice", "responders": ["cit"],
         "violence_type": "partner_violence", "household_type": "no_children"}),
        (at(monday + timedelta(days=3), 23, 40), MIXED, {"responders": ["cit", "police"]}),
        (at(monday - timedelta(days=7), 10, 0), MIXED, {"violence_type": "elder_abuse"}),
    ]  # fmt: skip
    for number, (moment, outcomes, categories) in enumerate(reports, 1):
        lookup = look_up(client, police, plan, f"P-2026-{number:04d}")
        report(client, police, lookup, moment, outcomes, **categories)
    # and one more lookup that found the plan, with no report after it
    look_up(client, police, plan, "P-2026-0099")

    # When the wijkteam's coordinator opens the monitoring and picks the period from that Monday
    browser_login(page, live_server, people.coordinator)
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Monitoring").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Monitoring")
    page.get_by_label("Van").fill(monday.isoformat())
    page.get_by_label("Tot en met").fill(today.isoformat())
    page.get_by_role("button", name="Toon").click()

    # Then the page covers that period: four reports, the older one left out
    expect(page.locator("#periode")).to_have_text(
        f"{dutch.long_date(monday)} t/m {dutch.long_date(today)} · 4 meldingen · 4 inzetten · Wijkteam Oost"
    )
    page.wait_for_load_state("load")

    # And every table counts them, every category listed (zeros too)
    in_period = [moment for moment, _outcomes, _categories in reports[:4]]
    per_month = Counter(f"{MONTHS[moment.month - 1]} {moment.year}" for moment in in_period)
    expected = {
        "Binnengekomen meldingen": [
            [label, str(per_month[label])] for label in months_between(monday, today)
        ],
        # the pilot's subtotals above their rows
        "Tijdstip van melding": [
            ["Overdag 09.00–17.00 uur", "2"],
            ["Maandag t/m vrijdag", "1"],
            ["Zaterdag en zondag", "1"],
            ["Avond en nacht 17.00–09.00 uur", "2"],
            ["Avond 17.00–22.00 uur", "1"],
            ["Nacht 22.00–09.00 uur", "1"],
        ],
        # each report is a melding of its own: police and CIT on site is SEZ on site; the police
        # alone, or CIT's phone advice, is none of the pilot's types
        "Type inzet": [
            ["VT telefonisch advies aan politie", "0"],
            ["VT interventie ter plaatse, samen met politie", "0"],
            ["VT interventie op afstand richting gezin/huishouden", "0"],
            ["Gezamenlijke VT/SEZ afstemming/beoordeling", "0"],
            ["Gezamenlijke VT/SEZ interventie ter plaatse", "0"],
            ["SEZ interventie ter plaatse, samen met politie", "2"],
            ["SEZ interventie op afstand richting gezin", "0"],
            ["Overig", "2"],
        ],
        "Wie en hoe (alle organisaties van de melding samen)": [
            ["CIT / SEZ (spoedeisende zorg jeugd) + Politie · Interventie ter plaatse", "2"],
            ["CIT / SEZ (spoedeisende zorg jeugd) · Telefonisch advies", "1"],
            ["Politie · Interventie ter plaatse", "1"],
        ],
        "Aard van het geweld": [
            ["(Ex) partnergeweld/conflictscheiding", "2"],
            ["Kindermishandeling/ontwikkelingsbedreiging", "1"],
            ["Oudermishandeling (kind naar ouder)", "0"],
            ["Eergerelateerd geweld", "0"],
            ["Huwelijksdwang", "0"],
            ["Ouderenmishandeling (65+)", "0"],
            ["Overig huiselijk geweld", "0"],
            ["Niet geregistreerd", "1"],
        ],
        "Type huishouden/gezin": [
            ["Gezin met minderjarige kinderen", "2"],
            ["Gezin met meerderjarige kinderen", "0"],
            ["Huishouden zonder kinderen", "1"],
            ["Niet geregistreerd", "1"],
        ],
        "Betrokken hulpverlening": [
            ["Geen betrokken hulpverlening", "1"],
            ["Telefonisch geïnformeerd", "1"],
            ["Aanwezig tijdens/na interventie", "0"],
            ["Niet geregistreerd", "2"],
        ],
        "GGZ crisisdienst betrokken tijdens incident": [
            ["Inzet GGZ volwassenen", "0"],
            ["Inzet GGZ jeugd", "1"],
            ["Geen inzet GGZ nodig", "1"],
            ["Niet geregistreerd", "2"],
        ],
        # six lookups found the plan, five of them followed by a report
        "Raadplegingen": [
            ["Raadplegingen", "6"],
            ["Met een gevonden handelingskader", "6"],
            ["Gevonden, geen inzet geregistreerd", "1"],
        ],
        # three agreements per report: all followed once, one of each outcome three times
        "Afspraken bij een inzet": [
            ["Uitgevoerd", "6"],
            ["Niet uitgevoerd", "3"],
            ["Niet van toepassing", "3"],
        ],
    }
    shown = {title: rows(table(page, title)) for title in expected}
    assert shown == expected
    expect(page.locator(".kpi").first).to_contain_text("67%")

    # And each table's chart is an image that loaded
    charts = page.locator("img.chart")
    # (and those of the tables not listed here: per gemeente, inzetten per maand)
    expect(charts).to_have_count(len(expected) + 2)
    loaded = charts.evaluate_all("images => images.map(image => image.complete && image.naturalWidth)")
    assert all(width > 0 for width in loaded), loaded
    page.screenshot(path=artifacts / "statistics.png", full_page=True)

    # When they download a table as CSV
    violence = table(page, "Aard van het geweld")
    with page.expect_download() as download_info:
        violence.get_by_role("link", name="CSV").click()
    download = download_info.value

    # Then it is named after the table and period, with a Dutch header and one row per category
    assert download.suggested_filename == f"samenop-geweld-{monday.isoformat()}-{today.isoformat()}.csv"
    text = download.path().read_bytes().decode("utf-8")
    assert text.startswith("\ufeff"), "a BOM, so that a Dutch spreadsheet reads UTF-8"
    lines = text.removeprefix("\ufeff").splitlines()
    assert lines[0] == "Aard van het geweld;Aantal"
    assert [line.split(";") for line in lines[1:]] == expected["Aard van het geweld"]


def test_a_coordinator_in_the_taakgroep_switches_to_the_region(
    app, client, page, live_server, make_org, make_user, auth_headers, browser_login
):
    # Given a wijkteam's plan in region Noord, and the region's control room that reported one
    # call on it and one about a family without a plan (nothing of the wijkteam's own)
    people = network(app, make_org, make_user)
    plan = create_plan(client, auth_headers(people.registrant), title="Gezin Testveen")
    police = auth_headers(people.responder)
    today = datetime.now(AMSTERDAM).date()
    day = today - timedelta(days=1)  # within the default period, never in the future
    report(client, police, look_up(client, police, plan, "P-2026-0101"), at(day, 10, 15))
    without_plan = client.post(
        "/api/v1/reports",
        json={"incident_ref": "P-2026-0102", "occurred_at": at(day, 23, 10).isoformat(),
              "mode": "phone_advice", "responders": ["police", "veilig_thuis"], "gemeente": None},
        headers=police,
    )  # fmt: skip
    assert without_plan.status_code == 201, without_plan.get_json()
    # and the wijkteam's coordinator, who is in the taakgroep too
    coordinator = make_user(roles=("coordinator", "region_monitor"), org=people.wijkteam)

    # When they open Monitoring: their organisation's share, the region offered beside it
    browser_login(page, live_server, coordinator)
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Monitoring").click()
    expect(page.get_by_label("Mijn organisatie")).to_be_checked()
    expect(page.locator("#periode")).to_contain_text("1 melding · 1 inzet · Wijkteam Oost")

    # When they choose the region
    page.get_by_label("Regio Noord").check()
    page.get_by_role("button", name="Toon").click()

    # Then every melding of the region's organisations counts, the choice stays, no name shows
    expect(page.locator("#periode")).to_contain_text("2 meldingen · 2 inzetten · Regio Noord")
    expect(page.get_by_label("Regio Noord")).to_be_checked()
    assert "Testveen" not in page.content()
    assert "P-2026-0102" not in page.content()
    # and the CSV is the region's
    with page.expect_download() as download_info:
        table(page, "Binnengekomen meldingen").get_by_role("link", name="CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("samenop-maand-regio-")
    lines = download.path().read_bytes().decode("utf-8").removeprefix("\ufeff").splitlines()
    assert f"{MONTHS[day.month - 1]} {day.year};2" in lines
