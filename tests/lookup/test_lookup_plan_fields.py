"""What the control room sees of the plan as the practice writes it (issue 18): lopende
maatregelen until their end date, contacts in the order to call them now, an agreement with its
contact's number, a person's language and several family profiles; in the API and on the page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask.testing import FlaskClient

from tests.conftest import csrf_from
from tests.registry.plan_data import address, agreement, contact, measure, person, plan_body, today, window

LOOKUPS = "/api/v1/lookups"
PLANS = "/api/v1/plans"
ZONE = ZoneInfo("Europe/Amsterdam")
HOME = address(postcode="9401 AB", house_number=14, street="Kerkstraat", city="Assen")
OFFICE = [window([1, 2, 3, 4, 5], "09:00", "17:00")]
NIGHTS = [window([1, 2, 3, 4, 5, 6, 7], "17:00", "09:00"), window([6, 7], "09:00", "17:00")]


# tokens and web sessions expire: tests that move the clock log in after moving it


@pytest.fixture
def registrant(make_user: Any, make_org: Any) -> Any:
    return make_user(roles=("registrant",), org=make_org("Wijkteam Assen", kind="social_team"))


@pytest.fixture
def responder(make_user: Any, make_org: Any) -> Any:
    return make_user(roles=("responder",), org=make_org("Meldkamer Noord", kind="police"))


def at(moment: datetime) -> Any:
    return time_machine.travel(moment, tick=False)


def create(client: FlaskClient, plan_headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = plan_body(**{"addresses": [HOME], **overrides})
    response = client.post(PLANS, json=body, headers=plan_headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def shown(client: FlaskClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.post(
        LOOKUPS,
        json={"incident_ref": "P-2026-0001", "address": {"postcode": "9401AB", "house_number": 14}},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    (match,) = response.get_json()["matches"]
    return match["plan"]


def test_a_measure_is_shown_until_its_end_date_and_gone_on_it(client, registrant, responder, auth_headers):
    # Given a tijdelijk huisverbod ending in ten days, and gezag without an end
    ends = today() + timedelta(days=10)
    headers = auth_headers(responder)
    create(
        client,
        auth_headers(registrant),
        measures=[
            measure(ends_on=ends.isoformat(), note="Burgemeester"),
            measure(kind="custody", holder="moeder", ends_on=None),
        ],
    )
    # When the control room looks the address up today, Then both are there, beside the risks
    plan = shown(client, headers)
    assert [(m["kind"], m["ends_on"]) for m in plan["measures"]] == [
        ("temporary_restraining_order", ends.isoformat()),
        ("custody", None),
    ]
    assert list(plan).index("measures") == list(plan).index("risk_signals") + 1
    # When it looks on the day before the end date, Then it is still there
    midnight = datetime.combine(ends, datetime.min.time(), ZONE)
    with at(midnight - timedelta(minutes=30)):
        assert len(shown(client, auth_headers(responder))["measures"]) == 2
    # When it looks on the end date itself, just after midnight, Then only gezag is left
    with at(midnight + timedelta(minutes=1)):
        assert [m["kind"] for m in shown(client, auth_headers(responder))["measures"]] == ["custody"]


def test_contacts_come_in_the_order_to_call_them_now(client, registrant, responder, auth_headers):
    # Given an office-hours contact first, then one for nights and weekends, then one that did
    # not say, and an agreement naming the office-hours contact
    tuesday = datetime(2026, 12, 8, 20, 0, tzinfo=ZONE)
    with at(tuesday):
        create(
            client,
            auth_headers(registrant),
            contacts=[
                contact(name="Wijkteam", availability=OFFICE),
                contact(name="Piket", availability=NIGHTS),
                contact(name="Buurman", availability=[]),
            ],
            agreements=[agreement(action="Bel het wijkteam", contact_number=1)],
        )
    # When the control room looks at 03.00 on a Wednesday
    with at(datetime(2026, 12, 9, 3, 0, tzinfo=ZONE)):
        plan = shown(client, auth_headers(responder))
    # Then the night contact comes first, the one that did not say next, the office last, with
    # the moment it opens
    assert [(c["name"], c["reachable_now"]) for c in plan["contacts"]] == [
        ("Piket", True),
        ("Buurman", None),
        ("Wijkteam", False),
    ]
    assert datetime.fromisoformat(plan["contacts"][2]["next_reachable_at"]) == datetime(
        2026, 12, 9, 9, 0, tzinfo=ZONE
    )
    # And the agreement carries the contact it names, by name and number
    assert plan["agreements"][0]["contact"] == {"name": "Wijkteam", "phone": "06-87654321"}

    # When the same plan is looked up at 10.00 on that day, Then the office comes first
    with at(datetime(2026, 12, 9, 10, 0, tzinfo=ZONE)):
        plan = shown(client, auth_headers(responder))
    assert [c["name"] for c in plan["contacts"]] == ["Wijkteam", "Buurman", "Piket"]


def test_the_page_shows_measures_reachability_language_and_profiles(
    app, client, registrant, responder, auth_headers, web_login
):
    with at(datetime(2026, 12, 12, 2, 0, tzinfo=ZONE)):  # Saturday night
        create(
            client,
            auth_headers(registrant),
            family_profiles=["complex_divorce", "family_in_stress"],
            family_profile=None,
            persons=[person(language="Tigrinya", interpreter_needed=True)],
            contacts=[contact(name="Wijkteam", availability=OFFICE), contact(name="Tante Ans")],
            agreements=[agreement(action="Kinderen naar tante Ans", contact_number=2)],
            measures=[measure(kind="location_ban")],
        )
        web_login(client, responder)
        page = client.get("/raadplegen")
        answer = client.post(
            "/raadplegen",
            data={
                "incident_ref": "P-2026-1",
                "q": "9401 AB 14",
                "csrf_token": csrf_from(page.get_data(as_text=True)),
            },
        )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200, html
    assert "Lopende maatregelen:" in html
    assert "Locatieverbod" in html
    assert "Taal: Tigrinya" in html
    assert "Tolk nodig" in html
    assert "Gezinsprofielen: Complexe conflictscheiding · Gezin in de stress" in html
    # the aunt, reachable around the clock, is called first; the office is greyed, with when
    contacts = html.split('<ul class="plain contacts">', 1)[1].split("</ul>", 1)[0]
    assert contacts.index("Tante Ans") < contacts.index("Wijkteam")
    assert "Nu niet bereikbaar</strong>, weer vanaf maandag 09.00 uur" in html
    assert 'class="contact unreachable"' in html
    # the agreement shows the aunt's number in it
    assert "Bel Tante Ans: " in html
