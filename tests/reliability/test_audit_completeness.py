"""Audit completeness: every lookup and every failed login leaves exactly one audit row, also
when many arrive at once; the chain then verifies through `samenop audit verify`; and the
application itself cannot change or remove audit rows (database triggers)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from registry.core import audit
from registry.core.db import db as database
from registry.core.models import AuditEntry, Lookup, User
from registry.ops.cli import audit_verify
from tests.registry.plan_data import address, person, plan_body

LOOKUPS = "/api/v1/lookups"
TOKEN = "/api/v1/auth/token"
THREADS = 8
PER_THREAD = 5


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    # what is counted here is the audit trail, not the rate limiter (tested on its own)
    return {**app_config, "LOOKUP_RATE_LIMIT": "10000 per minute", "TOKEN_RATE_LIMIT": "10000 per minute"}


@pytest.fixture
def responder_headers(make_org: Any, make_user: Any, auth_headers: Any) -> dict[str, str]:
    control_room = make_org("Meldkamer Audit", kind="police")
    return dict(auth_headers(make_user(roles=("responder",), org=control_room)))


@pytest.fixture
def family(client: FlaskClient, make_org: Any, make_user: Any, auth_headers: Any) -> dict[str, Any]:
    """One active plan: Kerkweg 3, 9403 EF; Ada Controlebeek, 06-55443322 (all invented)."""
    registrant = make_user(roles=("registrant",), org=make_org("Wijkteam Audit"))
    body = plan_body(
        addresses=[address(postcode="9403 EF", house_number=3, street="Kerkweg")],
        persons=[person(first_name="Ada", surname_prefix="", surname="Controlebeek", phone="06-55443322")],
    )
    response = client.post("/api/v1/plans", json=body, headers=auth_headers(registrant))
    assert response.status_code == 201, response.get_data(as_text=True)
    return dict(response.get_json())


# a mix of every kind, with and without a match
QUERIES: tuple[dict[str, Any], ...] = (
    {"address": {"postcode": "9403EF", "house_number": 3}},
    {"address": {"postcode": "9403EF", "house_number": 5}},
    {"phone": "06-55443322"},
    {"phone": "06-21436587"},
    {"person": {"name": "Ada Controlebeek"}},
    {"address_text": "Kerkweg 3"},
)


def look_up(client: FlaskClient, headers: dict[str, str], number: int) -> str:
    query = QUERIES[number % len(QUERIES)]
    response = client.post(LOOKUPS, json={"incident_ref": f"P-AUD-{number:04d}", **query}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(response.get_json()["lookup_id"])


def lookups_and_audit_rows(app: Flask) -> tuple[dict[str, int], dict[str, tuple[str, int]]]:
    """Stored lookups (id -> match count) and lookup audit rows (lookup id -> (outcome, rows))."""
    with app.app_context():
        session = database.session
        stored = {str(row.id): row.match_count for row in session.scalars(select(Lookup))}
        audited: dict[str, tuple[str, int]] = {}
        for object_id, outcome, count in session.execute(
            select(AuditEntry.object_id, AuditEntry.outcome, func.count())
            .where(AuditEntry.action == "lookup")
            .group_by(AuditEntry.object_id, AuditEntry.outcome)
        ):
            previous = audited.get(object_id, (outcome, 0))[1]
            audited[object_id] = (outcome, previous + count)
    return stored, audited


def assert_one_row_each(app: Flask, answered: list[str]) -> None:
    stored, audited = lookups_and_audit_rows(app)
    # exactly the lookups that were answered, each stored once and audited once
    assert sorted(stored) == sorted(answered)
    assert sorted(audited) == sorted(answered)
    assert all(rows == 1 for _outcome, rows in audited.values())
    # and the audit row says what the stored lookup found
    for lookup_id, match_count in stored.items():
        assert audited[lookup_id][0] == ("match" if match_count else "no_match")


def cli_verify(app: Flask) -> Any:
    return app.test_cli_runner().invoke(audit_verify, [])


def test_sequential_lookups_leave_exactly_one_audit_row_each(app, client, family, responder_headers):
    # Given an active plan and a responder
    # When the control room performs 24 lookups one after another, of every kind
    answered = [look_up(client, responder_headers, number) for number in range(24)]
    # Then there are 24 stored lookups and 24 lookup audit rows, one per lookup, none else
    assert len(set(answered)) == 24
    assert_one_row_each(app, answered)
    result = cli_verify(app)
    assert result.exit_code == 0, result.output
    assert "audit chain intact" in result.output


def test_concurrent_lookups_leave_exactly_one_audit_row_each(app, family, responder_headers):
    # Given 8 clients that start at the same moment
    start = threading.Barrier(THREADS)

    def burst(thread: int) -> list[str]:
        client = app.test_client()
        start.wait(timeout=30)
        return [look_up(client, responder_headers, thread * PER_THREAD + n) for n in range(PER_THREAD)]

    # When each performs 5 lookups as fast as it can
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        answered = [lookup_id for batch in pool.map(burst, range(THREADS)) for lookup_id in batch]
    # Then all 40 were answered, stored once and audited once
    assert len(set(answered)) == THREADS * PER_THREAD
    assert_one_row_each(app, answered)
    # and `samenop audit verify` finds one unbroken chain after the contention
    result = cli_verify(app)
    assert result.exit_code == 0, result.output
    with app.app_context():
        total = database.session.scalar(select(func.count()).select_from(AuditEntry))
    assert f"audit chain intact: {total} entries" in result.output


def test_concurrent_failed_logins_leave_exactly_one_audit_row_each(app, make_user):
    # Given two real accounts and two names that do not exist
    users: list[User] = [make_user(roles=("responder",)) for _ in range(2)]
    names = [users[0].username, users[1].username, "bestaatniet1", "bestaatniet2"]
    attempts = [(names[n % len(names)], f"fout-wachtwoord-{n}") for n in range(12)]
    with app.app_context():
        before = database.session.scalar(select(func.count()).select_from(AuditEntry))
    start = threading.Barrier(len(attempts))

    def attempt(args: tuple[str, str]) -> int:
        client = app.test_client()
        start.wait(timeout=30)
        username, password = args
        body = {"username": username, "password": password, "otp": "123456"}
        return client.post(TOKEN, json=body).status_code

    # When 12 failed logins arrive at once (3 per name, under the lock threshold)
    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        statuses = list(pool.map(attempt, attempts))
    # Then each was refused, and each left exactly one audit row naming who tried
    assert statuses == [401] * len(attempts)
    with app.app_context():
        rows = database.session.execute(
            select(AuditEntry.username, AuditEntry.outcome).where(
                AuditEntry.action == "login", AuditEntry.id > before
            )
        ).all()
    assert sorted(rows) == sorted((username, "failed") for username, _password in attempts)
    assert cli_verify(app).exit_code == 0


# --- append-only in the database ------------------------------------------------------------


@pytest.fixture
def chain(app: Flask) -> list[int]:
    """Three audit rows, written as the application writes them."""
    with app.app_context():
        ids = [audit.record(database.session, "demo_create", "success", username="test") for _ in range(3)]
        database.commit()
    return ids


def refused(app: Flask, sql: str, *settings: str, **params: Any) -> None:
    """Run `sql` through the app's own engine and session; it must fail and change nothing."""
    with app.app_context():
        session = database.session
        for setting in settings:
            session.execute(text(setting))
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(sql), params)
        session.rollback()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_entries SET outcome = 'success' WHERE id = :id",
        "UPDATE audit_entries SET detail = '{}' WHERE id = :id",
        "DELETE FROM audit_entries WHERE id = :id",
        "DELETE FROM audit_entries",
    ],
    ids=["update outcome", "update detail", "delete one", "delete all"],
)
def test_application_cannot_update_or_delete_audit_rows(app, chain, sql):
    # Given an audit chain the application wrote
    # When the application's own connection tries to change or remove rows
    refused(app, sql, id=chain[0])
    # Then the database refused, and the chain is untouched and verifies
    result = cli_verify(app)
    assert result.exit_code == 0, result.output
    assert "audit chain intact: 3 entries" in result.output


def test_purge_escape_does_not_open_young_rows_or_rows_after_the_checkpoint(app, db_kind, chain):
    # Given the purge's escape switched on (PostgreSQL) and the checkpoint moved past every row,
    # as code with the application's rights could do (audit_head is written on every append)
    settings = ("SET LOCAL samenop.audit_purge = 'on'",) if db_kind == "postgresql" else ()
    with app.app_context():
        database.session.execute(text("UPDATE audit_head SET first_entry_id = 1000 WHERE id = 1"))
        # When it deletes rows younger than 12 months
        for setting in settings:
            database.session.execute(text(setting))
        with pytest.raises(DBAPIError, match="append-only"):
            database.session.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": chain[0]})
        database.session.rollback()
    # Then the triggers refused: no row younger than the least audit retention ever goes
    with app.app_context():
        assert database.session.scalar(select(func.count()).select_from(AuditEntry)) == 3


def test_rows_are_still_appended(app, chain):
    # Given the triggers in place, When the application appends as always
    with app.app_context():
        entry_id = audit.record(database.session, "demo_create", "success", username="test", detail={"n": 4})
        database.commit()
    # Then the row is there and the chain verifies
    assert entry_id == chain[-1] + 1
    assert cli_verify(app).exit_code == 0
