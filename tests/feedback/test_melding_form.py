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
from tests.feedback.conftest import People, amsterdam, clock_at, report_body
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


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert found, f"no {name} on the page"
    return found.group(1)


def melding_form(client: FlaskClient, incident_ref: str) -> tuple[str, dict[str, str]]:
    """Look up an address nobody has a plan for and open "Melding registreren": the form's page,
    and what it sends of itself (CSRF token, idempotency key, lookup) with the meldingnummer."""
    found = search(client, incident_ref, "9999 ZZ 1")
    link = re.search(r'href="(/raadplegen/melding\?lookup_id=[^"]+)"', found)
    assert link, "no Melding registreren on the no-match page"
    page = client.get(html.unescape(link.group(1))).get_data(as_text=True)
    sent = {
        "csrf_token": csrf_from(page),
        "idempotency_key": hidden(page, "idempotency_key"),
        "lookup_id": hidden(page, "lookup_id"),
        "incident_ref": incident_ref,
    }
    return page, sent


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


# --- who hears: the region's Veilig Thuis, also of reports on a plan --------------------------------


def test_a_report_on_a_plan_reaches_the_owners_and_the_regions_veilig_thuis_too(
    app: Flask,
    people: People,
    veilig_thuis: User,  # noqa: F811 (the fixture imported above)
    make_org: Callable[..., Any],
    make_user: Callable[..., User],
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., dict[str, Any]],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    # Given a plan of the wijkteam, and a VT of another region
    other_vt = make_user(
        roles=("registrant",), org=make_org("Veilig Thuis Elders", kind="veilig_thuis", region="Elders")
    )
    with clock_at(MORNING):
        plan = create_plan()
        # When the police of region Noord report on it
        lookup = look_up(plan)
        report = client.post(
            "/api/v1/reports", json=report_body(lookup), headers=auth_headers(people.responder)
        ).get_json()

        # Then the owner and VT Noord each have it in their Terugkoppeling, nobody else
        def seen(user: User) -> list[str]:
            items = client.get("/api/v1/feedback", headers=auth_headers(user)).get_json()["items"]
            return [item["report"]["id"] for item in items if item["kind"] == "report"]

        assert seen(people.registrant) == [report["id"]]
        assert seen(veilig_thuis) == [report["id"]]
        assert seen(other_vt) == []
        assert seen(people.stranger_registrant) == []
        # and VT acknowledges it for itself: the owner's item stays open
        done = client.post(
            f"/api/v1/feedback/{report['id']}/acknowledge",
            json={"note": "Bekend bij VT"},
            headers=auth_headers(veilig_thuis),
        )
        assert done.status_code in (200, 201), done.get_data(as_text=True)
        assert seen(veilig_thuis) == []
        assert seen(people.registrant) == [report["id"]]
        refused = client.post(
            f"/api/v1/feedback/{report['id']}/acknowledge", json={}, headers=auth_headers(other_vt)
        )
        assert refused.status_code == 404


def test_a_melding_that_reaches_nobody_is_shown_to_the_reporting_coordinator(
    app: Flask,
    make_org: Callable[..., Any],
    make_user: Callable[..., User],
    client: FlaskClient,
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given a control room in a region that names no Veilig Thuis
    organisation = make_org("Meldkamer Oost", kind="police", region="Oost")
    operator = make_user(roles=("responder",), org=organisation)
    coordinator = make_user(roles=("coordinator",), org=organisation)
    with clock_at(NIGHT):
        web_login(client, operator)
        _page, form = melding_form(client, "P-2026-0401")
        # When the operator registers the melding
        sent = client.post(
            "/raadplegen/melding",
            data={
                **form,
                "occurred_at": "2026-03-16T02:30",
                "mode": "phone_advice",
                "responders": ["police"],
            },
        )
        assert sent.status_code == 302, sent.get_data(as_text=True)
        # Then they are told that nobody reads it, and that it counts
        done = html.unescape(client.get(sent.headers["Location"]).get_data(as_text=True))
        assert "nog geen Veilig Thuis aangewezen" in done
        assert "terugkoppeldag" not in done
    # and their coordinator sees it on Te laat, under Meldingen zonder ontvanger
    with clock_at(MORNING):
        boss = app.test_client()
        web_login(boss, coordinator)
        late = html.unescape(boss.get("/terugkoppeling/te-laat").get_data(as_text=True))
    assert "Meldingen zonder ontvanger" in late
    assert "P-2026-0401" in late
    assert operator.display_name in late


def test_the_melding_sheet_and_gemeente_are_asked_on_the_form_and_stored(
    app: Flask,
    people: People,
    veilig_thuis: User,  # noqa: F811 (the fixture imported above)
    client: FlaskClient,
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given region Noord's gemeenten
    with app.app_context():
        from registry.regions import operations as regions

        regions.add_gemeente(database.session, "Noord", "Testdorp", 12000)
        regions.add_gemeente(database.session, "Noord", "Verzonnenstad", 30000)
        database.commit()
    with clock_at(NIGHT):
        web_login(client, people.responder)
        page, form = melding_form(client, "P-2026-0402")
        assert '<option value="Verzonnenstad">' in page
        form = {
            **form,
            "occurred_at": "2026-03-16T02:30",
            "mode": "phone_advice",
            "responders": ["police", "veilig_thuis"],
            "reached_after_minutes": "veel",
            "answered_by": "Veilig Thuis",
            "needed_mode": "on_site_intervention",
            "hours_spent": "1,5",
            "gemeente": "Verzonnenstad",
        }
        # When the minutes are not a number
        wrong = client.post("/raadplegen/melding", data=form)
        # Then the field says so, and what was typed stays
        assert wrong.status_code == 422
        text = wrong.get_data(as_text=True)
        assert 'id="reached_after_minutes-error"' in text
        assert 'value="1,5"' in text
        assert '<option value="Verzonnenstad" selected>' in text
        # When it is corrected
        sent = client.post("/raadplegen/melding", data={**form, "reached_after_minutes": "12"})
        assert sent.status_code == 302, sent.get_data(as_text=True)
    # Then the sheet and the gemeente are on record
    with app.app_context():
        from registry.core.models import Gemeente, Melding

        report = database.session.scalars(select(Report)).one()
        assert (report.reached_after_minutes, report.answered_by, report.needed_mode, report.hours_spent) == (
            12,
            "Veilig Thuis",
            "on_site_intervention",
            1.5,
        )
        melding = database.session.get(Melding, report.melding_id)
        assert melding is not None
        assert database.session.get(Gemeente, melding.gemeente_id).name == "Verzonnenstad"  # type: ignore[union-attr]
