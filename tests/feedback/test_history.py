"""What happened before: a lookup shows, per plan, how many meldingen it had and the day of the
last (counts and dates only), in the API answer and on the page, at the cost of one grouped query
for all the plans shown."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from registry.core.models import User
from tests.feedback.conftest import People, amsterdam, clock_at
from tests.feedback.test_feedback_queries import counting
from tests.registry.plan_data import address

SHARED_ADDRESS = {"postcode": "9401 AB", "house_number": 901}


def lookup(client: FlaskClient, headers: dict[str, str], incident_ref: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/lookups", json={"incident_ref": incident_ref, "address": SHARED_ADDRESS}, headers=headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(response.get_json())


def test_a_lookup_shows_how_many_meldingen_each_plan_had_and_when_the_last(
    app: Flask,
    client: FlaskClient,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    report_on: Callable[..., Any],
    auth_headers: Callable[[User], dict[str, str]],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given two plans at one address: one with three meldingen (the last on 12 November, reported
    # twice: still one melding), and one made since, with none
    with clock_at(amsterdam(2026, 10, 1, 12, 0)):
        busy = create_plan(title="Gezin Druk", addresses=[address(house_number=901)])
    for day, ref in ((3, "P-2026-0101"), (7, "P-2026-0102"), (12, "P-2026-0103")):
        with clock_at(amsterdam(2026, 11, day, 23, 0)):
            report_on(busy, occurred_at=amsterdam(2026, 11, day, 22, 30), incident_ref=ref)
    with clock_at(amsterdam(2026, 11, 12, 23, 30)):
        report_on(busy, occurred_at=amsterdam(2026, 11, 12, 22, 45), incident_ref="P-2026-0103")
    with clock_at(amsterdam(2026, 11, 15, 12, 0)):
        quiet = create_plan(
            title="Gezin Rustig", addresses=[address(house_number=901, house_number_suffix="A")]
        )

    # When the control room looks the address up
    with clock_at(amsterdam(2026, 11, 20, 2, 0)), counting(app) as statements:
        answer = lookup(client, auth_headers(people.responder), "P-2026-0200")

    # Then each match says what happened before: counts and a date, nothing else
    history = {match["plan"]["title"]: match["history"] for match in answer["matches"]}
    assert history == {
        "Gezin Druk": {"meldingen": 3, "last": "2026-11-12"},
        "Gezin Rustig": {"meldingen": 0, "last": None},
    }
    assert quiet["id"] in {match["plan"]["id"] for match in answer["matches"]}
    # And it took one grouped query for both plans
    grouped = [s for s in statements if "FROM meldingen" in s and "GROUP BY" in s]
    assert len(grouped) == 1

    # And the page says it in words
    with clock_at(amsterdam(2026, 11, 20, 2, 5)):
        browser = app.test_client()
        web_login(browser, people.responder)
        page = browser.post(
            "/raadplegen",
            data={"incident_ref": "P-2026-0201", "q": "9401 AB 901", "csrf_token": _csrf(browser)},
        )
    text = html.unescape(page.get_data(as_text=True))
    assert "3 eerdere meldingen, laatste 12 nov" in text
    assert "Geen eerdere meldingen" in text


def _csrf(browser: FlaskClient) -> str:
    from tests.conftest import csrf_from

    return csrf_from(browser.get("/raadplegen").get_data(as_text=True))
