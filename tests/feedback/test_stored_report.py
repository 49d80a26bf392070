"""A stored report on the page: reopening the form of a lookup shows the report stored, a form
sent again says once that it is stored and stores nothing, and amendments are added from the
page, audited as through the API."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from registry.core.db import db as database
from registry.core.models import AuditEntry, User
from tests.conftest import csrf_from
from tests.feedback.conftest import AMSTERDAM, People, report_body, stored
from tests.feedback.test_report_form import FORM, filled_form, open_form

ALREADY = "is al geregistreerd"


def text_of(answer: Any) -> str:
    return html.unescape(answer.get_data(as_text=True))


def send_form(
    app: Flask, browser: FlaskClient, lookup: dict[str, Any], plan: dict[str, Any]
) -> tuple[Any, Any]:
    """The officer opens the report form of the lookup, fills it in and sends it. -> the answer."""
    data = filled_form(text_of(open_form(browser, lookup)), plan["agreements"])
    data["occurred_at"] = (datetime.now(AMSTERDAM) - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M")
    answer = browser.post(FORM, data=data)
    assert answer.status_code == 302, text_of(answer)
    return data, answer


def audit_rows(app: Flask, user: User, action: str) -> list[tuple[str, str]]:
    with app.app_context():
        rows = database.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.user_id == user.id)
            .order_by(AuditEntry.id)
        )
        return [(row.outcome, row.object_id) for row in rows]


def test_reopening_the_form_of_a_stored_report_shows_the_report(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given an officer who registered what was done after a lookup
    plan = create_plan()
    lookup = look_up(plan)
    browser = app.test_client()
    web_login(browser, people.responder)
    _data, sent = send_form(app, browser, lookup, plan)
    assert sent.status_code == 302
    report_id = sent.headers["Location"].rsplit("/", 1)[1]

    # When they open "Inzet registreren" of that lookup again
    reopened = open_form(browser, lookup)

    # Then they are led to the stored report, which says once that it is stored, read-only
    assert reopened.status_code == 303
    assert reopened.headers["Location"] == f"/raadplegen/inzet/{report_id}?al=1"
    page = browser.get(reopened.headers["Location"])
    assert page.status_code == 200
    assert page.headers["Cache-Control"].startswith("no-store")
    text = text_of(page)
    assert text.count(ALREADY) == 1
    assert "Vader aangehouden." in text
    assert "Notitie 1" in text
    assert "Uitgevoerd" in text
    assert 'name="outcome-' not in text, "no empty form to fill in again"
    # with the regiehouder's number to call back, as the plan gives it
    assert "Terugbellen:" in text
    assert "088-1234567" in text
    # And the reading is audited
    assert ("success", report_id) in audit_rows(app, people.responder, "report_read")


def test_a_report_stored_through_the_api_is_what_the_form_of_its_lookup_shows(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    # Given a report the control room's system stored through the API after the officer's lookup
    plan = create_plan()
    lookup = look_up(plan)
    created = client.post("/api/v1/reports", json=report_body(lookup), headers=auth_headers(people.responder))
    assert created.status_code == 201
    browser = app.test_client()
    web_login(browser, people.responder)

    # When the officer opens the report form of that lookup, then sends the form they had open
    reopened = open_form(browser, lookup)

    # Then it is the stored report
    assert reopened.headers["Location"] == f"/raadplegen/inzet/{created.get_json()['id']}?al=1"


def test_a_form_sent_again_with_changes_stores_no_second_report_and_keeps_what_was_typed(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given a stored report
    plan = create_plan()
    lookup = look_up(plan)
    browser = app.test_client()
    web_login(browser, people.responder)
    data, sent = send_form(app, browser, lookup, plan)
    report_id = sent.headers["Location"].rsplit("/", 1)[1]
    before = stored(app)

    # When the officer goes back, changes the account and sends the form again
    data["narrative"] = "Vader aangehouden. Buurvrouw belde later nog."
    again = browser.post(FORM, data=data)

    # Then no second report is stored; the stored one is shown, saying once that it is stored,
    # and what they typed waits in the amendment field
    assert again.status_code == 200
    assert stored(app)["Report"] == before["Report"]
    text = text_of(again)
    assert text.count(ALREADY) == 1
    assert f'action="/raadplegen/inzet/{report_id}/aanvulling"' in text
    assert ">Vader aangehouden. Buurvrouw belde later nog.</textarea>" in text


def test_an_amendment_is_added_from_the_page_and_audited(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    # Given a stored report, open on its page
    plan = create_plan()
    lookup = look_up(plan)
    browser = app.test_client()
    web_login(browser, people.responder)
    _data, sent = send_form(app, browser, lookup, plan)
    report_id = sent.headers["Location"].rsplit("/", 1)[1]
    page = browser.get(sent.headers["Location"])
    assert "Nog geen aanvulling." in text_of(page)
    token = csrf_from(page.get_data(as_text=True))
    amend = f"/raadplegen/inzet/{report_id}/aanvulling"

    # When they send an empty amendment
    empty = browser.post(amend, data={"csrf_token": token, "note": "   "})

    # Then it says what to do, nothing is added, and showing the report again is audited
    assert empty.status_code == 422
    assert "Schrijf de aanvulling in het tekstvak" in text_of(empty)
    assert stored(app)["ReportAmendment"] == 0
    reads = audit_rows(app, people.responder, "report_read")

    # When they write what they heard later and save it
    note = "Moeder belde om 02.10 uur: veilig bij tante."
    added = browser.post(amend, data={"csrf_token": token, "note": note})

    # Then the page shows it under Aanvullingen, says once that it is saved, and the API has it
    assert added.status_code == 302
    assert added.headers["Location"] == f"/raadplegen/inzet/{report_id}#aanvullingen"
    text = text_of(browser.get(added.headers["Location"]))
    assert text.count("De aanvulling is opgeslagen.") == 1
    assert note in text
    report = client.get(f"/api/v1/reports/{report_id}", headers=auth_headers(people.responder)).get_json()
    assert [row["note"] for row in report["amendments"]] == [note]
    # audited as POST /api/v1/reports/{id}/amendments is: the read and the amendment
    assert len(reads) == 2
    assert reads[-1] == ("success", report_id)
    assert audit_rows(app, people.responder, "report_amend") == [("success", report_id)] * 2


def test_another_control_rooms_report_cannot_be_read_or_amended_from_the_page(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given a report of one control room
    plan = create_plan()
    lookup = look_up(plan)
    browser = app.test_client()
    web_login(browser, people.responder)
    _data, sent = send_form(app, browser, lookup, plan)
    report_id = sent.headers["Location"].rsplit("/", 1)[1]

    # When an officer of another control room tries its page and an amendment
    other = app.test_client()
    web_login(other, people.other_responder)
    token = csrf_from(other.get("/raadplegen").get_data(as_text=True))
    page = other.get(f"/raadplegen/inzet/{report_id}")
    amended = other.post(f"/raadplegen/inzet/{report_id}/aanvulling", data={"csrf_token": token, "note": "x"})

    # Then neither exists for them, nothing is added, and both attempts are audited
    assert page.status_code == 404
    assert amended.status_code == 404
    assert "Vader aangehouden." not in text_of(page)
    assert stored(app)["ReportAmendment"] == 0
    assert ("not_found", report_id) in audit_rows(app, people.other_responder, "report_read")
    assert ("not_found", report_id) in audit_rows(app, people.other_responder, "report_amend")
