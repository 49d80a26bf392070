"""The plan as the practice writes it (issue 18): a person's language and why they must not be
informed, lopende maatregelen, contacts reachable by the clock, an agreement's contact and several
family profiles; through the API and the plan form, and the owner's reminders."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from registry.plans import availability
from tests.conftest import csrf_from
from tests.registry.plan_data import API, agreement, contact, measure, person, plan_body, today, window

ALWAYS = [window([1, 2, 3, 4, 5, 6, 7], "00:00", "24:00")]
OFFICE = [window([1, 2, 3, 4, 5], "09:00", "17:00")]
OUT_OF_HOURS = [window([1, 2, 3, 4, 5, 6, 7], "17:00", "09:00"), window([6, 7], "09:00", "17:00")]
ZONE = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def registrant(make_user: Any) -> Any:
    return make_user(roles=("registrant",))


@pytest.fixture
def headers(registrant: Any, auth_headers: Any) -> dict[str, str]:
    return auth_headers(registrant)


def create(client: FlaskClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post(API, json=plan_body(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# --- the windows ---------------------------------------------------------------------------------


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in the week of Monday 7 December 2026 (day 1 = Monday), Dutch time."""
    return datetime(2026, 12, 6 + day, hour, minute, tzinfo=ZONE)


def test_a_window_past_midnight_covers_the_next_morning_and_says_when_it_opens():
    evenings = [window([5], "17:00", "09:00")]  # Friday evening to Saturday morning
    assert availability.reachable_at(evenings, at(5, 23, 30))
    assert availability.reachable_at(evenings, at(6, 8, 59))
    assert not availability.reachable_at(evenings, at(6, 9, 0))
    assert not availability.reachable_at(evenings, at(5, 16, 59))
    assert availability.next_reachable(evenings, at(6, 10)) == at(5, 17) + timedelta(days=7)
    # Sunday night runs into Monday morning: the week wraps
    sunday = [window([7], "22:00", "06:00")]
    assert availability.reachable_at(sunday, at(1, 3))
    assert availability.next_reachable(OFFICE, at(5, 18)) == at(1, 9) + timedelta(days=7)


def test_the_presets_say_who_is_there_at_night():
    assert availability.reachable_all_night(ALWAYS)
    assert availability.reachable_all_night(OUT_OF_HOURS)
    assert not availability.reachable_all_night(OFFICE)
    # every night but Sunday's is not every night
    assert not availability.reachable_all_night([window([1, 2, 3, 4, 5, 6], "17:00", "09:00")])
    assert availability.describe(OUT_OF_HOURS) == "17.00–09.00 en weekend"
    assert availability.describe([window([1, 3], "18:00", "08:00")]) == "ma, wo 18.00–08.00"


# --- one is none, counted at night ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("windows", "warned"),
    [
        ((ALWAYS, ALWAYS), False),
        ((ALWAYS, OUT_OF_HOURS), False),
        ((ALWAYS, OFFICE), True),  # two rows, one reachable at night
        ((OFFICE, OFFICE), True),
        ((ALWAYS, []), True),  # the second did not say when
    ],
)
def test_one_is_none_counts_the_contacts_reachable_at_night(client, headers, windows, warned):
    plan = create(
        client,
        headers,
        contacts=[contact(name=f"Contact {n}", availability=w) for n, w in enumerate(windows)],
    )
    codes = [warning["code"] for warning in plan["warnings"]]
    assert ("one_is_none" in codes) is warned


# --- what is stored and given back ---------------------------------------------------------------


def test_every_new_field_is_stored_and_given_back(client, headers):
    plan = create(
        client,
        headers,
        family_profiles=["complex_divorce", "long_term_care"],
        family_profile=None,
        persons=[
            person(language="Arabisch", interpreter_needed=True),
            person(
                first_name="Sam", role="perpetrator", do_not_inform=True, do_not_inform_reason="Zoekt haar."
            ),
            person(first_name="Ali", role="perpetrator", perpetrator_may_know=True),
        ],
        contacts=[
            contact(
                name="Tante Ans", availability=OUT_OF_HOURS, knows_plan=True, tested_on=today().isoformat()
            ),
            contact(name="Piket", availability=[window([3, 1], "9.00", "17:00")], knows_plan=False),
        ],
        agreements=[agreement(action="Kinderen naar tante Ans", contact_number=1), agreement()],
        measures=[
            measure(note="Tien dagen"),
            measure(kind="custody", holder="moeder", ends_on=None),
        ],
    )
    shown = client.get(f"{API}/{plan['id']}", headers=headers).get_json()
    assert shown["family_profiles"] == ["complex_divorce", "long_term_care"]
    assert shown["family_profile"] == "complex_divorce"  # the older field: the first
    noor, sam, ali = shown["persons"]
    assert (noor["language"], noor["interpreter_needed"]) == ("Arabisch", True)
    assert (sam["do_not_inform_reason"], sam["perpetrator_may_know"]) == ("Zoekt haar.", False)
    assert (ali["do_not_inform"], ali["perpetrator_may_know"]) == (False, True)
    ans, piket = shown["contacts"]
    assert ans["availability"] == OUT_OF_HOURS
    assert (ans["knows_plan"], ans["tested_on"]) == (True, today().isoformat())
    assert piket["availability"] == [window([1, 3], "09:00", "17:00")]  # days sorted, time written out
    assert [a["contact_number"] for a in shown["agreements"]] == [1, None]
    assert [(m["kind"], m["holder"], m["ends_on"]) for m in shown["measures"]] == [
        ("temporary_restraining_order", "", measure()["ends_on"]),
        ("custody", "moeder", None),
    ]
    # what a GET gave back is a valid update (the version aside)
    again = client.put(f"{API}/{plan['id']}", json={**shown, "version": 1}, headers=headers)
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["measures"][1]["holder"] == "moeder"


def test_the_older_single_profile_is_a_list_of_one(client, headers):
    plan = create(client, headers, family_profile="long_term_care")
    assert (plan["family_profiles"], plan["family_profile"]) == (["long_term_care"], "long_term_care")
    plan = create(client, headers, family_profile=None)
    assert (plan["family_profiles"], plan["family_profile"]) == ([], None)


def test_a_reason_without_do_not_inform_is_not_kept(client, headers):
    plan = create(client, headers, persons=[person(do_not_inform_reason="Vergeten weg te halen")])
    assert plan["persons"][0]["do_not_inform_reason"] == ""


# --- the plan form -------------------------------------------------------------------------------


def form_data(**overrides: str | list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Gezin Formulier",
        "valid_until": (today() + timedelta(days=30)).isoformat(),
        "owner-name": "J. Beschermer",
        "owner-phone": "088-1234567",
        "family_profiles": ["intimate_terror", "complex_divorce"],
        "persons-0-surname": "Testveen",
        "persons-0-role": "victim",
        "persons-0-language": "Pools",
        "persons-0-interpreter_needed": "1",
        "persons-1-surname": "Testman",
        "persons-1-role": "perpetrator",
        "persons-1-do_not_inform": "1",
        "persons-1-do_not_inform_reason": "Zoekt het gezin.",
        "agreements-0-trigger": "Kinderen moeten weg",
        "agreements-0-action": "Naar tante Ans",
        "agreements-0-actor": "network",
        "agreements-0-contact_number": "2",
        "contacts-0-name": "Piket",
        "contacts-0-phone": "088-7654321",
        "contacts-0-preset": "out_of_hours",
        "contacts-1-name": "Tante Ans",
        "contacts-1-phone": "06-87654321",
        "contacts-1-preset": "custom",
        "contacts-1-days": ["6", "7"],
        "contacts-1-from": "09:00",
        "contacts-1-to": "21:00",
        "contacts-1-knows_plan": "1",
        "contacts-1-tested_on": today().isoformat(),
        "measures-0-kind": "contact_ban",
        "measures-0-starts_on": today().isoformat(),
        "measures-0-ends_on": (today() + timedelta(days=90)).isoformat(),
    }
    data.update(overrides)
    return data


def post_form(client: FlaskClient, data: dict[str, Any], path: str = "/plans/new") -> Any:
    token = csrf_from(client.get(path).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token, "save": "1"})


def test_the_form_stores_the_new_fields_and_shows_them_on_the_plan(
    app, client, registrant, web_login, headers
):
    web_login(client, registrant)
    saved = post_form(client, form_data())
    assert saved.status_code == 302, saved.get_data(as_text=True)
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Gezinsprofielen: Intiem terreur · Complexe conflictscheiding" in page
    assert "Tolk nodig" in page
    assert "Taal: Pools" in page
    assert "Waarom: Zoekt het gezin." in page
    assert "Contactverbod" in page
    assert "17.00–09.00 en weekend" in page
    assert "za, zo 09.00–21.00" in page  # two days: each named
    # the agreement names the aunt, by the place she had on the form
    plan_id = saved.headers["Location"].rsplit("/", 1)[1]
    stored = client.get(f"{API}/{plan_id}", headers=headers).get_json()
    assert stored["agreements"][0]["contact_number"] == 2
    assert stored["contacts"][1]["name"] == "Tante Ans"
    # one of the two is there at night: one is none
    assert "Minder dan twee contactpersonen zijn elke nacht" in page


def test_the_form_refuses_what_the_api_refuses_next_to_the_field(client, registrant, web_login):
    web_login(client, registrant)
    refused = post_form(
        client,
        form_data(
            **{
                "persons-0-role": "",
                "persons-1-do_not_inform_reason": "",
                "persons-2-surname": "Pleger Twee",
                "persons-2-role": "perpetrator",
                "measures-0-ends_on": (today() - timedelta(days=1)).isoformat(),
                "contacts-1-to": "25:00",
            }
        ),
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    for field in (
        "persons-0-role",
        "persons-1-do_not_inform_reason",
        "persons-2-perpetrator_may_know",
        "measures-0-ends_on",
        "contacts-1-to",
    ):
        assert f'id="{field}-error"' in html, field
    assert "Bevestig dat de pleger van het handelingskader mag weten" in html
    assert "De einddatum ligt vóór de begindatum" in html
    # what was typed is kept
    assert 'value="Pleger Twee"' in html


def test_a_new_person_has_no_role_until_one_is_chosen(client, registrant, web_login):
    web_login(client, registrant)
    html = client.get("/plans/new").get_data(as_text=True)
    role = html.split('id="persons-0-role"', 1)[1].split("</select>", 1)[0]
    assert '<option value="">(kies een rol)</option>' in role
    assert "selected" not in role


def test_moving_a_contact_keeps_the_agreement_with_its_contact(client, registrant, web_login):
    web_login(client, registrant)
    token = csrf_from(client.get("/plans/new").get_data(as_text=True))
    moved = client.post(
        "/plans/new", data={**form_data(), "csrf_token": token, "row_action": "up:contacts:1"}
    )
    html = moved.get_data(as_text=True)
    # the aunt is now contact 1, and the agreement still names her
    assert html.index('value="Tante Ans"') < html.index('value="Piket"')
    chosen = html.split('id="agreements-0-contact_number"', 1)[1].split("</select>", 1)[0]
    assert '<option value="1" selected>Contactpersoon 1: Tante Ans</option>' in chosen


# --- reminders to the owner ----------------------------------------------------------------------


def test_a_number_not_tested_for_three_months_is_brought_up_on_the_plan_and_home_page(
    client, headers, registrant, web_login
):
    old = (today() - timedelta(days=95)).isoformat()
    plan = create(
        client,
        headers,
        title="Gezin Ongetest",
        contacts=[contact(name="Tante Ans", tested_on=old), contact(name="Piket", tested_on=None)],
    )
    create(client, headers, title="Gezin Getest")
    web_login(client, registrant)
    home = client.get("/").get_data(as_text=True)
    assert "Test de nummers van de contactpersonen" in home
    assert "Gezin Ongetest" in home
    assert "Gezin Getest" not in home
    page = client.get(f"/plans/{plan['id']}").get_data(as_text=True)
    assert "Test de nummers: Tante Ans, Piket" in page
