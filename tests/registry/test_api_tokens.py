"""The bearer-token check on every API request: what it refuses, the idle clock, who the caller is."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from registry.auth.accounts import hash_token
from registry.core.db import db as database
from registry.core.models import ApiToken, AuditEntry, User, UserRole
from tests.registry.plan_data import plan_body

PLANS_URL = "/api/v1/plans"  # read only, for registrants
START = datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def last_used_at(app: Flask, headers: dict[str, str]) -> datetime:
    raw = headers["Authorization"].removeprefix("Bearer ")
    with app.app_context():
        token = database.session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(raw))).one()
        return token.last_used_at


def test_the_idle_clock_moves_at_most_once_a_minute(app, client, make_user, auth_headers, clock):
    # Given a token issued now
    headers = auth_headers(make_user())
    issued = last_used_at(app, headers)
    # When it is used 30 seconds later
    clock.shift(timedelta(seconds=30))
    assert client.get(PLANS_URL, headers=headers).status_code == 200
    # Then the idle clock is not written
    assert last_used_at(app, headers) == issued
    # but a use a minute after the last write moves it to now
    clock.shift(timedelta(seconds=31))
    assert client.get(PLANS_URL, headers=headers).status_code == 200
    assert last_used_at(app, headers) == START + timedelta(seconds=61)
    # and the next use within that minute leaves it there
    clock.shift(timedelta(seconds=20))
    assert client.get(PLANS_URL, headers=headers).status_code == 200
    assert last_used_at(app, headers) == START + timedelta(seconds=61)


def test_a_role_taken_away_counts_from_the_next_request(app, client, make_user, auth_headers):
    # Given a registrant with a working token
    user = make_user(("registrant", "responder"))
    headers = auth_headers(user)
    assert client.get(PLANS_URL, headers=headers).status_code == 200
    # When a coordinator takes the registrant role away
    with app.app_context():
        database.session.execute(
            delete(UserRole).where(UserRole.user_id == user.id, UserRole.role == "registrant")
        )
        database.commit()
    # Then the same token is refused at once, with the API's error body
    refused = client.get(PLANS_URL, headers=headers)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer niet-bestaand-token", "Token abc"],
)
def test_a_missing_or_unknown_token_is_401(client, authorization):
    # When a request carries no bearer token, or one the server never issued
    response = client.get(PLANS_URL, headers={"Authorization": authorization} if authorization else {})
    # Then it is 401 with the API's error body and the scheme that would be accepted
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.get_json()["error"] == {
        "code": "unauthenticated",
        "message": "Log opnieuw in: het token ontbreekt of is verlopen.",
        "fields": {},
    }


def test_each_request_acts_as_its_own_tokens_user(
    app: Flask, db: Any, client: FlaskClient, make_user: Any, make_org: Any, auth_headers: Any
) -> None:
    # Given two registrants of different organisations (requests here share one app context,
    # so nothing of one request's caller may stick to the next)
    first = make_user(("registrant",), org=make_org("Wijkteam Noord"))
    second = make_user(("registrant",), org=make_org("Veilig Thuis Drenthe"))
    headers = {first.id: auth_headers(first), second.id: auth_headers(second)}
    # When they list their plans in turns
    for user_id in (first.id, second.id, first.id):
        assert client.get(PLANS_URL, headers=headers[user_id]).status_code == 200
    # Then each audit row names the user and organisation of the token that asked
    rows = db.scalars(select(AuditEntry).where(AuditEntry.action == "plan_list").order_by(AuditEntry.id))
    assert [(row.user_id, row.username, row.organisation) for row in rows] == [
        (first.id, first.username, "Wijkteam Noord"),
        (second.id, second.username, "Veilig Thuis Drenthe"),
        (first.id, first.username, "Wijkteam Noord"),
    ]


def test_the_caller_reads_like_the_stored_user(app, client, make_user, auth_headers):
    # Given a registrant (the API builds the caller's User from the token check, without a query)
    user = make_user(("registrant",))
    headers = auth_headers(user)
    # When they create a plan and revoke their token
    assert client.post(PLANS_URL, json=plan_body(), headers=headers).status_code == 201
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    # Then what was stored names them, and the token is dead
    with app.app_context():
        stored = database.session.get(User, user.id)
        assert stored is not None
        rows = database.session.scalars(
            select(AuditEntry).where(AuditEntry.user_id == user.id).order_by(AuditEntry.id)
        ).all()
    assert [row.action for row in rows][-2:] == ["plan_create", "logout"]
    assert {(row.username, row.organisation) for row in rows} == {(stored.username, stored.organisation.name)}
    assert client.get(PLANS_URL, headers=headers).status_code == 401
