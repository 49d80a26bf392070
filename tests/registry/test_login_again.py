"""Never lose work to the idle timeout: a form submitted after the session lapsed asks for
password and code in place and then completes what was submitted; a login lands where the
user was going, an operator on the lookup page."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from tests.browser.family import create_plan
from tests.conftest import csrf_from, fresh_code

START = datetime(2026, 3, 2, 2, 50, tzinfo=UTC)
INCIDENT = "P-2026-0412"


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def hidden_fields(page: str) -> list[tuple[str, str]]:
    """The hidden inputs of a page, in order, as the browser would send them."""
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    return [(name, html.unescape(value)) for name, value in found]


def lapsed_lookup(client: FlaskClient, clock: time_machine.Coordinates, text: str) -> tuple[str, str]:
    """Open the lookup page, let 31 minutes pass, then submit a search. -> the answer's page."""
    page = client.get("/raadplegen").get_data(as_text=True)
    clock.shift(timedelta(minutes=31))
    answer = client.post(
        "/raadplegen", data={"incident_ref": INCIDENT, "q": text, "csrf_token": csrf_from(page)}
    )
    assert answer.status_code == 401
    return answer.get_data(as_text=True), answer.headers.get("Cache-Control", "")


def test_a_search_after_the_idle_timeout_completes_after_password_and_code(
    app, client, make_org, make_user, auth_headers, web_login, clock
):
    # Given a wijkteam's plan at 9401 AB 14 and an operator who logged in and then took a long call
    registrant = make_user(roles=("registrant",), org=make_org("Wijkteam Oost"))
    create_plan(client, auth_headers(registrant), title="Gezin Testveen")
    operator = make_user(roles=("responder",), org=make_org("Meldkamer Noord", kind="police"))
    browser = app.test_client()
    web_login(browser, operator)

    # When they submit a search 31 minutes later
    page, cache = lapsed_lookup(browser, clock, "9401AB 14")

    # Then they are asked for password and code in place, and what they typed travels in the page
    assert "Opnieuw inloggen" in page
    assert "Wat u verstuurde is niet verloren" in page
    carried = dict(hidden_fields(page))
    assert carried["target"] == "/raadplegen"
    assert carried["f:incident_ref"] == INCIDENT
    assert carried["f:q"] == "9401AB 14"
    assert "no-store" in cache

    # When they log in there with both factors
    form = [*hidden_fields(page), ("username", operator.username), ("password", operator.password)]
    resubmit = browser.post("/login/opnieuw", data=MultiDict([*form, ("code", fresh_code(app, operator))]))

    # Then the page sends the search on, with a new CSRF token, and it finds the plan
    assert resubmit.status_code == 200
    body = resubmit.get_data(as_text=True)
    assert 'action="/raadplegen"' in body
    again = hidden_fields(body)
    assert ("incident_ref", INCIDENT) in again
    assert ("q", "9401AB 14") in again
    answer = browser.post("/raadplegen", data=MultiDict(again))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert "Gezin Testveen" in answer.get_data(as_text=True)


def test_a_wrong_code_keeps_what_was_submitted_and_sends_nothing(
    app, client, make_org, make_user, web_login, clock
):
    operator = make_user(roles=("responder",), org=make_org("Meldkamer Noord", kind="police"))
    browser = app.test_client()
    web_login(browser, operator)
    page, _ = lapsed_lookup(browser, clock, "Kaya 1988")

    # When the code is wrong
    form = [*hidden_fields(page), ("username", operator.username), ("password", operator.password)]
    refused = browser.post("/login/opnieuw", data=MultiDict([*form, ("code", "000000")]))

    # Then the same page again with the error, what was typed still carried, and no session
    assert refused.status_code == 401
    body = refused.get_data(as_text=True)
    assert "Gebruikersnaam, wachtwoord of code klopt niet" in body
    assert ("f:q", "Kaya 1988") in hidden_fields(body)
    assert browser.get("/raadplegen").status_code == 302


@pytest.mark.parametrize(
    "target", ["https://elders.example/raadplegen", "//elders.example/x", "/login", "/nergens"]
)
def test_the_form_goes_on_only_to_a_page_of_this_app(app, make_org, make_user, web_login, clock, target):
    operator = make_user(roles=("responder",), org=make_org("Meldkamer Noord", kind="police"))
    browser = app.test_client()
    web_login(browser, operator)
    page, _ = lapsed_lookup(browser, clock, "9401AB 14")
    form = [(name, target if name == "target" else value) for name, value in hidden_fields(page)]
    form += [("username", operator.username), ("password", operator.password)]
    refused = browser.post("/login/opnieuw", data=MultiDict([*form, ("code", fresh_code(app, operator))]))
    assert refused.status_code == 400


def test_an_operator_lands_on_the_lookup_page(app, make_org, make_user, web_login):
    operator = make_user(roles=("responder",), org=make_org("Meldkamer Noord", kind="police"))
    assert web_login(app.test_client(), operator).location == "/raadplegen"
    # a registrant (and anyone with more than the one thing to do) lands on the home page
    registrant = make_user(roles=("registrant",), org=make_org("Wijkteam Oost"))
    assert web_login(app.test_client(), registrant).location == "/"


def test_a_page_asked_for_while_logged_out_opens_after_the_login(app, make_org, make_user, web_login):
    registrant = make_user(roles=("registrant",), org=make_org("Wijkteam Oost"))
    browser = app.test_client()
    asked = browser.get("/terugkoppeling?alleen=open")
    assert asked.status_code == 302
    assert asked.location == "/login"
    # the path is kept, not the query string (a search may be in it)
    assert web_login(browser, registrant).location == "/terugkoppeling"
