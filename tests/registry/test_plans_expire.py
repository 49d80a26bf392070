"""`samenop plans expire`: plans past valid_until expire; owners are reminded 14 and 3 days ahead,
on their home page and by e-mail (counts and a link only) when SMTP is configured."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from registry.app import create_app
from registry.core.db import db as database
from registry.core.models import OutboxMessage, Plan, User
from tests.conftest import close_app
from tests.registry.plan_data import plan_body, today
from tests.smtp import Mailbox


@pytest.fixture
def app(app_config: dict[str, Any], mailbox: tuple[Mailbox, str]) -> Iterator[Flask]:
    application = create_app(app_config | {"SMTP_URL": mailbox[1], "BASE_URL": "https://samenop.example"})
    yield application
    close_app(application)


def _expire(app: Flask, on: str) -> Any:
    return app.test_cli_runner().invoke(args=["plans", "expire", "--date", on])


@pytest.fixture
def registrant(app: Flask, make_user: Callable[..., User]) -> User:
    user = make_user(roles=("registrant",))
    with app.app_context():
        stored = database.session.get(User, user.id)
        assert stored is not None
        stored.email = "regiehouder@samenop.example"
        database.commit()
    user.email = "regiehouder@samenop.example"
    return user


def _plan(client: Any, headers: dict[str, str], days: int, title: str) -> str:
    until = (today() + timedelta(days=days)).isoformat()
    answer = client.post("/api/v1/plans", json=plan_body(title=title, valid_until=until), headers=headers)
    assert answer.status_code == 201, answer.get_json()
    return str(answer.get_json()["id"])


def _status(app: Flask, plan_id: str) -> str:
    with app.app_context():
        plan = database.session.get(Plan, uuid.UUID(plan_id))
        assert plan is not None
        return plan.status


def test_a_plan_past_its_last_day_expires_and_one_still_valid_does_not(app, client, registrant, auth_headers):
    # Given a plan valid until the day after tomorrow and one valid for two months
    headers = auth_headers(registrant)
    short = _plan(client, headers, 2, "Gezin Kort")
    long = _plan(client, headers, 60, "Gezin Lang")
    # When the nightly job runs on its last valid day, nothing expires
    assert "0 plan(s) expired" in _expire(app, (today() + timedelta(days=2)).isoformat()).output
    # Then, the day after, only the short one is expired
    result = _expire(app, (today() + timedelta(days=3)).isoformat())
    assert "1 plan(s) expired" in result.output
    assert _status(app, short) == "expired"
    assert _status(app, long) == "active"
    # and the owners see it under 'Verlopen'
    listed = client.get("/api/v1/plans", query_string={"status": "expired"}, headers=headers).get_json()
    assert [item["id"] for item in listed["items"]] == [short]


def test_owners_are_reminded_14_and_3_days_ahead_once_each_without_names_by_mail(
    app, client, registrant, auth_headers, mailbox
):
    box, _url = mailbox
    headers = auth_headers(registrant)
    _plan(client, headers, 20, "Gezin Geheimnaam")
    # 14 days before its end: one reminder e-mail, counts and a link only
    fourteen_before = (today() + timedelta(days=6)).isoformat()
    result = _expire(app, fourteen_before)
    assert "1 reminder(s) due" in result.output, result.output
    assert len(box.to("regiehouder@samenop.example")) == 1
    message = box.to("regiehouder@samenop.example")[0]
    body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "1 handelingskader van uw organisatie verloopt binnenkort" in body
    assert "https://samenop.example/plans" in body
    for secret in ("Geheimnaam", "Testveen", "Verzonnenstraat", "9401", "06-"):
        assert secret not in body
        assert secret not in str(message["Subject"])
    # the same day again: no second reminder
    assert "0 reminder(s) due" in _expire(app, fourteen_before).output
    # 3 days before: the second and last reminder
    assert "1 reminder(s) due" in _expire(app, (today() + timedelta(days=17)).isoformat()).output
    assert "0 reminder(s) due" in _expire(app, (today() + timedelta(days=18)).isoformat()).output
    assert len(box.to("regiehouder@samenop.example")) == 2


def test_a_renewed_plan_is_reminded_again_before_its_new_end(app, client, registrant, auth_headers):
    headers = auth_headers(registrant)
    plan_id = _plan(client, headers, 10, "Gezin Verlengd")
    assert "1 reminder(s) due" in _expire(app, today().isoformat()).output
    current = client.get(f"/api/v1/plans/{plan_id}", headers=headers).get_json()
    body = plan_body(title="Gezin Verlengd", valid_until=(today() + timedelta(days=90)).isoformat())
    assert (
        client.put(
            f"/api/v1/plans/{plan_id}", json={**body, "version": current["version"]}, headers=headers
        ).status_code
        == 200
    )
    assert "0 reminder(s) due" in _expire(app, today().isoformat()).output
    assert "1 reminder(s) due" in _expire(app, (today() + timedelta(days=80)).isoformat()).output


def test_the_home_page_lists_plans_that_end_within_two_weeks(app, registrant, auth_headers, web_login):
    client = app.test_client()
    headers = auth_headers(registrant)
    _plan(client, headers, 5, "Gezin Binnenkort")
    _plan(client, headers, 100, "Gezin Later")
    web_login(client, registrant)
    page = client.get("/").get_data(as_text=True)
    assert "Verloopt binnenkort" in page
    assert "Gezin Binnenkort" in page
    assert "nog 5 dagen" in page
    assert "Gezin Later" not in page


def test_a_mail_server_that_is_down_delays_the_reminders_but_loses_and_repeats_none(
    app, client, registrant, auth_headers, make_user, restartable_mailbox
):
    # Given two registrants of one organisation with an e-mail address, a plan that ends in 20
    # days, and a mail server that is down
    server = restartable_mailbox
    app.config["SMTP_URL"] = server.url
    with app.app_context():
        organisation = database.session.get(User, registrant.id).organisation
        database.commit()  # nothing to write: ends the transaction, keeps what was read
    colleague = make_user(roles=("registrant",), org=organisation)
    with app.app_context():
        stored = database.session.get(User, colleague.id)
        stored.email = "collega@samenop.example"
        database.commit()
    _plan(client, auth_headers(registrant), 20, "Gezin Geheimnaam")
    fourteen_before = (today() + timedelta(days=6)).isoformat()
    # When the nightly job runs 14 days before the end
    result = _expire(app, fourteen_before)
    # Then it does not crash: the reminder is due, its two e-mails wait for another attempt
    assert result.exit_code == 0, result.output
    assert "1 reminder(s) due" in result.output
    assert "2 reminder e-mail(s) queued" in result.output
    assert "0 message(s) delivered, 2 to try again" in result.output
    # And a rerun finds nothing due and adds nothing: the reminder and its e-mails are stored
    again = _expire(app, fourteen_before)
    assert "0 reminder(s) due" in again.output
    assert "queued" not in again.output
    with app.app_context():
        rows = database.session.scalars(select(OutboxMessage).order_by(OutboxMessage.target)).all()
        assert [(row.target, row.status, row.attempts) for row in rows] == [
            ("collega@samenop.example", "pending", 1),
            ("regiehouder@samenop.example", "pending", 1),
        ]
        assert all("ConnectionRefusedError" in (row.last_error or "") for row in rows)
    # When the mail server is back and the worker delivers, a minute later and again an hour later
    server.start()
    for later in (timedelta(minutes=1), timedelta(hours=1)):
        with time_machine.travel(datetime.now(UTC) + later, tick=True):
            delivered = app.test_cli_runner().invoke(args=["outbox", "deliver"])
        assert delivered.exit_code == 0, delivered.output
    # Then each registrant got the reminder once, addressed to them alone, marked as automatic
    assert sorted(recipients for recipients, _message in server.box.messages) == [
        ["collega@samenop.example"],
        ["regiehouder@samenop.example"],
    ]
    for address in ("collega@samenop.example", "regiehouder@samenop.example"):
        [message] = server.box.to(address)
        assert message["To"] == address
        assert message["From"] == app.config["MAIL_FROM"]
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["Date"]
        assert message["Message-ID"]
        assert "Geheimnaam" not in message.get_body(preferencelist=("plain",)).get_content()
    with app.app_context():
        assert {row.status for row in database.session.scalars(select(OutboxMessage))} == {"delivered"}
