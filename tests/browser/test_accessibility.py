"""The main pages hold to WCAG as axe-core checks it (the rules of WCAG 2.1 A and AA, which Dutch
government services must meet): an operator with a screen reader or only a keyboard, a
registrant on a phone, a privacy officer with low vision."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.family import create_plan, network

INCIDENT = "P-2026-0412"
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def violations(page: Page, name: str, artifacts: Path) -> list[str]:
    """axe-core on the page as it is now. -> one line per violated rule, with where."""
    results = Axe().run(page, options=WCAG)
    assert results.response["passes"], f"{name}: axe-core checked nothing"
    found = [
        f"{name}: {violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:3])
        for violation in results.response["violations"]
    ]
    if found:
        (artifacts / f"axe-{name}.txt").write_text(results.generate_report())
    return found


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 800}, {"width": 390, "height": 844}])
def test_the_main_pages_have_no_accessibility_violations(
    app,
    client,
    new_page: Callable[[], Page],
    live_server,
    make_org,
    make_user,
    auth_headers,
    browser_login,
    artifacts,
    viewport,
):
    people = network(app, make_org, make_user)
    plan = create_plan(client, auth_headers(people.registrant), title="Gezin Testveen")
    found: list[str] = []

    # the login, and the control room's lookup page with a result
    operator = new_page()
    operator.set_viewport_size(viewport)
    operator.goto(f"{live_server.url}/login")
    found += violations(operator, "login", artifacts)
    browser_login(operator, live_server, people.responder)
    operator.goto(f"{live_server.url}/raadplegen")
    found += violations(operator, "raadplegen", artifacts)
    operator.get_by_label("Meldingnummer").fill(INCIDENT)
    operator.get_by_label("Adres, naam of telefoonnummer").fill("9401AB 14")
    operator.get_by_role("button", name="Zoeken").click()
    expect(operator.locator("article.plan-result")).to_have_count(1)
    found += violations(operator, "raadplegen-resultaat", artifacts)
    operator.get_by_role("link", name="Inzet registreren").first.click()
    expect(operator.get_by_role("heading", level=1)).to_be_visible()
    found += violations(operator, "inzet", artifacts)

    # the registrant's pages: home, the plans, one plan, its form, the feedback inbox
    registrant = new_page()
    registrant.set_viewport_size(viewport)
    browser_login(registrant, live_server, people.registrant)
    found += violations(registrant, "start", artifacts)
    for name, path in [
        ("handelingskaders", "/plans"),
        ("handelingskader", f"/plans/{plan['id']}"),
        ("handelingskader-wijzigen", f"/plans/{plan['id']}/edit"),
        ("terugkoppeling", "/terugkoppeling"),
    ]:
        registrant.goto(f"{live_server.url}{path}")
        found += violations(registrant, name, artifacts)

    # the coordinator's accounts and Monitoring
    coordinator = new_page()
    coordinator.set_viewport_size(viewport)
    browser_login(coordinator, live_server, people.coordinator)
    for name, path in [("accounts", "/accounts"), ("monitoring", "/monitoring")]:
        coordinator.goto(f"{live_server.url}{path}")
        found += violations(coordinator, name, artifacts)

    assert found == []
