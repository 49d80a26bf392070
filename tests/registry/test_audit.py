"""The audit log's hash chain: intact after real use, and every kind of tampering detected."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from registry.auth import two_factor
from registry.core import audit
from registry.core.db import db as database
from registry.ops.cli import audit_verify
from tests.conftest import close_app
from tests.reliability import dba

TOKEN_URL = "/api/v1/auth/token"


@pytest.fixture
def logged_chain(app: Flask, client: Any, make_user: Any, code_for: Any) -> int:
    """An audit log written by real logins: a failure, a success, a logout. Returns its length."""
    user = make_user(roles=("responder",))
    client.post(TOKEN_URL, json={"username": user.username, "password": "fout", "otp": "000000"})
    client.post(TOKEN_URL, json={"username": "onbekend", "password": "fout", "otp": "123456"})
    response = client.post(
        TOKEN_URL,
        json={"username": user.username, "password": user.password, "otp": code_for(user)},
    )
    assert response.status_code == 201
    token = response.get_json()["access_token"]
    client.delete(TOKEN_URL, headers={"Authorization": f"Bearer {token}"})
    with app.app_context():
        result = audit.verify(database.session)
    assert result.ok, result.problems
    assert result.checked == 4
    return result.checked


def tamper(app: Flask, sql: str, **params: Any) -> None:
    """What someone with the database owner's rights might do behind the application's back
    (the application itself cannot: the append-only triggers refuse it)."""
    dba.tamper(app, sql, **params)


def verify(app: Flask) -> audit.VerifyResult:
    with app.app_context():
        return audit.verify(database.session)


def cli_verify(app: Flask) -> Any:
    return app.test_cli_runner().invoke(audit_verify, [])


def test_chain_written_by_logins_verifies(app, logged_chain):
    # Given a log written by failed and successful logins and a logout
    # When `samenop audit verify` runs
    result = cli_verify(app)
    # Then it reports an intact chain and exits 0
    assert result.exit_code == 0, result.output
    assert f"audit chain intact: {logged_chain} entries" in result.output


def test_altered_row_is_detected(app, logged_chain):
    # Given a failed login turned into a success behind the application's back
    tamper(app, "UPDATE audit_entries SET outcome = 'success' WHERE id = 1")
    # When the chain is verified
    result = verify(app)
    # Then the altered row is named, and the command exits 1
    assert not result.ok
    assert any("row 1" in problem and "altered" in problem for problem in result.problems)
    command = cli_verify(app)
    assert command.exit_code == 1
    assert "BROKEN" in command.output


def test_altered_detail_is_detected(app, logged_chain):
    # Given the reason of a failed login rewritten (the JSON detail column)
    tamper(
        app,
        "UPDATE audit_entries SET detail = :detail WHERE id = 2",
        detail='{"channel": "api", "reason": "password"}',
    )
    # Then verification fails
    assert not verify(app).ok
    assert cli_verify(app).exit_code == 1


def test_deleted_middle_row_is_detected(app, logged_chain):
    # Given a row removed from the middle of the log
    tamper(app, "DELETE FROM audit_entries WHERE id = 2")
    # When the chain is verified
    result = verify(app)
    # Then the gap is reported
    assert not result.ok
    assert any("missing" in problem for problem in result.problems)
    assert cli_verify(app).exit_code == 1


def test_deleted_last_row_is_detected(app, logged_chain):
    # Given the newest row removed (nothing after it points back to it)
    tamper(app, "DELETE FROM audit_entries WHERE id = :last", last=logged_chain)
    # When the chain is verified
    result = verify(app)
    # Then the chain head no longer matches
    assert not result.ok
    assert any("chain head" in problem for problem in result.problems)
    assert cli_verify(app).exit_code == 1


def test_rows_reordered_by_renumbering_is_detected(app, logged_chain):
    # Given two rows whose ids are swapped (a reordering of events)
    tamper(app, "UPDATE audit_entries SET id = 100 WHERE id = 1")
    tamper(app, "UPDATE audit_entries SET id = 1 WHERE id = 2")
    tamper(app, "UPDATE audit_entries SET id = 2 WHERE id = 100")
    # Then verification fails
    assert not verify(app).ok
    assert cli_verify(app).exit_code == 1


def test_chain_verifies_whatever_the_database_time_zone(app, db_kind, logged_chain):
    # Given a PostgreSQL server that hands timestamps back in Dutch local time
    # (initdb takes the machine's zone, so a Dutch server commonly runs like this)
    if db_kind != "postgresql":
        pytest.skip("SQLite has no session time zone")
    with app.app_context():
        name = database.session.scalar(text("SELECT current_database()"))
        database.session.execute(text(f"ALTER DATABASE \"{name}\" SET timezone TO 'Europe/Amsterdam'"))
        database.commit()
    close_app(app)
    with app.app_context():
        assert database.session.scalar(text("SHOW timezone")) == "Europe/Amsterdam"
    # When the untouched chain is verified
    result = verify(app)
    # Then it is intact
    assert result.ok, result.problems
    assert cli_verify(app).exit_code == 0


def test_concurrent_appends_keep_the_chain_intact(app):
    # Given 16 requests that each write audit rows at the same moment
    threads = 16
    per_thread = 3
    start = threading.Barrier(threads)

    def append(number: int) -> None:
        with app.app_context():
            start.wait(timeout=30)
            for index in range(per_thread):
                audit.record(
                    database.session,
                    "demo_create",
                    "success",
                    username=f"thread{number}",
                    detail={"index": index},
                )
                database.commit()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(append, range(threads)))
    # When the chain is verified
    result = verify(app)
    # Then every row is there, in one unbroken chain
    assert result.ok, result.problems
    assert result.checked == threads * per_thread


def test_a_login_and_its_audit_row_commit_together(app, client, make_user):
    # Given a user; a login attempt fails on a malformed code
    user = make_user()
    before = verify(app).checked
    code = two_factor.current_code(user.totp_secret)
    client.post(
        TOKEN_URL,
        json={"username": user.username, "password": user.password, "otp": code + "0"},
    )
    # Then the failure is in the log, with which factor failed (for the privacy officer only)
    with app.app_context():
        row = database.session.execute(
            text("SELECT action, outcome, username, detail FROM audit_entries WHERE id = :id"),
            {"id": before + 1},
        ).one()
    assert (row.action, row.outcome, row.username) == ("login", "failed", user.username)
    assert code not in str(row.detail)
