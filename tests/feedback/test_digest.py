"""`samenop feedback digest --date D`: one e-mail per organisation with feedback due that day, to
its registrants (and, for late items, its coordinators), over a real SMTP server on loopback.
E-mail is not a safe channel: counts and a link only."""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from registry.app import create_app
from registry.core.db import db as database
from registry.core.models import Organisation, OutboxMessage, User
from tests.conftest import close_app
from tests.feedback.conftest import NARRATIVE, People, amsterdam, clock_at
from tests.smtp import Mailbox, RestartableServer

FRIDAY_NIGHT = amsterdam(2026, 3, 13, 23, 40)
SATURDAY_MORNING = amsterdam(2026, 3, 14, 9, 0)

# what must never travel by e-mail: everything that names or locates the family
SECRETS = [
    "Gezin Voorbeeld",  # the plan's title
    "Noor", "Testveen", "Testman",  # persons
    "Verzonnenstraat", "9401", "Testdorp",  # the address
    "Tante Fictief", "06-", "+316",  # contacts and phone numbers
    NARRATIVE, "aangehouden", "Toelichting bij afspraak",  # what was done
    "P-2026",  # the incident number
]  # fmt: skip


@pytest.fixture
def app(app_config: dict[str, Any], mailbox: tuple[Mailbox, str]) -> Iterator[Flask]:
    """The app of this module sends its mail to the loopback server."""
    application = create_app(app_config | {"SMTP_URL": mailbox[1], "BASE_URL": "https://samenop.example"})
    yield application
    close_app(application)


@pytest.fixture
def set_email(app: Flask) -> Callable[[User, str], None]:
    def set_address(user: User, address: str) -> None:
        with app.app_context():
            stored = database.session.get(User, user.id)
            assert stored is not None
            stored.email = address
            database.commit()
        # the fixtures merge this detached object back later (auth_headers): keep it in step
        user.email = address

    return set_address


def digest(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["feedback", "digest", *args])


@dataclass
class Scene:
    """The wijkteam's plan (shared with youth protection) with two reports due on Monday 16 March,
    and a plan of Wijkteam West with one report due on Tuesday 17 March."""

    registrant: str
    quiet_registrant: User  # has no e-mail address
    coordinator: str
    partner: str
    stranger: str
    stranger_coordinator: str
    uninvolved: str


@pytest.fixture
def scene(
    people: People,
    make_user: Callable[..., User],
    make_org: Callable[..., Organisation],
    set_email: Callable[[User, str], None],
    create_plan: Callable[..., dict[str, Any]],
    share_plan: Callable[[dict[str, Any], Organisation], None],
    report_on: Callable[..., Any],
) -> Scene:
    addresses = {
        people.registrant: "registrant@wijkteam-oost.example",
        people.coordinator: "coordinator@wijkteam-oost.example",
        people.partner_registrant: "registrant@jeugdbescherming.example",
        people.stranger_registrant: "registrant@wijkteam-west.example",
        people.stranger_coordinator: "coordinator@wijkteam-west.example",
    }
    uninvolved = make_user(roles=("registrant",), org=make_org("Wijkteam Zonder Kaders"))
    addresses[uninvolved] = "registrant@zonder-kaders.example"
    quiet = make_user(roles=("registrant",), org=people.owner_org)
    for user, address in addresses.items():
        set_email(user, address)
    with clock_at(SATURDAY_MORNING):
        plan = create_plan()
        share_plan(plan, people.partner_org)
        report_on(plan, occurred_at=FRIDAY_NIGHT)
        report_on(plan, occurred_at=amsterdam(2026, 3, 14, 2, 10))
    with clock_at(amsterdam(2026, 3, 16, 12, 0)):
        theirs = create_plan(owner=people.stranger_registrant, title="Gezin Voorbeeld West")
        report_on(theirs, occurred_at=amsterdam(2026, 3, 16, 9, 30))
    return Scene(
        registrant=addresses[people.registrant],
        quiet_registrant=quiet,
        coordinator=addresses[people.coordinator],
        partner=addresses[people.partner_registrant],
        stranger=addresses[people.stranger_registrant],
        stranger_coordinator=addresses[people.stranger_coordinator],
        uninvolved=addresses[uninvolved],
    )


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def assert_says_nothing_about_the_family(message: EmailMessage) -> None:
    whole = text_of(message) + str(message["Subject"])
    for secret in SECRETS:
        assert secret not in whole, secret


def test_one_email_per_organisation_with_items_due_that_day(
    app: Flask, mailbox: tuple[Mailbox, str], scene: Scene
) -> None:
    box, _url = mailbox

    with clock_at(amsterdam(2026, 3, 16, 7, 0)):
        result = digest(app, "--date", "2026-03-16")

    assert result.exit_code == 0, result.output
    # the wijkteam and youth protection (the plan is shared with it); nobody else
    assert sorted(recipients for recipients, _message in box.messages) == [
        [scene.partner],
        [scene.registrant],  # not the colleague without an address, not the coordinator: nothing is late
    ]
    for address in (scene.registrant, scene.partner):
        [message] = box.to(address)
        body = text_of(message)
        assert "2 meldingen om vandaag te lezen en op te pakken" in body
        # no feedback is late (a task may be: below)
        assert "melding te laat" not in body
        assert "meldingen te laat" not in body
        assert "https://samenop.example/terugkoppeling" in body
        assert "maandag 16 maart 2026" in message["Subject"]
        assert_says_nothing_about_the_family(message)
    assert "Wijkteam Oost" in text_of(box.to(scene.registrant)[0])
    # the owner's contact with the family of Friday night's melding was due within 48 hours
    assert "- 1 opvolging open, waarvan 1 te laat" in text_of(box.to(scene.registrant)[0])
    assert "opvolging" not in text_of(box.to(scene.partner)[0])  # the plan's owner follows up
    assert "Jeugdbescherming Gelderland" in text_of(box.to(scene.partner)[0])
    assert "2 digest(s) sent for 2026-03-16" in result.output


def test_late_items_also_go_to_the_coordinators(
    app: Flask,
    mailbox: tuple[Mailbox, str],
    scene: Scene,
    people: People,
    client: Any,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    box, _url = mailbox
    # Given youth protection acknowledged both reports on Monday, and the wijkteam did not
    with clock_at(amsterdam(2026, 3, 16, 10, 0)):
        headers = auth_headers(people.partner_registrant)
        items = client.get("/api/v1/feedback", headers=headers).get_json()["items"]
        assert len(items) == 2
        for item in items:
            response = client.post(
                f"/api/v1/feedback/{item['report']['id']}/acknowledge",
                json={"note": "gelezen"},
                headers=headers,
            )
            assert response.status_code == 200

    # When the digest of Tuesday is sent
    with clock_at(amsterdam(2026, 3, 17, 7, 0)):
        result = digest(app, "--date", "2026-03-17")
    assert result.exit_code == 0, result.output

    # Then the wijkteam's registrant and coordinator hear that two items are late, each in a
    # message of their own (nobody sees who else got it)
    assert sorted(recipients for recipients, _message in box.messages) == [
        [scene.coordinator],
        [scene.registrant],
        [scene.stranger],  # Wijkteam West: one item due today, nothing late, so no coordinator
    ]
    assert [message["To"] for message in box.to(scene.registrant)] == [scene.registrant]
    [late] = box.to(scene.coordinator)
    body = text_of(late)
    assert "0 meldingen om vandaag te lezen en op te pakken" in body
    assert "2 meldingen te laat" in body
    assert "https://samenop.example/terugkoppeling" in body
    assert_says_nothing_about_the_family(late)
    [west] = box.to(scene.stranger)
    assert "1 melding om vandaag te lezen en op te pakken" in text_of(west)
    assert "te laat" not in text_of(west)
    assert_says_nothing_about_the_family(west)
    # youth protection acknowledged everything: no e-mail
    assert box.to(scene.partner) == []


def test_a_day_without_items_sends_nothing(app: Flask, mailbox: tuple[Mailbox, str], scene: Scene) -> None:
    box, _url = mailbox
    result = digest(app, "--date", "2026-03-13")
    assert result.exit_code == 0, result.output
    assert box.messages == []
    assert "0 digest(s) sent for 2026-03-13" in result.output


def test_a_bad_date_is_refused(app: Flask, mailbox: tuple[Mailbox, str]) -> None:
    result = digest(app, "--date", "16-03-2026")
    assert result.exit_code != 0
    assert "--date" in result.output
    assert mailbox[0].messages == []


def test_without_smtp_configured_the_command_fails_clearly(
    app_config: dict[str, Any], mailbox: tuple[Mailbox, str], scene: Scene
) -> None:
    # Given an app without SAMENOP_SMTP_URL (on the same database, with items due)
    unconfigured = create_app(app_config | {"SMTP_URL": None})
    try:
        result = digest(unconfigured, "--date", "2026-03-16")
    finally:
        close_app(unconfigured)

    # Then it says why it cannot send, and fails (so cron reports it)
    assert result.exit_code != 0
    assert "SAMENOP_SMTP_URL is not set" in result.output
    assert mailbox[0].messages == []


def test_a_mail_server_that_is_down_delays_the_digest_but_loses_and_repeats_none(
    app: Flask, scene: Scene, restartable_mailbox: RestartableServer
) -> None:
    # Given the mail server is down on Monday morning
    server = restartable_mailbox
    app.config["SMTP_URL"] = server.url
    # When the digest runs at 07.00, and once more at 07.10 (a rerun after the failure)
    with clock_at(amsterdam(2026, 3, 16, 7, 0)):
        first = digest(app, "--date", "2026-03-16")
    with clock_at(amsterdam(2026, 3, 16, 7, 10)):
        second = digest(app, "--date", "2026-03-16")
    # Then neither crashed; the first stored both organisations' digests, the second nothing new
    assert first.exit_code == 0, first.output
    assert "0 message(s) delivered, 2 to try again" in first.output
    assert "2 digest(s) sent for 2026-03-16" in first.output
    assert second.exit_code == 0, second.output
    assert "0 digest(s) sent for 2026-03-16" in second.output
    with app.app_context():
        rows = database.session.scalars(select(OutboxMessage).order_by(OutboxMessage.target)).all()
        assert [(row.target, row.status) for row in rows] == [
            (scene.partner, "pending"),
            (scene.registrant, "pending"),
        ]
    # When the server is back and the worker delivers at 07.15 and again at 08.00
    server.start()
    for moment in (amsterdam(2026, 3, 16, 7, 15), amsterdam(2026, 3, 16, 8, 0)):
        with clock_at(moment):
            delivered = app.test_cli_runner().invoke(args=["outbox", "deliver"])
        assert delivered.exit_code == 0, delivered.output
    # Then each recipient has the digest once, dated when it was written
    assert sorted(recipients for recipients, _message in server.box.messages) == [
        [scene.partner],
        [scene.registrant],
    ]
    for address in (scene.partner, scene.registrant):
        [message] = server.box.to(address)
        assert message["To"] == address
        assert message["Auto-Submitted"] == "auto-generated"
        assert email.utils.parsedate_to_datetime(message["Date"]) == amsterdam(2026, 3, 16, 7, 0)
        assert "2 meldingen om vandaag te lezen en op te pakken" in text_of(message)
        assert_says_nothing_about_the_family(message)
    # And a digest run after the delivery sends nothing again
    with clock_at(amsterdam(2026, 3, 16, 9, 0)):
        assert "0 digest(s) sent" in digest(app, "--date", "2026-03-16").output
    assert len(server.box.messages) == 2
