"""The lookup page's way to put a melding on record (issue 16), as Given/When/Then: a lookup that
found no handelingskader offers "Melding registreren", with the meldingnummer and the time of the
lookup carried over; the melding reaches the region's Veilig Thuis; the time of the call on either
report form is the time of the lookup, never of opening the form."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from registry.core.db import db as database
from registry.core.models import Report, User
from tests.conftest import csrf_from
from tests.feedback.conftest import People, amsterdam, clock_at
from tests.feedback.test_meldingen import veilig_thuis  # noqa: F401 (a fixture)

NIGHT = amsterdam(2026, 3, 16, 2, 30)
MORNING = amsterdam(2026, 3, 16, 9, 15)


def value_of(page: str, field: str) -> str:
    found = re.search(rf'id="{field}" name="{field}" type="[^"]+" value="([^"]*)"', page)
    assert found, f"no {field} on the page"
    return html.unescape(found.group(1))


def search(client: FlaskClient, incident_ref: str, text: str) -> str:
    page = client.get("/raadplegen")
    answer = client.post(
        "/raadplegen",
        data={"incident_ref": incident_ref, "q": text, "csrf_token": csrf_from(page.get_data(as_text=True))},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_data(as_text=True)


def test_a_night_lookup_without_plan_is_registered_in_the_morning_as_a_night_melding(
    app: Flask,
    people: People,
    veilig_thuis: User,  # noqa: F811 (the fixture imported above)
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given an operator who found no handelingskader at 02.30
    with clock_at(NIGHT):
        web_login(client, people.responder)
        found = search(client, "P-2026-0316", "9999 ZZ 1")
    assert "Geen handelingskader gevonden" in found
    link = re.search(r'href="(/raadplegen/melding\?lookup_id=[^"]+)"[^>]*>Melding registreren<', found)
    assert link, "no Melding registreren on the no-match page"

    # When they open the form at 09.15 (logged in again: the night's session has timed out)
    with clock_at(MORNING):
        web_login(client, people.responder)
        form = client.get(html.unescape(link.group(1)))
        page = form.get_data(as_text=True)
        # Then it carries the meldingnummer and the time of the lookup, not of now
        assert form.status_code == 200
        assert "<h1>Melding registreren</h1>" in page
        assert value_of(page, "incident_ref") == "P-2026-0316"
        assert value_of(page, "occurred_at") == "2026-03-16T02:30"
        assert "Afspraken" not in page
        # When they send it with what was done
        lookup_id = re.search(r'name="lookup_id" value="([^"]+)"', page)
        assert lookup_id
        sent = client.post(
            "/raadplegen/melding",
            data={
                "csrf_token": csrf_from(page),
                "idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1),  # type: ignore[union-attr]
                "lookup_id": lookup_id.group(1),
                "incident_ref": "P-2026-0316",
                "occurred_at": "2026-03-16T02:30",
                "mode": "on_site_intervention",
                "responders": ["police", "veilig_thuis"],
                "actions": [],
                "violence_type": "partner_violence",
                "narrative": "Buren belden; ter plaatse rustig, vrouw en twee kinderen.",
            },
        )
        # Then it is on record as a night melding without a plan, for the region's VT
        assert sent.status_code == 302, sent.get_data(as_text=True)
        done = client.get(sent.headers["Location"]).get_data(as_text=True)
        assert "Melding geregistreerd" in done
        assert "Veilig Thuis in uw regio" in done
    with app.app_context():
        report = database.session.scalars(select(Report)).one()
        assert report.plan_id is None
        assert str(report.lookup_id) == lookup_id.group(1)
        assert report.occurred_at == NIGHT
    feedback = client.get("/api/v1/feedback", headers=auth_headers(veilig_thuis)).get_json()["items"]
    assert [item["report"]["id"] for item in feedback] == [str(report.id)]


def test_the_plan_report_form_also_defaults_to_the_time_of_the_lookup(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    client: FlaskClient,
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    with clock_at(NIGHT):
        plan = create_plan()
        postcode, number = plan["addresses"][0]["postcode"], plan["addresses"][0]["house_number"]
        web_login(client, people.responder)
        found = search(client, "P-2026-0317", f"{postcode} {number}")
    link = re.search(r'href="(/raadplegen/inzet\?[^"]+)"', found)
    assert link
    with clock_at(MORNING):
        web_login(client, people.responder)
        page = client.get(html.unescape(link.group(1))).get_data(as_text=True)
    assert value_of(page, "occurred_at") == "2026-03-16T02:30"


def test_the_melding_form_is_only_for_the_one_who_looked_up_within_12_hours(
    app: Flask, people: People, client: FlaskClient, web_login: Callable[[FlaskClient, User], Any]
) -> None:
    with clock_at(NIGHT):
        web_login(client, people.responder)
        found = search(client, "P-2026-0318", "9999 ZZ 1")
    link = html.unescape(re.search(r'href="(/raadplegen/melding\?lookup_id=[^"]+)"', found).group(1))  # type: ignore[union-attr]
    colleague = app.test_client()
    with clock_at(MORNING):
        web_login(colleague, people.other_responder)
        assert colleague.get(link).status_code == 404
    with clock_at(amsterdam(2026, 3, 16, 14, 31)):
        web_login(client, people.responder)
        assert client.get(link).status_code == 404
