"""Terugkoppeling with several items, in the real browser, on a desktop (1366×800) and a phone
(390×844): the spoedmelding first and then the newest, the counts at the top that filter it,
the choice of a plan, and "Gelezen en opgepakt" that brings the worker back to the same choice,
at the item that followed. Screenshots are kept as artefacts."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.family import create_plan, look_up, network, report
from tests.registry.plan_data import address

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
VIEWPORTS = [{"width": 1366, "height": 800}, {"width": 390, "height": 844}]


def scene(app: Any, client: Any, make_org: Any, make_user: Any, auth_headers: Any) -> dict[str, Any]:
    """Two families of the wijkteam with five open items: a spoedmelding an hour ago, reports of
    two, three and five hours ago, and one of six days ago that is late."""
    people = network(app, make_org, make_user)
    owner, control_room = auth_headers(people.registrant), auth_headers(people.responder)
    aalst = create_plan(client, owner, title="Gezin Aalst", addresses=[address(house_number=21)])
    berg = create_plan(client, owner, title="Gezin Berg", addresses=[address(house_number=22)])
    now = datetime.now(AMSTERDAM)

    def item(plan: dict[str, Any], number: int, ago: timedelta, **extra: Any) -> str:
        lookup = look_up(client, control_room, plan, f"P-2026-07{number:02d}")
        return str(report(client, control_room, lookup, now - ago, **extra)["id"])

    ids = {
        "a1": item(aalst, 1, timedelta(days=6)),
        "b2": item(berg, 2, timedelta(hours=5)),
        "b1": item(berg, 3, timedelta(hours=3)),
        "a2": item(aalst, 4, timedelta(hours=2)),
        "a3": item(aalst, 5, timedelta(hours=1), actions=["arrest"]),
    }
    return {"people": people, "ids": ids, "aalst": aalst, "berg": berg}


def shown(page: Page, ids: dict[str, str]) -> list[str]:
    names = {value: key for key, value in ids.items()}
    found = page.locator("article.feedback-item").evaluate_all("cards => cards.map(card => card.id)")
    return [names.get(card.removeprefix("item-"), card) for card in found]


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["desktop", "phone"])
def test_filters_and_back_in_place_after_an_acknowledgement(
    app, client, page, live_server, make_org, make_user, auth_headers, browser_login, artifacts, viewport
):
    given = scene(app, client, make_org, make_user, auth_headers)
    ids = given["ids"]
    size = f"{viewport['width']}x{viewport['height']}"
    page.set_viewport_size(viewport)
    browser_login(page, live_server, given["people"].registrant)

    # The home page says how many items are open, and how many late
    counted = page.locator("#open-terugkoppeling")
    expect(counted).to_have_text("Terugkoppeling: 5 open, 1 te laat")
    counted.get_by_role("link", name=re.compile("open")).click()

    # Terugkoppeling: the spoedmelding first, then the newest; the counts at the top
    expect(page).to_have_url(f"{live_server.url}/terugkoppeling")
    assert shown(page, ids) == ["a3", "a2", "b1", "b2", "a1"]
    filters = page.locator("#filters")
    expect(filters.locator("#toon-open")).to_have_text("5 open")
    expect(filters.locator("#toon-te-laat")).to_have_text("1 te laat")
    expect(filters.locator("#toon-spoed")).to_have_text("1 spoed")
    page.screenshot(path=artifacts / f"feedback-inbox-{size}.png")

    # Te laat shows the late item only; Spoed the spoedmelding
    filters.locator("#toon-te-laat").click()
    expect(page).to_have_url(f"{live_server.url}/terugkoppeling?show=late")
    assert shown(page, ids) == ["a1"]
    page.locator("#toon-spoed").click()
    assert shown(page, ids) == ["a3"]
    page.locator("#toon-open").click()

    # A family chosen in the list: only its items, its id (not its name) in the address
    page.get_by_label("Handelingskader").select_option(label="Gezin Berg (2 open)")
    page.get_by_role("button", name="Toon").click()
    expect(page).to_have_url(f"{live_server.url}/terugkoppeling?plan={given['berg']['id']}")
    assert shown(page, ids) == ["b1", "b2"]
    page.get_by_label("Handelingskader").select_option(label="Alle handelingskaders")
    page.get_by_role("button", name="Toon").click()

    # Gelezen en opgepakt on the third item: back on the same list, at the item that followed
    third = page.locator(f"#item-{ids['b1']}")
    third.get_by_label("Notitie (wat pakt u op?)").fill("Moeder gebeld, huisbezoek morgen.")
    third.get_by_role("button", name="Gelezen en opgepakt").click()
    expect(page).to_have_url(f"{live_server.url}/terugkoppeling#item-{ids['b2']}")
    expect(page.get_by_role("status")).to_have_text("Gemarkeerd als gelezen en opgepakt.")
    assert shown(page, ids) == ["a3", "a2", "b2", "a1"]
    expect(page.locator(f"#item-{ids['b2']}")).to_be_in_viewport()
    expect(page.locator("#toon-open")).to_have_text("4 open")
    page.screenshot(path=artifacts / f"feedback-inbox-after-acknowledgement-{size}.png")

    # With a family chosen, the choice is kept too
    page.goto(f"{live_server.url}/terugkoppeling?plan={given['aalst']['id']}")
    assert shown(page, ids) == ["a3", "a2", "a1"]
    second = page.locator(f"#item-{ids['a2']}")
    second.get_by_role("button", name="Gelezen en opgepakt").click()
    expect(page).to_have_url(f"{live_server.url}/terugkoppeling?plan={given['aalst']['id']}#item-{ids['a1']}")
    assert shown(page, ids) == ["a3", "a1"]
    expect(page.locator(f"#item-{ids['a1']}")).to_be_in_viewport()
    page.screenshot(path=artifacts / f"feedback-inbox-plan-after-acknowledgement-{size}.png")
