"""Webhooks (issue 19, Push): an organisation's own system is told of feedback, spoedmeldingen,
acknowledgements and expiring plans by a signed POST to a real HTTP receiver on loopback. Each
event is delivered once with a signature the receiver checks with its own secret; a receiver
that is down gets every event afterwards, in order, none twice; a message carries ids and a link,
never the family; and only the organisations that hear of a fact are told of it."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from standardwebhooks import Webhook, WebhookVerificationError

from registry.core.db import db as database
from registry.core.models import AuditEntry, OutboxMessage, User
from registry.ops import outbox, webhook
from registry.regions import operations as regions
from tests.conftest import outbox_threads_done
from tests.feedback.conftest import NARRATIVE, People
from tests.receiver import Receiver
from tests.registry.plan_data import today

# what must never travel in a webhook: everything that names or locates the family, or the call
# (whole numbers: a fragment such as "06-" may be part of a uuid)
PERSONAL = [
    "Gezin Voorbeeld", "Noor", "Testveen", "Testman", "Verzonnenstraat", "9401 AB", "9401AB", "Testdorp",
    "Tante Fictief", "06-12345678", "06-87654321", "06-11223344", "088-1234567", "088-7654321",
    "0612345678", "Beschermer", NARRATIVE, "Toelichting", "P-2026-0001", "Meldkamer", "Wijkteam",
    "Jeugdbescherming", "Veilig Thuis",
]  # fmt: skip


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.start()
    yield running
    outbox_threads_done()
    running.stop()


def cli(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def add_endpoint(app: Flask, receiver: Receiver, organisation: str, path: str, events: str) -> str:
    """`samenop webhook add`; the receiver is given the secret it prints. -> the secret"""
    result = cli(
        app, "webhook", "add", "--org", organisation, "--url", receiver.url(path), "--events", events
    )
    assert result.exit_code == 0, result.output
    [secret] = [line.split(": ", 1)[1] for line in result.output.splitlines() if line.startswith("secret: ")]
    receiver.secrets[path] = secret
    return secret


def webhook_rows(app: Flask) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(
            database.session.scalars(
                select(OutboxMessage).where(OutboxMessage.channel == "webhook").order_by(OutboxMessage.id)
            )
        )
        database.commit()
        return rows


def test_a_report_reaches_the_owners_system_once_with_a_signature_it_can_check(
    app: Flask, people: People, report_on: Callable[..., Any], receiver: Receiver
) -> None:
    # Given Wijkteam Oost's system registered for feedback.created
    secret = add_endpoint(app, receiver, people.owner_org.name, "oost", "feedback.created")
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    # When the control room reports on one of its plans
    plan, report = report_on()
    outbox_threads_done()
    # Then its system got one message, at once, and its own check of the signature holds
    assert len(receiver.attempts) == 1
    [message] = receiver.received("oost")
    assert message.verified
    assert Webhook(secret).verify(message.body, message.headers)["type"] == "feedback.created"
    assert message.event["data"] == {
        "report_id": report["id"],
        "plan_id": plan["id"],
        "melding_id": report["melding_id"],
        "url": f"http://localhost/api/v1/meldingen/{report['melding_id']}",
    }
    # And the webhook-id is the outbox row's own id, delivered on the first attempt
    [row] = webhook_rows(app)
    assert (row.message_id, row.status, row.attempts) == (message.id, "delivered", 1)
    assert message.headers["content-type"] == "application/json"
    # And a receiver with another secret, or a body changed on the way, is told it is not ours
    with pytest.raises(WebhookVerificationError):
        Webhook(webhook.new_secret()).verify(message.body, message.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(message.body.replace(b"feedback", b"fedback"), message.headers)


def test_a_receiver_with_the_wrong_secret_refuses_and_the_message_is_given_up(
    app: Flask, people: People, report_on: Callable[..., Any], receiver: Receiver
) -> None:
    # Given an endpoint whose receiver holds a secret of its own, not the one Samen Op made
    add_endpoint(app, receiver, people.owner_org.name, "oost", "feedback.created")
    receiver.secrets["oost"] = webhook.new_secret()
    # When a report is delivered
    report_on()
    outbox_threads_done()
    # Then the receiver's check failed (it answered 401), and the outbox gives the message up
    [attempt] = receiver.attempts
    assert not attempt.verified
    assert receiver.accepted == {}
    [row] = webhook_rows(app)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "401" in (row.last_error or "")


def test_a_receiver_that_was_down_gets_every_event_afterwards_in_order_and_none_twice(
    app: Flask, people: People, report_on: Callable[..., Any], receiver: Receiver
) -> None:
    # Given Wijkteam Oost's system, down
    add_endpoint(app, receiver, people.owner_org.name, "oost", "feedback.created")
    receiver.stop()
    # When three reports are made on its plans while it is down
    reports = [report_on()[1]["id"] for _ in range(3)]
    outbox_threads_done()
    # Then none was lost: each waits in the outbox
    rows = webhook_rows(app)
    assert [row.status for row in rows] == ["pending"] * 3
    assert "ConnectionRefusedError" in (rows[0].last_error or "")
    # When it is back an hour later, but answers the first attempt with 503
    later = datetime.now(UTC) + timedelta(hours=1)
    receiver.start()
    receiver.answers = [503]
    with time_machine.travel(later, tick=False), app.app_context():
        first = outbox.deliver(database.session)
    # Then the first waits for its retry, and the two after it wait for the first
    assert (first.delivered, first.retrying) == (0, 1)
    assert [attempt.event["data"]["report_id"] for attempt in receiver.attempts] == reports[:1]
    # When the deliverer runs again after the backoff
    with time_machine.travel(later + timedelta(minutes=5), tick=False), app.app_context():
        second = outbox.deliver(database.session)
    # Then all three arrive, in the order they happened, each once, each signed
    assert second.delivered == 3
    assert [message.event["data"]["report_id"] for message in receiver.accepted.values()] == reports
    assert all(message.verified for message in receiver.accepted.values())
    assert receiver.duplicates == 0
    # And the retried message kept its webhook-id, so a receiver that saw it could tell
    retried = [a.id for a in receiver.attempts if a.event["data"]["report_id"] == reports[0]]
    assert len(retried) == 2
    assert len(set(retried)) == 1
    assert [row.status for row in webhook_rows(app)] == ["delivered"] * 3
    # When the worker's deliverer runs once more, nothing goes out again
    with time_machine.travel(later + timedelta(hours=2), tick=False), app.app_context():
        assert outbox.deliver(database.session).delivered == 0
    assert len(receiver.attempts) == 4


def test_a_message_that_arrived_but_whose_answer_was_lost_is_counted_once(
    app: Flask, people: People, report_on: Callable[..., Any], receiver: Receiver
) -> None:
    # Given a receiver that takes a message in, but answers only after Samen Op stopped waiting
    app.config["WEBHOOK_TIMEOUT_SECONDS"] = 1
    add_endpoint(app, receiver, people.owner_org.name, "oost", "feedback.created")
    receiver.delays = [2.5]
    # When a report is delivered, and tried again after the backoff
    report_on()
    outbox_threads_done()
    [row] = webhook_rows(app)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "timed out" in (row.last_error or "")
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=1), tick=False), app.app_context():
        assert outbox.deliver(database.session).delivered == 1
    # Then both attempts carried the same webhook-id, and the receiver's deduplication counts it once
    assert len(receiver.attempts) == 2
    assert receiver.attempts[0].id == receiver.attempts[1].id == row.message_id
    assert len(receiver.accepted) == 1
    assert receiver.duplicates == 1


def test_each_event_reaches_only_the_organisations_it_concerns_and_names_nobody(
    app: Flask,
    client: FlaskClient,
    people: People,
    make_org: Callable[..., Any],
    create_plan: Callable[..., dict[str, Any]],
    share_plan: Callable[..., None],
    report_on: Callable[..., Any],
    auth_headers: Callable[[User], dict[str, str]],
    receiver: Receiver,
) -> None:
    # Given the region's Veilig Thuis, a plan of Wijkteam Oost shared with Jeugdbescherming,
    # and the systems of everyone around it, each wanting some events
    vt = make_org("Veilig Thuis Noord", kind="veilig_thuis", region="Noord")
    with app.app_context():
        regions.set_veilig_thuis(database.session, regions.find_or_add(database.session, "Noord"), vt.name)
        database.commit()
    every = "feedback.created,report.urgent,acknowledgement.created,plan.expiring"
    add_endpoint(app, receiver, people.owner_org.name, "oost", every)
    add_endpoint(app, receiver, people.partner_org.name, "partner", "feedback.created")
    add_endpoint(app, receiver, vt.name, "vt", "report.urgent")
    add_endpoint(app, receiver, people.stranger_org.name, "west", every)
    add_endpoint(app, receiver, people.police_org.name, "meldkamer", every)
    plan = create_plan()
    share_plan(plan, people.partner_org)
    # When the control room reports an arrest on it (a spoedmelding)
    _plan, report = report_on(plan, actions=["arrest", "children_with_network"])
    outbox_threads_done()
    # Then the owner hears of the feedback and the spoedmelding, the partner of the feedback (all
    # it asked for), Veilig Thuis of the spoedmelding; the stranger and the reporter of nothing
    assert sorted(receiver.events("oost")) == ["feedback.created", "report.urgent"]
    assert receiver.events("partner") == ["feedback.created"]
    assert receiver.events("vt") == ["report.urgent"]
    assert receiver.events("west") == []
    assert receiver.events("meldkamer") == []
    [urgent] = [m for m in receiver.received("oost") if m.event["type"] == "report.urgent"]
    assert urgent.event["data"]["report_id"] == report["id"]
    assert urgent.event["data"]["feedback_due_at"].endswith("Z")
    # When the owner acknowledges it
    answer = client.post(
        f"/api/v1/feedback/{report['id']}/acknowledge",
        json={"note": "Gezin gebeld."},
        headers=auth_headers(people.registrant),
    )
    assert answer.status_code in (200, 201), answer.get_data(as_text=True)
    outbox_threads_done()
    # Then the control room that reported hears of it, and nobody else
    [ack] = receiver.received("meldkamer")
    assert ack.event["type"] == "acknowledgement.created"
    assert ack.event["data"] == {
        "report_id": report["id"],
        "plan_id": plan["id"],
        "melding_id": report["melding_id"],
        "organisation_id": people.owner_org.id,
        "url": f"http://localhost/api/v1/reports/{report['id']}",
    }
    assert "acknowledgement.created" not in receiver.events("oost") + receiver.events("west")
    # When a plan of Wijkteam Oost comes within 14 days of its end
    ending = create_plan(valid_until=(today() + timedelta(days=10)).isoformat())
    assert cli(app, "plans", "expire", "--date", today().isoformat()).exit_code == 0
    outbox_threads_done()
    # Then its owner's system is told, once; nobody else's
    [expiring] = [m for m in receiver.received("oost") if m.event["type"] == "plan.expiring"]
    assert expiring.event["data"] == {
        "plan_id": ending["id"],
        "valid_until": ending["valid_until"],
        "days_before": 14,
        "url": f"http://localhost/api/v1/plans/{ending['id']}",
    }
    assert "plan.expiring" not in receiver.events("west") + receiver.events("meldkamer")
    assert cli(app, "plans", "expire", "--date", today().isoformat()).exit_code == 0
    outbox_threads_done()
    assert receiver.events("oost").count("plan.expiring") == 1
    # And no message named or located the family, the call or an organisation, in any header
    # or body; each was signed
    assert receiver.attempts
    assert all(message.verified for message in receiver.attempts)
    for message in receiver.attempts:
        sent = message.body.decode() + json.dumps(message.headers)
        for personal in PERSONAL:
            assert personal not in sent, (personal, message.event)


def test_the_administrator_manages_endpoints_and_every_step_is_audited(
    app: Flask, people: People, report_on: Callable[..., Any], receiver: Receiver
) -> None:
    organisation = people.owner_org.name
    # Bad input names the option and stores nothing
    for args, option in (
        (("--url", "ftp://ontvanger.example/hook", "--events", "feedback.created"), "--url"),
        (("--url", "https://user:pw@ontvanger.example/hook", "--events", "feedback.created"), "--url"),
        (("--url", receiver.url("oost"), "--events", "feedback.created,plan.deleted"), "--events"),
        (("--url", receiver.url("oost"), "--events", ","), "--events"),
    ):
        result = cli(app, "webhook", "add", "--org", organisation, *args)
        assert result.exit_code != 0, result.output
        assert option in result.output, result.output
    assert "no webhooks" in cli(app, "webhook", "list").output
    # In production only https is taken
    app.config["ENVIRONMENT"] = "production"
    refused = cli(
        app,
        "webhook",
        "add",
        "--org",
        organisation,
        "--url",
        receiver.url("oost"),
        "--events",
        "feedback.created",
    )
    assert refused.exit_code != 0
    assert "https://" in refused.output
    app.config["ENVIRONMENT"] = "development"
    # Given an endpoint, listed (the secret is not shown again)
    old = add_endpoint(app, receiver, organisation, "oost", "feedback.created")
    listed = cli(app, "webhook", "list", "--org", organisation)
    assert receiver.url("oost") in listed.output
    assert "active" in listed.output
    assert old not in listed.output
    [endpoint_id] = [int(line.split("\t")[0]) for line in listed.output.splitlines() if "\t" in line]
    # When its secret is rotated
    rotated = cli(app, "webhook", "rotate-secret", str(endpoint_id))
    assert rotated.exit_code == 0, rotated.output
    [new] = [line.split(": ", 1)[1] for line in rotated.output.splitlines() if line.startswith("secret: ")]
    assert new != old
    # Then a message signed afterwards holds for a receiver with either secret (the overlap), and
    # only the new one holds once the overlap has passed
    receiver.secrets["oost"] = old
    report_on()
    outbox_threads_done()
    [during] = receiver.received("oost")
    assert Webhook(new).verify(during.body, during.headers)
    assert Webhook(old).verify(during.body, during.headers)
    with app.app_context():
        stored = database.session.scalars(
            select(OutboxMessage).where(OutboxMessage.channel == "webhook")
        ).one()
        endpoint_secret = webhook.unseal(stored_endpoint_secret(stored.endpoint_id))
    assert endpoint_secret == new
    receiver.stop()
    report_on()
    outbox_threads_done()
    receiver.secrets["oost"] = new
    receiver.start()
    after = datetime.now(UTC) + timedelta(hours=25)
    with time_machine.travel(after, tick=False), app.app_context():
        assert outbox.deliver(database.session).delivered == 1
        [late] = [m for m in receiver.received("oost") if m is not during]
        assert len(late.headers["webhook-signature"].split(" ")) == 1
        with pytest.raises(WebhookVerificationError):
            Webhook(old).verify(late.body, late.headers)
    # When it is disabled, a report reaches it no more, and what waited for it is given up
    receiver.stop()
    report_on()
    outbox_threads_done()
    assert cli(app, "webhook", "disable", str(endpoint_id)).exit_code == 0
    report_on()
    receiver.start()
    with time_machine.travel(after + timedelta(hours=1), tick=False), app.app_context():
        outbox.deliver(database.session)
    assert len(receiver.received("oost")) == 2
    statuses = [row.status for row in webhook_rows(app)]
    assert statuses == ["delivered", "delivered", "failed"]
    assert "disabled" in cli(app, "webhook", "list").output
    # And every step is in the audit log, by the administrator, without the secret
    with app.app_context():
        rows = list(
            database.session.scalars(
                select(AuditEntry).where(AuditEntry.object_type == "webhook").order_by(AuditEntry.id)
            )
        )
        audited = [(row.action, row.outcome) for row in rows]
        details = " ".join(json.dumps(row.detail) for row in rows)
    assert audited == [
        ("webhook_list", "success"),
        ("webhook_add", "success"),
        ("webhook_list", "success"),
        ("webhook_rotate", "success"),
        ("webhook_disable", "success"),
        ("webhook_list", "success"),
    ]
    assert old not in details
    assert new not in details


def stored_endpoint_secret(endpoint_id: int | None) -> str:
    from registry.core.models import WebhookEndpoint

    endpoint = database.session.get(WebhookEndpoint, endpoint_id)
    assert endpoint is not None
    # the column holds the ciphertext, never the secret itself
    assert not endpoint.secret_encrypted.startswith("whsec_")
    return endpoint.secret_encrypted


def test_the_signature_is_the_standard_webhooks_one() -> None:
    """The example of the Standard Webhooks specification, signed by what the outbox sends with."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    at = datetime.fromtimestamp(1614265330, UTC)
    body = '{"test": 2432232314}'
    headers = webhook.headers([secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", at, body)
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert headers["webhook-timestamp"] == "1614265330"
    # and retrying is for what may succeed later: 5xx, 408, 429; any other refusal is final
    assert [webhook.is_permanent_status(status) for status in (500, 503, 408, 429)] == [False] * 4
    assert [webhook.is_permanent_status(status) for status in (400, 401, 404, 410, 301)] == [True] * 5


def test_a_coordinator_manages_the_organisations_own_endpoints_through_the_api(
    app: Flask,
    client: FlaskClient,
    people: People,
    auth_headers: Callable[[User], dict[str, str]],
    report_on: Callable[..., Any],
    receiver: Receiver,
) -> None:
    api = "/api/v1/webhooks"
    coordinator = auth_headers(people.coordinator)
    # Bad input answers 422 naming the field, and stores nothing
    for body, field in (
        ({"url": "ftp://ontvanger.example/hook", "events": ["feedback.created"]}, "url"),
        ({"url": receiver.url("oost"), "events": ["plan.deleted"]}, "events.0"),
        ({"url": receiver.url("oost"), "events": []}, "events"),
        ({"events": ["feedback.created"]}, "url"),
    ):
        answer = client.post(api, json=body, headers=coordinator)
        assert answer.status_code == 422, answer.get_data(as_text=True)
        assert field in answer.get_json()["error"]["fields"], answer.get_json()
    # Given the coordinator adds one: the answer holds the secret, this once
    made = client.post(
        api, json={"url": receiver.url("oost"), "events": ["feedback.created"]}, headers=coordinator
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    endpoint = made.get_json()
    assert made.headers["Location"] == f"{api}/{endpoint['id']}"
    assert endpoint["secret"].startswith("whsec_")
    assert endpoint["created_by"] == people.coordinator.username
    receiver.secrets["oost"] = endpoint["secret"]
    listed = client.get(api, headers=coordinator).get_json()["items"]
    assert [item["url"] for item in listed] == [receiver.url("oost")]
    assert "secret" not in listed[0]
    # Then its system hears of a report, signed with that secret
    report_on()
    outbox_threads_done()
    [message] = receiver.received("oost")
    assert message.verified
    # And another organisation's coordinator neither sees, rotates nor disables it
    stranger = auth_headers(people.stranger_coordinator)
    assert client.get(api, headers=stranger).get_json()["items"] == []
    for action in ("rotate-secret", "disable"):
        assert client.post(f"{api}/{endpoint['id']}/{action}", headers=stranger).status_code == 404
    assert client.post(f"{api}/nonsense/disable", headers=coordinator).status_code == 404
    # And a registrant of the organisation may not manage them
    assert client.get(api, headers=auth_headers(people.registrant)).status_code == 403
    # When the coordinator rotates the secret and then disables it
    rotated = client.post(f"{api}/{endpoint['id']}/rotate-secret", headers=coordinator)
    assert rotated.status_code == 200
    assert rotated.get_json()["secret"] not in (endpoint["secret"], None)
    disabled = client.post(f"{api}/{endpoint['id']}/disable", headers=coordinator)
    assert disabled.get_json()["is_active"] is False
    assert client.post(f"{api}/{endpoint['id']}/rotate-secret", headers=coordinator).status_code == 409
    # Then a report reaches it no more
    report_on()
    outbox_threads_done()
    assert len(receiver.attempts) == 1
