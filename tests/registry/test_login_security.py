"""Security of the login: one-time codes, malformed codes, lockout, identical answers, tokens."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from registry.auth import accounts, two_factor
from registry.cli import user_unlock
from registry.db import db as database
from registry.models import ApiToken, AuditEntry, User
from tests.conftest import csrf_from

TOKEN_URL = "/api/v1/auth/token"
# the middle of a TOTP step, so that "the current step" is unambiguous under a frozen clock
START = datetime(2026, 3, 2, 9, 0, 15, tzinfo=UTC)


# --- helpers -------------------------------------------------------------------------------------


def code_at(user: User, step: int) -> str:
    """The code an authenticator shows during time step `step`."""
    return two_factor.current_code(user.totp_secret or "", now=step * two_factor.STEP_SECONDS)


def step_now() -> int:
    return int(datetime.now(UTC).timestamp() // two_factor.STEP_SECONDS)


def other_code(code: str) -> str:
    """A well-formed six-digit code that is not `code`."""
    return f"{(int(code) + 1) % 10**6:06d}"


def ask_token(
    client: FlaskClient,
    user: Any,
    otp: str,
    *,
    password: str | None = None,
    username: str | None = None,
) -> Any:
    return client.post(
        TOKEN_URL,
        json={
            "username": username or user.username,
            "password": password or user.password,
            "otp": otp,
        },
    )


def last_step(app: Flask, user: User) -> int | None:
    with app.app_context():
        return database.session.get(User, user.id).totp_last_step  # type: ignore[union-attr]


def token_count(app: Flask, user: User) -> int:
    with app.app_context():
        return database.session.scalar(
            select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user.id)
        )


def assert_api_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The contract's error body: {"error": {"code", "message", "fields"}}, nothing else."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["fields"], dict)
    if code is not None:
        assert error["code"] == code
    return error


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def probe() -> Callable[[FlaskClient, str], int]:
    """The status a registrant's request with this bearer token gets (GET /api/v1/plans: read
    only, behind the same require_token as every API endpoint)."""

    def status(client: FlaskClient, token: str) -> int:
        return client.get("/api/v1/plans", headers={"Authorization": f"Bearer {token}"}).status_code

    return status


@pytest.fixture
def pyotp_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Records every code pyotp computes: a malformed code must never get that far."""
    calls: list[Any] = []
    original = pyotp.TOTP.generate_otp

    def spy(self: pyotp.TOTP, input: int) -> str:  # noqa: A002 (pyotp's parameter name)
        calls.append(input)
        return original(self, input)

    monkeypatch.setattr(pyotp.TOTP, "generate_otp", spy)
    return calls


# --- code reuse --------------------------------------------------------------------------------


def test_the_same_code_is_accepted_once(app, client, make_user, clock):
    # Given an enrolled user and the code their app shows now
    user = make_user(roles=("responder",))
    code = code_at(user, step_now())
    # When they log in with it, and someone replays the same code with the same password
    first = ask_token(client, user, code)
    replay = ask_token(client, user, code)
    # Then the first login gets a token and the replay is refused like any wrong factor
    assert first.status_code == 201
    assert_api_error(replay, 401, "invalid_credentials")
    assert token_count(app, user) == 1


def test_code_of_previous_step_refused_after_a_newer_one(app, client, make_user, clock):
    # Given two users; for the control user the previous step's code is still in the window
    control = make_user()
    assert ask_token(client, control, code_at(control, step_now() - 1)).status_code == 201
    # When the user logs in with the current code, then tries the previous step's code
    user = make_user()
    assert ask_token(client, user, code_at(user, step_now())).status_code == 201
    older = ask_token(client, user, code_at(user, step_now() - 1))
    # Then the older code is refused: every step at or below the last accepted one is spent
    assert_api_error(older, 401, "invalid_credentials")
    assert last_step(app, user) == step_now()


def test_twenty_parallel_logins_with_one_code_get_one_token(app, make_user, clock):
    # Given an enrolled user and one code, sent by 20 clients at the same moment
    user = make_user(roles=("responder",))
    code = code_at(user, step_now())
    start = threading.Barrier(20)

    def login(_: int) -> int:
        client = app.test_client()
        start.wait(timeout=30)
        return ask_token(client, user, code).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(login, range(20)))
    # Then exactly one gets a token; the others are refused (or locked out by their failures)
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {201, 401, 423}
    assert token_count(app, user) == 1
    assert last_step(app, user) == step_now()


# --- malformed codes ---------------------------------------------------------------------------

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

MALFORMED: dict[str, Callable[[str], str]] = {
    "full-width digits": lambda code: code.translate(FULL_WIDTH),
    "Arabic-Indic digits": lambda code: code.translate(ARABIC_INDIC),
    "seven digits": lambda code: code + "0",
    "five digits": lambda code: code[:5],
    "space inside": lambda code: f"{code[:3]} {code[3:]}",
    "leading space": lambda code: f" {code}",
    "trailing newline": lambda code: f"{code}\n",
}


def test_malformed_codes_refused_without_verifying(app, client, make_user, clock, pyotp_calls):
    # Given a user, and the correct current code written in each malformed way
    # (one user for all: each refusal counts as a failure, fewer than a lockout)
    assert len(MALFORMED) < accounts.SOFT_LOCK_AFTER
    user = make_user()
    code = code_at(user, step_now())
    for kind, malform in MALFORMED.items():
        malformed = malform(code)
        assert malformed != code
        pyotp_calls.clear()
        # When it is sent with the correct password
        response = ask_token(client, user, malformed)
        # Then it is refused like a wrong code, without pyotp ever computing a code to compare,
        # and without spending the time step
        assert response.status_code == 401, kind
        assert_api_error(response, 401, "invalid_credentials")
        assert pyotp_calls == [], kind
        assert last_step(app, user) is None, kind
    # and the plain code still works afterwards
    assert ask_token(client, user, code).status_code == 201


def test_well_formed_wrong_code_is_verified(client, make_user, clock, pyotp_calls):
    # Given a user (a control for the test above: the spy does see real verifications)
    user = make_user()
    wrong = other_code(code_at(user, step_now()))
    pyotp_calls.clear()
    # When a well-formed wrong code is sent
    response = ask_token(client, user, wrong)
    # Then pyotp compared it (and refused it)
    assert_api_error(response, 401, "invalid_credentials")
    assert pyotp_calls


def test_malformed_codes_refused_on_the_web_too(app, make_user, clock, pyotp_calls):
    user = make_user()
    code = code_at(user, step_now())
    for kind in ("full-width digits", "Arabic-Indic digits", "space inside", "seven digits"):
        # Given a user who passed the password step of the web login
        browser = app.test_client()
        page = browser.get("/login")
        browser.post(
            "/login",
            data={
                "username": user.username,
                "password": user.password,
                "csrf_token": csrf_from(page.get_data(as_text=True)),
            },
        )
        page = browser.get("/login/code")
        pyotp_calls.clear()
        # When they type the correct code in a malformed way
        response = browser.post(
            "/login/code",
            data={"code": MALFORMED[kind](code), "csrf_token": csrf_from(page.get_data(as_text=True))},
        )
        # Then the login is refused, pyotp never saw the code, and the step is unspent
        assert response.status_code == 401, kind
        assert pyotp_calls == [], kind
        assert last_step(app, user) is None, kind
        assert browser.get("/").status_code == 302, kind


# --- lockout -----------------------------------------------------------------------------------


def fail(client: FlaskClient, user: Any) -> Any:
    return ask_token(client, user, "000000", password="wrong password, wrong person")


def test_lockout_after_consecutive_failures_spares_other_users(app, client, make_user, clock):
    # Given two users, one of whom is attacked with wrong passwords
    victim = make_user()
    bystander = make_user()
    for _ in range(accounts.SOFT_LOCK_AFTER):
        assert_api_error(fail(client, victim), 401, "invalid_credentials")
    # When the victim then logs in with the correct password and code
    locked = ask_token(client, victim, code_at(victim, step_now()))
    # Then the account is locked (423) and the code is not spent; the other user is not locked
    assert_api_error(locked, 423, "locked")
    assert last_step(app, victim) is None
    assert ask_token(client, bystander, code_at(bystander, step_now())).status_code == 201


def test_samenop_user_unlock_lifts_the_lock(app, client, make_user, clock):
    # Given a locked-out user
    user = make_user()
    for _ in range(accounts.SOFT_LOCK_AFTER):
        fail(client, user)
    assert ask_token(client, user, code_at(user, step_now())).status_code == 423
    # When an administrator runs `samenop user unlock USERNAME`
    result = app.test_cli_runner().invoke(user_unlock, [user.username])
    # Then the correct credentials work again
    assert result.exit_code == 0, result.output
    assert f"{user.username}: unlocked" in result.output
    assert ask_token(client, user, code_at(user, step_now())).status_code == 201


def test_soft_lock_lapses_after_fifteen_minutes(client, make_user, clock):
    # Given a user locked by a run of failures
    assert accounts.SOFT_LOCK_MINUTES == 15
    user = make_user()
    for _ in range(accounts.SOFT_LOCK_AFTER):
        fail(client, user)
    # When 14 minutes pass the lock holds; after 15 it has lapsed
    clock.shift(timedelta(minutes=accounts.SOFT_LOCK_MINUTES - 1))
    assert ask_token(client, user, code_at(user, step_now())).status_code == 423
    clock.shift(timedelta(minutes=1, seconds=1))
    # Then the correct credentials work
    assert ask_token(client, user, code_at(user, step_now())).status_code == 201


def test_hard_lock_after_long_run_of_failures_only_unlock_lifts_it(app, client, make_user, clock):
    # Given an attacker who waits out every soft lock and keeps guessing
    user = make_user()
    failures = 0
    while failures < accounts.HARD_LOCK_AFTER:
        response = fail(client, user)
        if response.status_code == 423:
            clock.shift(timedelta(minutes=accounts.SOFT_LOCK_MINUTES, seconds=1))
            continue
        assert response.status_code == 401
        failures += 1
    # When a day passes
    clock.shift(timedelta(days=1))
    # Then the account is still locked, until `samenop user unlock`
    assert_api_error(ask_token(client, user, code_at(user, step_now())), 423, "locked")
    assert app.test_cli_runner().invoke(user_unlock, [user.username]).exit_code == 0
    assert ask_token(client, user, code_at(user, step_now())).status_code == 201


def test_success_resets_the_failure_count(client, make_user, clock):
    # Given a user who mistyped a few times, then logged in
    user = make_user()
    for _ in range(accounts.SOFT_LOCK_AFTER - 1):
        fail(client, user)
    assert ask_token(client, user, code_at(user, step_now())).status_code == 201
    # When they mistype again a few times
    for _ in range(accounts.SOFT_LOCK_AFTER - 1):
        fail(client, user)
    clock.shift(timedelta(seconds=two_factor.STEP_SECONDS))
    # Then they are not locked: only consecutive failures count
    assert ask_token(client, user, code_at(user, step_now())).status_code == 201


def test_parallel_guesses_all_count_towards_the_lock(app, make_user, clock):
    # Given an attacker who fires 2 x SOFT_LOCK_AFTER wrong guesses at once
    user = make_user()
    guesses = 2 * accounts.SOFT_LOCK_AFTER
    start = threading.Barrier(guesses)

    def guess(_: int) -> int:
        browser = app.test_client()
        start.wait(timeout=30)
        return fail(browser, user).status_code

    with ThreadPoolExecutor(max_workers=guesses) as pool:
        statuses = list(pool.map(guess, range(guesses)))
    # Then none got through, and the account is locked afterwards
    assert set(statuses) <= {401, 423}
    assert_api_error(ask_token(app.test_client(), user, code_at(user, step_now())), 423, "locked")


def test_web_login_of_a_locked_user_answers_423(app, client, make_user, clock):
    # Given a user locked through the API
    user = make_user()
    for _ in range(accounts.SOFT_LOCK_AFTER):
        fail(client, user)
    # When they log in on the web with the correct password and code
    page = client.get("/login")
    client.post(
        "/login",
        data={
            "username": user.username,
            "password": user.password,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    page = client.get("/login/code")
    response = client.post(
        "/login/code",
        data={"code": code_at(user, step_now()), "csrf_token": csrf_from(page.get_data(as_text=True))},
    )
    # Then the page says so, in Dutch, and they are not logged in
    assert response.status_code == 423
    assert "Te veel mislukte pogingen" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_no_code_secret_or_password_in_the_logs(app, client, make_user, clock, caplog):
    # Given every log message of a failed and a successful login, at the most verbose level
    caplog.set_level("DEBUG")
    user = make_user()
    code = code_at(user, step_now())
    ask_token(client, user, other_code(code))
    ask_token(client, user, code + "0")
    ask_token(client, user, code)
    # Then neither the code, the secret nor the password appears in the logs or the audit log
    with app.app_context():
        audit_rows = str(database.session.execute(select(AuditEntry.detail, AuditEntry.object_id)).all())
    for secret in (code, other_code(code), user.totp_secret, user.password):
        assert secret not in caplog.text
        assert secret not in audit_rows


# --- identical answers -------------------------------------------------------------------------


@pytest.fixture
def three_wrong_logins(make_user, app) -> dict[str, dict[str, str]]:
    """Credentials that fail for three different reasons (plus a deactivated account)."""
    user = make_user()
    gone = make_user()
    with app.app_context():
        accounts.deactivate(database.session, database.session.get(User, gone.id))
        database.commit()
    now = step_now()
    return {
        "unknown user": {
            "username": "niemand.bekend",
            "password": user.password,
            "otp": code_at(user, now),
        },
        "wrong password": {
            "username": user.username,
            "password": "dit is niet het wachtwoord",
            "otp": code_at(user, now),
        },
        "wrong code": {
            "username": user.username,
            "password": user.password,
            "otp": other_code(code_at(user, now)),
        },
        "deactivated": {
            "username": gone.username,
            "password": gone.password,
            "otp": code_at(gone, now),
        },
    }


def test_api_answers_identically_whatever_factor_is_wrong(client, clock, three_wrong_logins):
    # Given credentials wrong in different ways
    # When each is sent to the token endpoint
    answers = {
        reason: client.post(TOKEN_URL, json=credentials) for reason, credentials in three_wrong_logins.items()
    }
    # Then the status and the body are the same, byte for byte: nothing says which factor failed
    assert {response.status_code for response in answers.values()} == {401}
    assert len({response.get_data() for response in answers.values()}) == 1
    assert_api_error(answers["wrong code"], 401, "invalid_credentials")


def _without_csrf(html: str) -> str:
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "CSRF", html)


def test_web_login_answers_identically_whatever_factor_is_wrong(app, clock, three_wrong_logins):
    # Given credentials wrong in different ways, each typed in a fresh browser
    first_steps, second_steps = {}, {}
    for reason, credentials in three_wrong_logins.items():
        browser = app.test_client()
        page = browser.get("/login")
        first_steps[reason] = browser.post(
            "/login",
            data={
                "username": credentials["username"],
                "password": credentials["password"],
                "csrf_token": csrf_from(page.get_data(as_text=True)),
            },
        )
        page = browser.get("/login/code")
        second_steps[reason] = browser.post(
            "/login/code",
            data={
                "code": credentials["otp"],
                "csrf_token": csrf_from(page.get_data(as_text=True)),
            },
        )
    # Then the password step always moves on to the code step, and the code step fails alike
    assert {(r.status_code, r.location) for r in first_steps.values()} == {(302, "/login/code")}
    assert len({r.get_data() for r in first_steps.values()}) == 1
    assert {r.status_code for r in second_steps.values()} == {401}
    bodies = {_without_csrf(r.get_data(as_text=True)) for r in second_steps.values()}
    assert len(bodies) == 1
    assert "Gebruikersnaam, wachtwoord of code klopt niet" in bodies.pop()


# --- API tokens --------------------------------------------------------------------------------


def login_token(client: FlaskClient, user: Any) -> str:
    response = ask_token(client, user, code_at(user, step_now()))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["access_token"]


def test_delete_token_revokes_it_at_once(client, make_user, clock, probe):
    # Given a logged-in API client
    user = make_user(roles=("registrant",))
    token = login_token(client, user)
    assert probe(client, token) == 200
    # When it deletes its token
    response = client.delete(TOKEN_URL, headers={"Authorization": f"Bearer {token}"})
    # Then 204, and the very next request with the token is unauthenticated
    assert response.status_code == 204
    assert response.get_data() == b""
    assert probe(client, token) == 401
    again = client.delete(TOKEN_URL, headers={"Authorization": f"Bearer {token}"})
    assert_api_error(again, 401, "unauthenticated")


def test_password_change_revokes_tokens(app, client, make_user, clock, probe):
    # Given a user with a working token
    user = make_user()
    token = login_token(client, user)
    # When their password is changed
    with app.app_context():
        accounts.set_password(
            database.session,
            database.session.get(User, user.id),
            "een heel ander wachtwoord voor later",
        )
        database.commit()
    # Then the token no longer works
    assert probe(client, token) == 401


def test_deactivation_revokes_tokens(app, client, make_user, clock, probe):
    # Given a user with a working token
    user = make_user()
    token = login_token(client, user)
    assert probe(client, token) == 200
    # When a coordinator deactivates the account
    with app.app_context():
        accounts.deactivate(database.session, database.session.get(User, user.id))
        database.commit()
    # Then the token no longer works, and neither does logging in again
    assert probe(client, token) == 401
    clock.shift(timedelta(seconds=two_factor.STEP_SECONDS))
    assert_api_error(ask_token(client, user, code_at(user, step_now())), 401, "invalid_credentials")


def test_token_expires_after_thirty_idle_minutes(client, make_user, clock, probe):
    # Given a token used now and again 29 minutes later (each use restarts the idle clock)
    user = make_user(roles=("registrant",))
    token = login_token(client, user)
    clock.shift(timedelta(minutes=29))
    assert probe(client, token) == 200
    clock.shift(timedelta(minutes=29))
    assert probe(client, token) == 200
    # When it then lies unused for 30 minutes
    clock.shift(timedelta(minutes=30))
    # Then it is dead
    assert probe(client, token) == 401


def test_token_expires_twelve_hours_after_login_even_in_use(client, make_user, clock, probe):
    # Given a token, used every 25 minutes
    user = make_user(roles=("registrant",))
    response = ask_token(client, user, code_at(user, step_now()))
    token = response.get_json()["access_token"]
    expires_at = datetime.fromisoformat(response.get_json()["expires_at"])
    assert expires_at == START + timedelta(hours=12)
    while datetime.now(UTC) + timedelta(minutes=25) < START + timedelta(hours=12):
        clock.shift(timedelta(minutes=25))
        assert probe(client, token) == 200
    # When twelve hours have passed since the login
    clock.move_to(START + timedelta(hours=12))
    # Then it is dead
    assert probe(client, token) == 401


# --- the API's error body ------------------------------------------------------------------------


def test_missing_fields_answer_422_naming_each_field(client):
    # When a token request lacks a field, or all of them
    one = client.post(TOKEN_URL, json={"username": "iemand", "password": "iets"})
    none = client.post(TOKEN_URL, json={})
    # Then 422 names exactly the missing fields
    assert set(assert_api_error(one, 422, "invalid_input")["fields"]) == {"otp"}
    assert set(assert_api_error(none, 422, "invalid_input")["fields"]) == {
        "username",
        "password",
        "otp",
    }


def test_wrong_types_answer_422_not_500(client):
    # When the code is sent as a number instead of a string
    response = client.post(TOKEN_URL, json={"username": "iemand", "password": "iets", "otp": 123456})
    # Then the field is named
    assert set(assert_api_error(response, 422, "invalid_input")["fields"]) == {"otp"}


def test_body_that_is_not_a_json_object_answers_400(client):
    bodies = {
        "form-encoded": ("username=iemand&password=iets&otp=123456", "application/x-www-form-urlencoded"),
        "broken JSON": ('{"username": "iemand",', "application/json"),
        "JSON array": ('["username", "password", "otp"]', "application/json"),
        "JSON string": ('"username"', "application/json"),
        "empty": ("", "application/json"),
        "not UTF-8": (b'{"username": "\xff"}', "application/json"),
    }
    for kind, (data, content_type) in bodies.items():
        response = client.post(TOKEN_URL, data=data, content_type=content_type)
        assert response.status_code == 400, kind
        assert_api_error(response, 400)


def test_unknown_api_route_answers_404_in_json(client):
    assert_api_error(client.get("/api/v1/bestaat-niet"), 404, "not_found")
    assert_api_error(client.post("/api/v1/bestaat-niet", json={}), 404, "not_found")


def test_wrong_method_answers_405_in_json(client):
    for method in ("GET", "PUT", "PATCH"):
        response = client.open(TOKEN_URL, method=method)
        assert_api_error(response, 405, "method_not_allowed")
        # and says which methods the URL does take
        assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"POST", "DELETE"}


def test_missing_or_malformed_bearer_answers_401(client):
    assert_api_error(client.delete(TOKEN_URL), 401, "unauthenticated")
    for header in ("Bearer", "Basic dXNlcjpwdw==", "Bearer niet-bestaand-token"):
        response = client.delete(TOKEN_URL, headers={"Authorization": header})
        assert_api_error(response, 401, "unauthenticated")
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_username_no_database_can_store_answers_like_an_unknown_user(app, client, make_user):
    # Given a user, When someone logs in on the web with a NUL or a lone surrogate in the name
    user = make_user(roles=("registrant",))
    for hostile in (f"{user.username}\x00", "\x00"):
        page = client.get("/login")
        token = csrf_from(page.get_data(as_text=True))
        answer = client.post("/login", data={"username": hostile, "password": "x" * 12, "csrf_token": token})
        # Then the answer is the ordinary next step, never a server error
        assert answer.status_code == 302
        code_page = client.get("/login/code")
        form_token = csrf_from(code_page.get_data(as_text=True))
        refused = client.post("/login/code", data={"code": "123456", "csrf_token": form_token})
        assert refused.status_code == 401
