"""The outbox (registry/ops/outbox.py): one message per row and recipient, delivered once however
many deliverers run, tried again later when the server fails for now, given up when it refuses
for good; and the sender that production must name (SAMENOP_MAIL_FROM)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select

from registry.app import create_app
from registry.core.config import ConfigError
from registry.core.db import db as database
from registry.core.models import OutboxMessage
from registry.ops import outbox
from tests.conftest import close_app
from tests.smtp import RestartableServer, free_port

NOW = datetime(2026, 3, 16, 6, 0, tzinfo=UTC)


@pytest.fixture
def apps(app_config: dict[str, Any]) -> Iterator[Any]:
    """Apps on the one test database, each with its own engine (as two servers have)."""
    made: list[Flask] = []

    def make(smtp_url: str | None) -> Flask:
        application = create_app(app_config | {"SMTP_URL": smtp_url})
        made.append(application)
        return application

    yield make
    for application in made:
        close_app(application)


def _queue(app: Flask, count: int, what: str = "test") -> list[int]:
    with app.app_context():
        ids = [
            outbox.add_email(
                database.session, f"{what}:{number}", f"piket{number}@wijkteam.example", "Samen Op: test", "1"
            )
            for number in range(count)
        ]
        database.commit()
    return [row_id for row_id in ids if row_id is not None]


def _rows(app: Flask) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(database.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        database.commit()  # nothing written: ends the transaction, keeps what was read
        return rows


def test_a_message_about_the_same_fact_is_added_once(mailbox, apps):
    app = apps(mailbox[1])
    # Given a message about a fact, added twice (a job that ran twice)
    assert len(_queue(app, 1, "digest:2026-03-16:7")) == 1
    # Then the second is not added
    assert _queue(app, 1, "digest:2026-03-16:7") == []
    assert len(_rows(app)) == 1


def test_two_deliverers_at_once_deliver_every_message_exactly_once(mailbox, apps):
    # Given 30 messages waiting, and two servers' deliverers, each with its own connections
    box, url = mailbox
    first, second = apps(url), apps(url)
    _queue(first, 30)
    results: list[outbox.Delivery] = []
    start = threading.Barrier(2)

    def deliverer(app: Flask) -> None:
        with app.app_context():
            start.wait()
            results.append(outbox.deliver(database.session))

    # When both deliver at the same moment
    threads = [threading.Thread(target=deliverer, args=(app,)) for app in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # Then every recipient got exactly one message, and together they delivered 30
    recipients = sorted(address for addresses, _message in box.messages for address in addresses)
    assert recipients == sorted(f"piket{number}@wijkteam.example" for number in range(30))
    assert sum(result.delivered for result in results) == 30
    assert {row.status for row in _rows(first)} == {"delivered"}
    assert {row.attempts for row in _rows(first)} == {1}


class Refusing:
    """A mail server that refuses every recipient: for good (550) or for now (451)."""

    def __init__(self, code: str) -> None:
        self.code = code

    async def handle_RCPT(
        self, _server: Any, _session: Any, _envelope: Any, _address: str, _options: Any
    ) -> str:  # noqa: N802 - aiosmtpd's hook
        return self.code


def test_a_server_that_fails_for_now_is_tried_again_later_and_one_that_refuses_is_not(apps):
    for code, status in (("451 4.3.0 try again later", "pending"), ("550 5.1.1 no such user", "failed")):
        port = free_port()
        server = Controller(Refusing(code), hostname="127.0.0.1", port=port)
        server.start()
        try:
            app = apps(f"smtp://127.0.0.1:{port}")
            with time_machine.travel(NOW, tick=False):
                [row_id] = _queue(app, 1, f"refused-{code[:3]}")
                with app.app_context():
                    outbox.deliver(database.session, [row_id])
        finally:
            server.stop()
        [row] = [row for row in _rows(app) if row.id == row_id]
        assert (row.status, row.attempts) == (status, 1), code
        assert code[:3] in (row.last_error or "")
        if status == "pending":
            # the first retry after 30 seconds, the next ones twice as far apart, at most an hour
            assert row.next_attempt_at == NOW + timedelta(seconds=30)
    assert [outbox.backoff(attempt) for attempt in (1, 2, 3)] == [
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
    ]
    assert outbox.backoff(20) == timedelta(hours=1)


def test_a_message_is_not_tried_again_before_its_time(apps, restartable_mailbox: RestartableServer):
    # Given a message whose first attempt failed (the server was down) at NOW
    server = restartable_mailbox
    app = apps(server.url)
    with time_machine.travel(NOW, tick=False):
        [row_id] = _queue(app, 1)
        with app.app_context():
            assert outbox.deliver(database.session).retrying == 1
    server.start()
    # When the deliverer runs 20 seconds later, nothing is tried; after 30 seconds it is delivered
    with time_machine.travel(NOW + timedelta(seconds=20), tick=False), app.app_context():
        assert outbox.deliver(database.session).delivered == 0
    with time_machine.travel(NOW + timedelta(seconds=31), tick=False), app.app_context():
        assert outbox.deliver(database.session).delivered == 1
    assert len(server.box.messages) == 1
    [row] = _rows(app)
    assert (row.id, row.status, row.attempts, row.delivered_at) == (
        row_id,
        "delivered",
        2,
        NOW + timedelta(seconds=31),
    )


def test_production_requires_a_real_sender(app_config):
    production = app_config | {"ENVIRONMENT": "production"}
    # Given production without SAMENOP_MAIL_FROM, or with an address of no real domain
    for sender in (None, "", "samenop@localhost", "geen adres", "a@b.example, c@d.example"):
        with pytest.raises(ConfigError, match="SAMENOP_MAIL_FROM"):
            create_app(production | {"MAIL_FROM": sender})
    with pytest.raises(ConfigError, match="SAMENOP_ENV"):
        create_app(app_config | {"ENVIRONMENT": "produktie"})
    # Then with one address of the organisation it starts; outside production a default serves
    started = create_app(production | {"MAIL_FROM": "samenop@veiligthuis-noord.example"})
    assert started.config["MAIL_FROM"] == "samenop@veiligthuis-noord.example"
    close_app(started)
    development = create_app(app_config | {"MAIL_FROM": None})
    assert development.config["MAIL_FROM"] == "samenop@localhost"
    close_app(development)


def test_the_environment_names_production(app_config, monkeypatch):
    monkeypatch.setenv("SAMENOP_ENV", "production")
    monkeypatch.delenv("SAMENOP_MAIL_FROM", raising=False)
    with pytest.raises(ConfigError, match="SAMENOP_MAIL_FROM must be set in production"):
        create_app(dict(app_config))
    monkeypatch.setenv("SAMENOP_MAIL_FROM", "samenop@samenop.example")
    application = create_app(dict(app_config))
    assert application.config["ENVIRONMENT"] == "production"
    close_app(application)
