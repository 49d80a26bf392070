"""Spoedmeldingen: an arrest, a temporary restraining order or a report marked urgent is due
SPOED_HOURS after the incident (not on the next working day), announced at once by e-mail to each
receiving organisation's spoed address (a real SMTP server on loopback), shown first and in red in
Terugkoppeling, escalated once to the coordinators when nobody acknowledged it in time, and
counted in Monitoring."""

from __future__ import annotations

import email.utils
import html
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import exists, select

from registry.app import create_app
from registry.core import rules
from registry.core.config import ConfigError
from registry.core.db import db as database
from registry.core.models import AuditEntry, Organisation, OutboxMessage, Report, SpoedEscalation, User
from registry.regions import operations as regions
from tests.conftest import close_app, outbox_threads_done
from tests.feedback.conftest import NARRATIVE, People, amsterdam, clock_at, report_body
from tests.smtp import Mailbox, free_port

FRIDAY_NIGHT = amsterdam(2026, 3, 13, 23, 40)
REPORTED = amsterdam(2026, 3, 13, 23, 55)
DEADLINE = amsterdam(2026, 3, 14, 8, 40)

OWNER_SPOED = "piket@wijkteam-oost.example"
PARTNER_SPOED = "piket@jeugdbescherming.example"
STRANGER_SPOED = "piket@wijkteam-west.example"
COORDINATOR = "coordinator@wijkteam-oost.example"
PARTNER_COORDINATOR = "coordinator@jeugdbescherming.example"

# what must never travel by e-mail: everything that names or locates the family, or the call
SECRETS = [
    "Gezin Voorbeeld", "Noor", "Testveen", "Testman", "Verzonnenstraat", "9401", "Testdorp",
    "Tante Fictief", "06-", "+316", NARRATIVE, "aangehouden", "Aanhouding", "Toelichting bij afspraak",
    "P-2026", "Meldkamer",
]  # fmt: skip


@pytest.fixture
def app(app_config: dict[str, Any], mailbox: tuple[Mailbox, str]) -> Iterator[Flask]:
    """The app of this module sends its mail to the loopback server."""
    application = create_app(app_config | {"SMTP_URL": mailbox[1], "BASE_URL": "https://samenop.example"})
    yield application
    close_app(application)


@pytest.fixture(autouse=True)
def _mail_sent_before_the_server_stops(mailbox: tuple[Mailbox, str], app: Flask) -> Iterator[None]:
    """Announcements go out from threads of their own, which record the outcome in the database:
    each test's are done before its mail server stops and its app closes its connections."""
    yield
    outbox_threads_done()


def cli(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def scene(
    app: Flask,
    people: People,
    make_user: Callable[..., User],
    create_plan: Callable[..., dict[str, Any]],
    share_plan: Callable[[dict[str, Any], Organisation], None],
) -> dict[str, Any]:
    """The wijkteam's plan shared with youth protection; both, and a stranger organisation, have a
    spoed address; both have a coordinator with an e-mail address."""
    for organisation, address in (
        (people.owner_org, OWNER_SPOED),
        (people.partner_org, PARTNER_SPOED),
        (people.stranger_org, STRANGER_SPOED),
    ):
        result = cli(app, "org", "spoed", organisation.name, "--email", address)
        assert result.exit_code == 0, result.output
    partner_coordinator = make_user(roles=("coordinator",), org=people.partner_org)
    with app.app_context():
        for user, address in ((people.coordinator, COORDINATOR), (partner_coordinator, PARTNER_COORDINATOR)):
            stored = database.session.get(User, user.id)
            assert stored is not None
            stored.email = address
        database.commit()
    with clock_at(REPORTED - timedelta(minutes=30)):
        plan = create_plan()
        share_plan(plan, people.partner_org)
    return plan


def arrived(box: Mailbox, count: int) -> list[tuple[list[str], EmailMessage]]:
    """The messages, once `count` have arrived: a spoedmelding is announced from a thread of its
    own after the commit, so that the responder's request does not wait for the mail server."""
    deadline = time.monotonic() + 10
    while len(box.messages) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # and no more than that
    assert len(box.messages) == count, box.messages
    return list(box.messages)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def assert_says_nothing_about_the_family(message: EmailMessage) -> None:
    whole = text_of(message) + str(message["Subject"])
    for secret in SECRETS:
        assert secret not in whole, secret


def test_an_arrest_on_friday_night_is_due_saturday_morning_and_announced_at_once(
    app: Flask, mailbox: tuple[Mailbox, str], scene: dict[str, Any], report_on: Callable[..., Any]
) -> None:
    box, _url = mailbox
    # When the police report an arrest made on Friday at 23.40, a quarter of an hour later
    with clock_at(REPORTED):
        _plan, report = report_on(
            scene, occurred_at=FRIDAY_NIGHT, actions=["arrest", "children_with_network"]
        )
        messages = arrived(box, 2)

    # Then it is a spoedmelding, due on Saturday at 08.40 (nine hours later), not on Monday
    assert report["spoed"] is True
    assert report["feedback_due_at"] == DEADLINE.astimezone(UTC).isoformat()
    assert report["feedback_due"] == "2026-03-16"  # the terugkoppeldag stays, for the date views
    # And each organisation that hears of it got one e-mail at its spoed address within a minute;
    # the stranger organisation nothing
    assert sorted(recipients for recipients, _message in messages) == [[PARTNER_SPOED], [OWNER_SPOED]]
    for address, name in ((OWNER_SPOED, "Wijkteam Oost"), (PARTNER_SPOED, "Jeugdbescherming Gelderland")):
        [message] = box.to(address)
        sent = email.utils.parsedate_to_datetime(message["Date"])
        assert sent + timedelta(seconds=1) >= REPORTED
        assert sent - REPORTED < timedelta(minutes=1)
        assert message["Message-ID"]
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["To"] == address
        body = text_of(message)
        assert f"{name} heeft 1 spoedmelding" in body
        assert "vóór zaterdag 14 maart 2026 om 08.40 uur" in body
        assert "https://samenop.example/terugkoppeling" in body
        assert_says_nothing_about_the_family(message)
    assert messages[0][1]["Message-ID"] != messages[1][1]["Message-ID"]


def test_a_report_without_arrest_keeps_its_next_working_day(
    mailbox: tuple[Mailbox, str], scene: dict[str, Any], report_on: Callable[..., Any]
) -> None:
    with clock_at(REPORTED):
        _plan, report = report_on(scene, occurred_at=FRIDAY_NIGHT, actions=["children_with_network"])
    assert report["spoed"] is False
    assert report["feedback_due_at"] is None
    assert report["feedback_due"] == "2026-03-16"  # Monday
    assert mailbox[0].messages == []


def test_a_restraining_order_or_an_urgent_mark_with_a_reason_makes_a_spoedmelding(
    scene: dict[str, Any],
    look_up: Callable[..., dict[str, Any]],
    post_report: Callable[..., Any],
) -> None:
    with clock_at(REPORTED):
        lookup = look_up(scene)
        # an urgent mark without a reason names the field
        refused = post_report(report_body(lookup, FRIDAY_NIGHT, actions=[], urgent=True))
        assert refused.status_code == 422
        assert "urgent_reason" in refused.get_json()["error"]["fields"]
        refused = post_report(report_body(lookup, FRIDAY_NIGHT, urgent="soms"))
        assert refused.status_code == 422
        assert "urgent" in refused.get_json()["error"]["fields"]
        marked = post_report(
            report_body(
                lookup, FRIDAY_NIGHT, actions=[], urgent=True, urgent_reason="Kinderen onveilig thuis"
            )
        )
        assert marked.status_code == 201, marked.get_data(as_text=True)
        assert marked.get_json()["spoed"] is True
        assert marked.get_json()["urgent_reason"] == "Kinderen onveilig thuis"
        order = post_report(report_body(lookup, FRIDAY_NIGHT, actions=["temporary_restraining_order"]))
        assert order.status_code == 201
        assert order.get_json()["feedback_due_at"] == DEADLINE.astimezone(UTC).isoformat()


def test_a_spoedmelding_is_shown_first_and_in_red_to_who_hears_of_it(
    app: Flask,
    people: People,
    scene: dict[str, Any],
    report_on: Callable[..., Any],
    create_plan: Callable[..., dict[str, Any]],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given an ordinary report from Thursday and the arrest of Friday night
    with clock_at(amsterdam(2026, 3, 12, 14, 0)):
        report_on(create_plan(title="Gezin Eerder"), occurred_at=amsterdam(2026, 3, 12, 13, 0))
    with clock_at(REPORTED):
        _plan, report = report_on(scene, occurred_at=FRIDAY_NIGHT, actions=["arrest"])
    # When the partner's registrant opens Terugkoppeling on Saturday at 07.00
    with clock_at(amsterdam(2026, 3, 14, 7, 0)):
        browser = app.test_client()
        web_login(browser, people.partner_registrant)
        text = html.unescape(browser.get("/terugkoppeling").get_data(as_text=True))
    # Then the spoedmelding is there, in red, with its deadline
    assert f'class="card feedback-item spoed" id="item-{report["id"]}"' in text
    assert '<span class="spoed-label">Spoed</span>' in text
    assert "Terugkoppelen vóór zaterdag 14 maart 2026 08.40 uur" in text
    # And for the owner it comes before the older ordinary report
    with clock_at(amsterdam(2026, 3, 14, 7, 0)):
        owner = app.test_client()
        web_login(owner, people.registrant)
        text = owner.get("/terugkoppeling").get_data(as_text=True)
    cards = text[text.index('class="card feedback-item') :]  # after the choice of a plan
    assert cards.index("Gezin Voorbeeld") < cards.index("Gezin Eerder")


def test_nobody_acknowledged_in_time_the_coordinators_hear_once(
    app: Flask,
    mailbox: tuple[Mailbox, str],
    people: People,
    scene: dict[str, Any],
    report_on: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    box, _url = mailbox
    with clock_at(REPORTED):
        _plan, report = report_on(scene, occurred_at=FRIDAY_NIGHT, actions=["arrest"])
    arrived(box, 2)  # the announcements
    box.messages.clear()
    # Given youth protection acknowledged at 08.00, the wijkteam did not
    with clock_at(amsterdam(2026, 3, 14, 8, 0)):
        response = client.post(
            f"/api/v1/feedback/{report['id']}/acknowledge",
            json={"note": "Wij bellen moeder om 9 uur"},
            headers=auth_headers(people.partner_registrant),
        )
        assert response.status_code == 200
    # When the job runs at 08.39: before the deadline, nothing
    with clock_at(amsterdam(2026, 3, 14, 8, 39)):
        result = cli(app, "feedback", "escalate")
    assert result.exit_code == 0, result.output
    assert "0 escalation(s) sent" in result.output
    assert box.messages == []
    # When it runs at 08.41: the wijkteam's coordinator hears, the partner's does not
    with clock_at(amsterdam(2026, 3, 14, 8, 41)):
        result = cli(app, "feedback", "escalate")
    assert result.exit_code == 0, result.output
    assert "1 escalation(s) sent" in result.output
    assert [recipients for recipients, _message in box.messages] == [[COORDINATOR]]
    [message] = box.to(COORDINATOR)
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"]
    assert message["Message-ID"]
    body = text_of(message)
    assert "Bij Wijkteam Oost is 1 spoedmelding niet gelezen en opgepakt vóór zaterdag 14 maart 2026" in body
    assert "https://samenop.example/terugkoppeling/te-laat" in body
    assert_says_nothing_about_the_family(message)
    # And the next run, five minutes later, sends nothing again
    with clock_at(amsterdam(2026, 3, 14, 8, 46)):
        result = cli(app, "feedback", "escalate")
    assert "0 escalation(s) sent" in result.output
    assert len(box.messages) == 1
    with app.app_context():
        [row] = database.session.scalars(select(SpoedEscalation)).all()
        assert (row.organisation_id, row.recipients) == (people.owner_org.id, 1)
        audited = database.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "feedback_escalate")
        ).all()
        assert [entry.object_id for entry in audited] == [report["id"]]
    # And the coordinator's Te laat shows it first, as spoed, before the terugkoppeldag
    with clock_at(amsterdam(2026, 3, 14, 8, 50)):
        browser = app.test_client()
        web_login(browser, people.coordinator)
        text = html.unescape(browser.get("/terugkoppeling/te-laat").get_data(as_text=True))
    assert '<tr class="spoed"><td><span class="spoed-label">Spoed</span> Gezin Voorbeeld</td>' in text
    assert "Terugkoppelen vóór zaterdag 14 maart 2026 08.40 uur" in text


def test_a_failing_mail_server_does_not_lose_the_report(
    app: Flask,
    mailbox: tuple[Mailbox, str],
    scene: dict[str, Any],
    report_on: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    box, url = mailbox
    # Given a mail server nobody listens on
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"
    # When an arrest is reported
    with clock_at(REPORTED), caplog.at_level(logging.WARNING, logger="registry.ops.outbox"):
        _plan, report = report_on(scene, occurred_at=FRIDAY_NIGHT, actions=["arrest"])
        # Then the report is stored all the same (report_on saw 201), and each failure is logged
        with app.app_context():
            stored = database.session.get(Report, uuid.UUID(report["id"]))
            assert stored is not None
            assert stored.feedback_due_at is not None
        outbox_threads_done()
    logged = [record.getMessage() for record in caplog.records]
    assert len([line for line in logged if "(spoed): attempt 1 failed" in line]) == 2, logged
    assert not any(OWNER_SPOED in line or PARTNER_SPOED in line for line in logged)  # no addresses
    # And both announcements wait in the outbox with the error, for another attempt
    with app.app_context():
        waiting = database.session.scalars(select(OutboxMessage).order_by(OutboxMessage.target)).all()
        assert [(row.target, row.status, row.attempts) for row in waiting] == [
            (PARTNER_SPOED, "pending", 1),
            (OWNER_SPOED, "pending", 1),
        ]
        assert all("ConnectionRefusedError" in (row.last_error or "") for row in waiting)
        message_ids = {row.target: row.message_id for row in waiting}
    assert box.messages == []
    # When the mail server is back and the worker runs a minute later
    app.config["SMTP_URL"] = url
    with clock_at(REPORTED + timedelta(minutes=1)):
        result = cli(app, "worker", "--once")
    assert result.exit_code == 0, result.output
    # Then each address has its announcement, once, with the Message-ID chosen at the report
    assert sorted(recipients for recipients, _message in box.messages) == [[PARTNER_SPOED], [OWNER_SPOED]]
    for address in (OWNER_SPOED, PARTNER_SPOED):
        [message] = box.to(address)
        assert message["Message-ID"] == message_ids[address]
        assert email.utils.parsedate_to_datetime(message["Date"]) - REPORTED < timedelta(minutes=1)


def test_the_spoed_address_is_set_on_the_command_line_and_audited(app: Flask, people: People) -> None:
    name = people.owner_org.name
    refused = cli(app, "org", "spoed", name, "--email", "geen adres")
    assert refused.exit_code != 0
    assert "--email" in refused.output
    assert cli(app, "org", "spoed", "Onbekend", "--email", OWNER_SPOED).exit_code != 0
    assert cli(app, "org", "spoed", name, "--email", OWNER_SPOED).exit_code == 0
    with app.app_context():
        organisation = database.session.get(Organisation, people.owner_org.id)
        assert organisation is not None
        assert organisation.spoed_email == OWNER_SPOED
        [entry] = database.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "organisation_spoed_email")
        ).all()
        assert entry.object_id == str(people.owner_org.id)
    assert cli(app, "org", "spoed", name, "--clear").exit_code == 0
    with app.app_context():
        organisation = database.session.get(Organisation, people.owner_org.id)
        assert organisation is not None
        assert organisation.spoed_email is None


@pytest.mark.parametrize("hours", ["0", "73", "negen", "9.5"])
def test_spoed_hours_out_of_range_refuse_to_start(app_config: dict[str, Any], hours: str) -> None:
    with pytest.raises(ConfigError, match="SAMENOP_SPOED_HOURS"):
        create_app(app_config | {"SPOED_HOURS": hours})


def test_the_statistics_count_spoedmeldingen_and_their_acknowledgement(
    app: Flask,
    people: People,
    scene: dict[str, Any],
    report_on: Callable[..., Any],
    create_plan: Callable[..., dict[str, Any]],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    # Given two arrests: one acknowledged after 1 h 20 min (in time), one after 10 hours (late)
    with clock_at(REPORTED):
        _plan, first = report_on(scene, occurred_at=FRIDAY_NIGHT, actions=["arrest"])
        _other, second = report_on(
            create_plan(title="Gezin Tweede"), occurred_at=FRIDAY_NIGHT, actions=["arrest"],
            incident_ref="P-2026-0002",
        )  # fmt: skip
        report_on(create_plan(title="Gezin Gewoon"), occurred_at=FRIDAY_NIGHT, incident_ref="P-2026-0003")
    for report, moment in ((first, amsterdam(2026, 3, 14, 1, 0)), (second, amsterdam(2026, 3, 14, 9, 40))):
        with clock_at(moment):
            response = client.post(
                f"/api/v1/feedback/{report['id']}/acknowledge",
                json={},
                headers=auth_headers(people.registrant),
            )
            assert response.status_code == 200
    with clock_at(amsterdam(2026, 3, 20, 12, 0)):
        figures = client.get(
            "/api/v1/statistics",
            query_string={"from": "2026-03-01", "to": "2026-03-31"},
            headers=auth_headers(people.coordinator),
        ).get_json()
    assert figures["spoed"] == {
        "meldingen": 2,
        "acknowledged_within_deadline_share": 0.5,
        "median_minutes_to_acknowledgement": (80 + 600) // 2,
    }


def test_who_is_announced_to_is_who_hears_of_the_report(
    app: Flask,
    mailbox: tuple[Mailbox, str],
    people: People,
    scene: dict[str, Any],
    report_on: Callable[..., Any],
    make_org: Callable[..., Organisation],
) -> None:
    """rules.hearers_of (who is e-mailed, who is escalated) is rules.heard_by (whose
    Terugkoppeling shows it) read the other way round: the owner, the sharing organisation and
    the region's Veilig Thuis, nobody else."""
    vt = make_org("Veilig Thuis Noord", kind="veilig_thuis", region="Noord")
    with app.app_context():
        regions.set_veilig_thuis(database.session, regions.find_or_add(database.session, "Noord"), vt.name)
        database.commit()
    assert cli(app, "org", "spoed", vt.name, "--email", "piket@vt-noord.example").exit_code == 0
    with clock_at(REPORTED):
        _plan, report = report_on(scene, occurred_at=FRIDAY_NIGHT, actions=["arrest"])
    with app.app_context():
        session = database.session
        report_id = uuid.UUID(report["id"])
        hearers = set(session.scalars(rules.hearers_of(report_id)))
        every = session.scalars(select(Organisation.id)).all()
        heard = {
            organisation_id
            for organisation_id in every
            if session.scalar(select(exists().where(Report.id == report_id, rules.heard_by(organisation_id))))
        }
    assert hearers == heard == {people.owner_org.id, people.partner_org.id, vt.id}
    assert sorted(recipients for recipients, _message in arrived(mailbox[0], 3)) == [
        [PARTNER_SPOED],
        ["piket@vt-noord.example"],
        [OWNER_SPOED],
    ]
