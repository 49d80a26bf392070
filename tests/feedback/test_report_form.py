"""The control room's report form after a lookup: the shown plan's agreements as a checklist,
the time as the officer types it (Amsterdam), exactly once on a double submit."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from registry.models import User
from tests.feedback.conftest import People, amsterdam, clock_at, stored

FORM = "/raadplegen/inzet"


def filled_form(page_html: str, agreements: list[dict[str, Any]]) -> MultiDict[str, str]:
    """What an officer submits: the prefilled fields of the page (hidden ones and the incident
    number), and the choices made."""
    prefilled = []
    for tag in re.findall(r"<input [^>]*>", page_html):
        attributes = dict(re.findall(r'([a-z_-]+)="([^"]*)"', tag))
        if attributes.get("type") in ("hidden", "text") and "value" in attributes:
            prefilled.append((attributes["name"], attributes["value"]))
    assert {name for name, _value in prefilled} >= {"csrf_token", "idempotency_key", "lookup_id", "plan_id",
                                                     "incident_ref"}  # fmt: skip
    data = MultiDict(
        [
            *prefilled,
            ("occurred_at", "2026-03-13T23:40"),  # datetime-local: Amsterdam wall-clock time
            ("mode", "on_site_intervention"),
            ("responders", "police"),
            ("responders", "cit"),
            ("actions", "arrest"),
            ("household_type", "minor_children"),
            ("narrative", "Vader aangehouden."),
        ]
    )
    for agreement, outcome in zip(agreements, ("followed", "not_followed", "not_applicable"), strict=True):
        data[f"outcome-{agreement['id']}"] = outcome
        data[f"note-{agreement['id']}"] = f"Notitie {agreement['position']}"
    return data


def test_the_form_lists_the_agreements_and_records_the_report_once(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    with clock_at(amsterdam(2026, 3, 14, 0, 30)):
        # Given a lookup that found the plan
        plan = create_plan()
        lookup = look_up(plan)
        browser = app.test_client()
        web_login(browser, people.responder)

        # When the officer opens the report form
        page = browser.get(FORM, query_string={"lookup_id": lookup["lookup_id"], "plan_id": plan["id"]})
        assert page.status_code == 200
        text = html.unescape(page.get_data(as_text=True))

        # Then every agreement of the shown plan is there to tick, with the outcomes in Dutch
        for agreement in plan["agreements"]:
            assert agreement["trigger"] in text
            assert f'name="outcome-{agreement["id"]}"' in text
        for label in ("Uitgevoerd", "Niet uitgevoerd", "Niet van toepassing"):
            assert text.count(label) == len(plan["agreements"])

        # When it is submitted, and submitted again (a double click)
        before = stored(app)
        data = filled_form(text, plan["agreements"])
        first = browser.post(FORM, data=data)
        second = browser.post(FORM, data=data)

        # Then one report is stored, due on Monday (Friday 23.40 in Amsterdam), and both answers lead to it
        assert first.status_code == second.status_code == 302
        assert first.headers["Location"] == second.headers["Location"]
        assert stored(app)["Report"] == before["Report"] + 1
        done = html.unescape(browser.get(first.headers["Location"]).get_data(as_text=True))
        assert "vrijdag 13 maart 2026 om 23.40 uur" in done
        assert "maandag 16 maart 2026" in done

        report_id = first.headers["Location"].rsplit("/", 1)[1]
        report = client.get(f"/api/v1/reports/{report_id}", headers=auth_headers(people.responder)).get_json()
    assert datetime.fromisoformat(report["occurred_at"]) == amsterdam(2026, 3, 13, 23, 40)
    assert report["feedback_due"] == "2026-03-16"
    assert [(row["outcome"], row["note"]) for row in report["agreements"]] == [
        ("followed", "Notitie 1"),
        ("not_followed", "Notitie 2"),
        ("not_applicable", "Notitie 3"),
    ]
    assert sorted(report["responders"]) == ["cit", "police"]


def test_a_form_without_the_type_of_response_is_shown_again_and_nothing_is_stored(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    with clock_at(amsterdam(2026, 3, 14, 0, 30)):
        plan = create_plan()
        lookup = look_up(plan)
        browser = app.test_client()
        web_login(browser, people.responder)
        page = browser.get(FORM, query_string={"lookup_id": lookup["lookup_id"], "plan_id": plan["id"]})
        data = filled_form(html.unescape(page.get_data(as_text=True)), plan["agreements"])
        del data["mode"]
        before = stored(app)

        refused = browser.post(FORM, data=data)

    assert refused.status_code == 422
    text = html.unescape(refused.get_data(as_text=True))
    assert 'id="mode-error"' in text
    assert "Vader aangehouden." in text  # what was typed is kept
    assert stored(app) == before


def test_the_form_of_another_organisations_lookup_does_not_exist(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    plan = create_plan()
    theirs = look_up(plan, responder=people.other_responder)
    browser = app.test_client()
    web_login(browser, people.responder)
    page = browser.get(FORM, query_string={"lookup_id": theirs["lookup_id"], "plan_id": plan["id"]})
    assert page.status_code == 404
    assert plan["title"] not in page.get_data(as_text=True)
