"""Back to the responders: what the organisations that heard of a report pick up (their
acknowledgement's note) reaches the organisation that reported, through GET /api/v1/reports/{id}
and the page Teruggekoppeld, and nobody else."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from registry.core.db import db as database
from registry.core.models import AuditEntry, User
from tests.browser.family import introduce
from tests.feedback.conftest import People, amsterdam, clock_at

OCCURRED = amsterdam(2026, 3, 10, 22, 15)
OWNER_NOTE = "Wij bellen moeder morgen om 9 uur en passen het handelingskader aan."
PARTNER_NOTE = "Jeugdbeschermer gaat langs bij de tante."


def acknowledge(client: FlaskClient, headers: dict[str, str], report_id: str, note: str) -> None:
    response = client.post(f"/api/v1/feedback/{report_id}/acknowledge", json={"note": note}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)


def test_the_answer_reaches_the_reporting_organisation_and_no_other(
    app: Flask,
    client: FlaskClient,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    share_plan: Callable[..., None],
    report_on: Callable[..., Any],
    auth_headers: Callable[[User], dict[str, str]],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given a report of the police on the wijkteam's plan, shared with youth protection, whose
    # registrant has a work phone
    introduce(app, people.registrant, "Fatima Wijkwerker", "088-5550101")
    with clock_at(OCCURRED + timedelta(minutes=20)):
        plan = create_plan()
        share_plan(plan, people.partner_org)
        _plan, report = report_on(plan, occurred_at=OCCURRED)

    # When the wijkteam acknowledges it with what it picks up (youth protection has not yet)
    with clock_at(amsterdam(2026, 3, 11, 8, 30)):
        acknowledge(client, auth_headers(people.registrant), report["id"], OWNER_NOTE)

        # Then youth protection, who heard of the same report, is not shown the wijkteam's answer
        partner_items = client.get("/api/v1/feedback", headers=auth_headers(people.partner_registrant))
        assert OWNER_NOTE not in partner_items.get_data(as_text=True)
        [item] = partner_items.get_json()["items"]
        assert "acknowledgements" not in item["report"]
        browser = app.test_client()
        web_login(browser, people.partner_registrant)
        assert OWNER_NOTE not in html.unescape(browser.get("/terugkoppeling").get_data(as_text=True))

    with clock_at(amsterdam(2026, 3, 11, 9, 10)):
        acknowledge(client, auth_headers(people.partner_registrant), report["id"], PARTNER_NOTE)

    with clock_at(amsterdam(2026, 3, 11, 10, 0)):
        # Then the police read both answers back with the report: who, what, when
        mine = client.get(f"/api/v1/reports/{report['id']}", headers=auth_headers(people.responder))
        assert mine.status_code == 200
        answers = mine.get_json()["acknowledgements"]
        assert [(a["organisation"], a["note"]) for a in answers] == [
            ("Wijkteam Oost", OWNER_NOTE),
            ("Jeugdbescherming Gelderland", PARTNER_NOTE),
        ]
        assert [a["acknowledged_at"][:16] for a in answers] == ["2026-03-11T07:30", "2026-03-11T08:10"]
        # And another control room gets neither the report nor the answers
        theirs = client.get(f"/api/v1/reports/{report['id']}", headers=auth_headers(people.other_responder))
        assert theirs.status_code == 404
        assert OWNER_NOTE not in theirs.get_data(as_text=True)

        # And the page Teruggekoppeld shows them to the police, and not to the other control room
        police = app.test_client()
        web_login(police, people.responder)
        page = police.get("/raadplegen/teruggekoppeld")
        assert page.status_code == 200
        text = html.unescape(page.get_data(as_text=True))
        assert 'href="/raadplegen/teruggekoppeld">Teruggekoppeld</a>' in text  # in the menu
        assert OWNER_NOTE in text
        assert PARTNER_NOTE in text
        assert "Wijkteam Oost</strong>, woensdag 11 maart 2026 om 08.30 uur" in text
        # with the number to call back who answered: their work phone, big, else none
        words = re.sub(r"<[^>]+>", "", text)
        assert "Terugbellen: Fatima Wijkwerker, Wijkteam Oost · 088-5550101" in words
        assert 'class="phone-big"><a href="tel:+31885550101">088-5550101</a>' in text
        assert re.search(r"Terugbellen: [^\n·]+, Jeugdbescherming Gelderland\s*\n", words)
        other = app.test_client()
        web_login(other, people.other_responder)
        text = html.unescape(other.get("/raadplegen/teruggekoppeld").get_data(as_text=True))
        assert OWNER_NOTE not in text
        assert PARTNER_NOTE not in text
        assert "geen inzet geregistreerd" in text


def test_the_answer_comes_with_its_time(
    client: FlaskClient,
    people: People,
    report_on: Callable[..., Any],
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    with clock_at(OCCURRED + timedelta(minutes=20)):
        _plan, report = report_on(occurred_at=OCCURRED)
    with clock_at(amsterdam(2026, 3, 11, 8, 30)):
        acknowledge(client, auth_headers(people.registrant), report["id"], "")
        answer = client.get(f"/api/v1/reports/{report['id']}", headers=auth_headers(people.responder))
    [ack] = answer.get_json()["acknowledgements"]
    assert ack["organisation"] == "Wijkteam Oost"
    assert ack["note"] == ""
    assert ack["acknowledged_at"].startswith("2026-03-11T07:30")  # 08.30 in Amsterdam, in UTC


def test_teruggekoppeld_shows_the_last_30_days_and_every_read_is_audited(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    report_on: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given a report of 10 March and one of 5 February
    with clock_at(amsterdam(2026, 2, 5, 12, 0)):
        _old_plan, old = report_on(
            create_plan(), occurred_at=amsterdam(2026, 2, 5, 11, 0), incident_ref="P-2026-0009"
        )
    with clock_at(OCCURRED + timedelta(minutes=20)):
        _plan, recent = report_on(create_plan(), occurred_at=OCCURRED, incident_ref="P-2026-0010")
    # When the police open Teruggekoppeld on 20 March
    with clock_at(amsterdam(2026, 3, 20, 12, 0)):
        police = app.test_client()
        web_login(police, people.responder)
        text = html.unescape(police.get("/raadplegen/teruggekoppeld").get_data(as_text=True))
    # Then only the recent one is shown, still without an answer
    assert f'id="inzet-{recent["id"]}"' in text
    assert f'id="inzet-{old["id"]}"' not in text
    assert "Nog geen terugkoppeling." in text
    # And the read is audited, naming what was shown
    with app.app_context():
        [row] = database.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "reports_answered")
        ).all()
        assert row.username == people.responder.username
        assert row.detail == {"reports": [recent["id"]]}
    # And a registrant has no such page
    owner = app.test_client()
    web_login(owner, people.registrant)
    assert owner.get("/raadplegen/teruggekoppeld").status_code in (302, 403)
