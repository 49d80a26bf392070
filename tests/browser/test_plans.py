"""A jeugdbeschermer enters a handelingskader in the real browser: rows added and moved with the
form's own buttons, a validation error fixed without retyping, the plan shown and listed."""

from __future__ import annotations

import re
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from playwright.sync_api import Locator, Page, expect

from registry.core import dutch
from tests.browser.family import introduce
from tests.registry.plan_data import today

# an invented family at invented addresses; (label, value) in the order a person types them
ADDRESSES = [
    {"Postcode": "9401ab", "Huisnummer": "14", "Straat": "Verzonnenstraat", "Plaats": "Testdorp"},
    {"Postcode": "12345", "Huisnummer": "3", "Toevoeging": "A", "Straat": "Opvanglaan", "Plaats": "Elders"},
]
ADDRESS_ROLES = ["Woonadres", "Opvangadres (veilig adres)"]
PERSONS = [
    {"Voornaam": "Noor", "Tussenvoegsel": "van der", "Achternaam": "Testveen",
     "Geboortedatum": "1990-01-02", "Telefoon": "06-12345678"},
    {"Voornaam": "Sam", "Achternaam": "Testman", "Geboortedatum": "1988-07-15", "Telefoon": "0611223344"},
    {"Voornaam": "Mila", "Achternaam": "Testman", "Geboortedatum": "2015-03-04"},
    {"Voornaam": "Daan", "Achternaam": "Testman", "Geboortedatum": "2018-09-10"},
]  # fmt: skip
PERSON_ROLES = ["Slachtoffer", "Pleger", "Kind", "Kind"]
AGREEMENTS = [
    ("Melding geluidsoverlast op dit adres", "Direct ter plaatse (prio 1)", "Politie"),
    ("Vermoeden van huiselijk geweld", "Aanhouden en protocol tijdelijk huisverbod starten", "Politie"),
    ("Kinderen kunnen niet thuis blijven", "Naar tante Fictief, 06-87654321", "Netwerk (familie, buren)"),
    ("Altijd", "Melding doen bij Veilig Thuis", "Politie"),
    ("Altijd", "Piketdienst Jeugdbescherming bellen: 088-7654321", "Politie"),
]  # fmt: skip
# the piket call is typed last and moved up one place: the control room calls before filing
SHOWN_ORDER = [AGREEMENTS[0], AGREEMENTS[1], AGREEMENTS[2], AGREEMENTS[4], AGREEMENTS[3]]
CONTACTS = [
    {"Naam": "Tante Fictief", "Relatie": "tante", "Telefoon": "06-87654321",
     "Toelichting bereikbaarheid": "dag en nacht"},
    {"Naam": "Piketdienst Jeugdbescherming", "Relatie": "piket", "Telefoon": "088-7654321",
     "Toelichting bereikbaarheid": "24 uur per dag"},
]  # fmt: skip
DNI_REASON = "Zoekt moeder en kinderen."
# each row's fields as a person reads them: "Adres 2 · Postcode" -> what the box shows
TYPED = """form => Object.fromEntries([...form.querySelectorAll("fieldset.row")].flatMap(row => {
  const legend = row.querySelector("legend").textContent.trim();
  return [...row.querySelectorAll("input:not([type=hidden]), textarea, select")].map(box => {
    const label = box.type === "checkbox"
      ? (box.name.endsWith("-do_not_inform") ? "Niet informeren" : box.name.replace(/^[a-z]+-[0-9]+-/, ""))
      : box.labels[0].textContent.replace("*", "").trim();
    const value = box.type === "checkbox" ? (box.checked ? "ja" : "nee")
      : box.tagName === "SELECT" ? box.selectedOptions[0].textContent : box.value;
    return [`${legend} · ${label}`, value];
  });
}))"""
POSTCODE_ERROR = "Vul een postcode in zoals 1234 AB."
VALIDITY_ERROR = "Een handelingskader geldt hoogstens 6 maanden; kies een eerdere datum."


def row(page: Page, legend: str) -> Locator:
    """One row of the form: a fieldset named by its legend ("Adres 2")."""
    return page.get_by_role("group", name=legend, exact=True)


def fill_row(row_: Locator, values: dict[str, str]) -> None:
    for label, value in values.items():
        field(row_, label).fill(value)


def field(row_: Locator, label: str) -> Locator:
    """A text box of a row by its label (the required-star is not part of the name)."""
    return row_.get_by_role("textbox", name=label, exact=True)


def add_row(page: Page, button: str, legend: str) -> Locator:
    """Press a "+ ... toevoegen" button; the form comes back with an empty row named `legend`,
    scrolled to it (not back at the top of a long form)."""
    page.get_by_role("button", name=button).click()
    added = row(page, legend)
    expect(added).to_be_in_viewport()
    return added


def card(page: Page, heading: str) -> Locator:
    """A section of a page, by its heading."""
    return page.locator("section").filter(has=page.get_by_role("heading", name=heading, exact=True))


def expect_rows(page: Page, legend: str, count: int) -> None:
    legends = page.locator("fieldset.row > legend").filter(has_text=re.compile(rf"^{legend} \d+$"))
    expect(legends).to_have_count(count)


def assert_rows_kept(page: Page) -> None:
    """Every row's text boxes hold what was typed, rows in the order they were put, roles and the
    "Niet informeren" tick kept (read in one go: the form is long)."""
    typed = page.locator("form.plan-form").evaluate(TYPED)
    expected: dict[str, str] = {}
    for legend, rows, roles, role_label in (
        ("Adres", ADDRESSES, ADDRESS_ROLES, "Soort adres"),
        ("Persoon", PERSONS, PERSON_ROLES, "Rol"),
        ("Contactpersoon", CONTACTS, None, None),
    ):
        for n, values in enumerate(rows, 1):
            expected.update({f"{legend} {n} · {label}": value for label, value in values.items()})
            if roles and role_label:
                expected[f"{legend} {n} · {role_label}"] = roles[n - 1]
    for n in range(1, len(PERSONS) + 1):
        expected[f"Persoon {n} · Niet informeren"] = "ja" if n == 2 else "nee"
    for n, (trigger, action, actor) in enumerate(SHOWN_ORDER, 1):
        expected.update(
            {
                f"Afspraak {n} · Wanneer": trigger,
                f"Afspraak {n} · Wat te doen": action,
                f"Afspraak {n} · Door wie": actor,
            }
        )
    assert {key: typed.get(key) for key in expected} == expected


def test_registrant_creates_a_plan_fixes_errors_and_finds_it_in_the_list(
    app, page, live_server, make_org, make_user, browser_login, artifacts
):
    # Given a jeugdbeschermer, logged in with password and authenticator code
    registrant = make_user(roles=("registrant",), org=make_org("Jeugdbescherming Noord", "youth_protection"))
    introduce(app, registrant, "Joke Beschermer")
    browser_login(page, live_server, registrant)

    # When they open a new handelingskader from the list
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Handelingskaders").click()
    page.get_by_role("link", name="+ Nieuw handelingskader").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nieuw handelingskader")

    # And fill in the general part, with a validity too far ahead
    too_late = today() + relativedelta(months=7)
    valid_until = today() + timedelta(days=90)
    page.get_by_label("Titel").fill("Gezin Testman")
    page.get_by_label("Samenvatting voor de meldkamer").fill("Vader dreigt bij escalatie met een mes.")
    page.get_by_label("Geldig tot").fill(too_late.isoformat())
    page.get_by_label("Intiem terreur").check()
    page.get_by_label("Wapenbezit").check()
    page.get_by_label("Doodsbedreiging").check()
    page.get_by_label("Regiehouder: naam").fill("J. Beschermer")
    page.get_by_label("Regiehouder: telefoon").fill("088-1234567")

    # And two addresses, four persons (the father must not be informed), five agreements,
    # adding each row with its button
    for index, values in enumerate(ADDRESSES):
        legend = f"Adres {index + 1}"
        address = row(page, legend) if index == 0 else add_row(page, "+ Adres toevoegen", legend)
        fill_row(address, values)
        address.get_by_label("Soort adres").select_option(label=ADDRESS_ROLES[index])
    for index, values in enumerate(PERSONS):
        legend = f"Persoon {index + 1}"
        person = row(page, legend) if index == 0 else add_row(page, "+ Persoon toevoegen", legend)
        fill_row(person, values)
        person.get_by_label("Rol").select_option(label=PERSON_ROLES[index])
    row(page, "Persoon 2").get_by_label("Niet informeren").check()
    row(page, "Persoon 2").get_by_label("Reden").fill(DNI_REASON)
    for index, (trigger, action, actor) in enumerate(AGREEMENTS):
        legend = f"Afspraak {index + 1}"
        agreement = row(page, legend) if index == 0 else add_row(page, "+ Afspraak toevoegen", legend)
        agreement.get_by_label("Wanneer").fill(trigger)
        agreement.get_by_label("Wat te doen").fill(action)
        agreement.get_by_label("Door wie").select_option(label=actor)
    for index, values in enumerate(CONTACTS):
        contact = row(page, f"Contactpersoon {index + 1}")
        fill_row(contact, values)
        contact.get_by_label("Bereikbaar", exact=True).select_option(label="24/7 (dag en nacht)")

    # And move the last agreement up one place
    page.get_by_role("button", name="Afspraak 5 omhoog").click()
    expect(row(page, "Afspraak 4")).to_be_in_viewport()
    expect(row(page, "Afspraak 4").get_by_label("Wat te doen")).to_have_value(AGREEMENTS[4][1])
    expect(row(page, "Afspraak 5").get_by_label("Wat te doen")).to_have_value(AGREEMENTS[3][1])

    # And press Enter in a text field
    row(page, "Adres 2").get_by_label("Plaats").press("Enter")

    # Then the form was saved, not a row added: it comes back refused, every row still there
    expect(page.get_by_role("alert")).to_contain_text("Het handelingskader is nog niet opgeslagen")
    expect(page).to_have_url(f"{live_server.url}/plans/new")
    expect_rows(page, "Adres", 2)
    expect_rows(page, "Persoon", 4)
    expect_rows(page, "Afspraak", 5)

    # And each error is in Dutch next to the field that caused it
    postcode = row(page, "Adres 2").get_by_label("Postcode")
    expect(postcode).to_have_attribute("aria-invalid", "true")
    expect(postcode).to_have_accessible_description(POSTCODE_ERROR)
    expect(postcode.locator("xpath=..")).to_contain_text(POSTCODE_ERROR)
    until = page.get_by_label("Geldig tot")
    expect(until).to_have_accessible_description(VALIDITY_ERROR)
    expect(until.locator("xpath=..")).to_contain_text(VALIDITY_ERROR)
    expect(page.locator("p.error")).to_have_count(2)

    # And everything typed is still there, in the order it was put
    expect(page.get_by_label("Titel")).to_have_value("Gezin Testman")
    expect(until).to_have_value(too_late.isoformat())
    expect(page.get_by_label("Wapenbezit")).to_be_checked()
    expect(page.get_by_label("Intiem terreur")).to_be_checked()
    assert_rows_kept(page)
    page.screenshot(path=artifacts / "create-plan.png", full_page=True)

    # When they correct both fields and save
    postcode.fill("9402 cd")
    until.fill(valid_until.isoformat())
    page.get_by_role("button", name="Opslaan").click()

    # Then they land on the plan, agreements in the order they put them
    expect(page.get_by_role("heading", level=1)).to_have_text("Gezin Testman")
    expect(page.get_by_role("status")).to_contain_text("Het handelingskader is opgeslagen.")
    agreement_rows = page.locator("table.agreements tbody tr")
    expect(agreement_rows).to_have_count(5)
    for index, (trigger, action, actor) in enumerate(SHOWN_ORDER):
        expect(agreement_rows.nth(index).locator("td")).to_have_text(
            [str(index + 1), trigger, action, actor, ""]
        )

    # And the father is marked: he must not learn of the plan
    father = card(page, "Personen").locator("li.dni")
    expect(father).to_have_count(1)
    expect(father).to_contain_text("Sam Testman")
    expect(father).to_contain_text("Niet informeren — deze persoon mag niet van het handelingskader weten")
    signals = card(page, "Risicosignalen").get_by_role("listitem")
    expect(signals).to_have_text(["Wapenbezit", "Doodsbedreiging"])
    addresses = card(page, "Adressen").get_by_role("listitem")
    expect(addresses).to_have_text(
        [
            re.compile(r"^Verzonnenstraat 14, 9401 AB Testdorp\s+Woonadres$"),
            re.compile(r"^Opvanglaan 3 A, 9402 CD Elders\s+Opvangadres \(veilig adres\)$"),
        ]
    )
    expect(page.locator("p.meta")).to_contain_text(f"tot en met {dutch.long_date(valid_until)}")

    # When they go back to the list
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Handelingskaders").click()

    # Then the plan is listed: active, both addresses, valid until the chosen day
    listed = page.locator("#plans tbody tr")
    expect(listed).to_have_count(1)
    expect(listed.locator("td")).to_have_text(
        ["Gezin Testman", "9401 AB 14\n9402 CD 3A", "Actief", dutch.long_date(valid_until), "0", "0"],
        use_inner_text=True,
    )
    page.screenshot(path=artifacts / "plans-list.png", full_page=True)
    listed.get_by_role("link", name="Gezin Testman").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gezin Testman")
