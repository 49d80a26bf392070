"""Security of the login: one-time codes, malformed codes, lockout, identical answers, tokens."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pyotp
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from registry.app import create_app
from registry.auth import accounts, two_factor
from registry.core.db import db as database
from registry.core.models import ApiToken, AuditEntry, User
from registry.ops.cli import user_unlock
from tests.conftest import PASSWORD, close_app, csrf_from

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
    address: str = "127.0.0.1",
) -> Any:
    return client.post(
        TOKEN_URL,
        json={
            "username": username or user.username,
            "password": password or user.password,
            "otp": otp,
        },
        environ_base={"REMOTE_ADDR": address},
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
    # (one user for all, each from its own address: each refusal counts as a failure of it)
    user = make_user()
    code = code_at(user, step_now())
    for n, (kind, malform) in enumerate(MALFORMED.items()):
        malformed = malform(code)
        assert malformed != code
        pyotp_calls.clear()
        # When it is sent with the correct password
        response = ask_token(client, user, malformed, address=f"192.0.2.{n}")
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


# --- failed logins: a wait per source address, an account lock only far out -----------------------

ATTACKER = "203.0.113.66"
CONTROL_ROOM = "198.51.100.10"
WRONG_PASSWORD = "wrong password, wrong person"


def fail(client: FlaskClient, user: Any, address: str = "127.0.0.1", password: str = WRONG_PASSWORD) -> Any:
    """A failed token request for the user's name from `address` (by default the test client's)."""
    return ask_token(client, user, "000000", password=password, address=address)


def wait_out(clock: time_machine.Coordinates, response: Any) -> None:
    """Let the clock run past the Retry-After of a 423."""
    clock.shift(timedelta(seconds=int(response.headers["Retry-After"])))


def login_page(browser: FlaskClient, user: Any, code: str) -> Any:
    """Both steps of the web login; the answer to the code step."""
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
    return browser.post(
        "/login/code", data={"code": code, "csrf_token": csrf_from(page.get_data(as_text=True))}
    )


def test_failures_from_other_addresses_never_keep_the_right_login_out(app, client, make_user, clock):
    """Given an attacker who knows a control-room username and sends 150 wrong passwords for it
    from one address (waiting out every wait), and one each from 150 other addresses: far more
    than the 10 (15 minutes) and 30 (until a coordinator acts) that locked the account before
    When the operator logs in with the right password and code from the control room
    Then they get a token at once, and the attacker's address still waits."""
    operator = make_user(roles=("responder",))
    sent = 0
    while sent < 150:
        response = fail(client, operator, ATTACKER)
        if response.status_code == 423:
            wait_out(clock, response)
            continue
        assert_api_error(response, 401, "invalid_credentials")
        sent += 1
    for n in range(150):
        assert_api_error(fail(client, operator, f"192.0.2.{n}"), 401, "invalid_credentials")
    # When
    response = ask_token(client, operator, code_at(operator, step_now()), address=CONTROL_ROOM)
    # Then
    assert response.status_code == 201, response.get_json()
    assert fail(client, operator, ATTACKER).status_code == 423


def test_behind_a_trusted_proxy_each_client_address_waits_on_its_own(app_config, clock):
    """Given the app behind one reverse proxy (SAMENOP_TRUSTED_PROXIES=1), an operator, and an
    attacker whose failures for the operator's name come through the same proxy
    When the attacker's address must wait, and the operator logs in through the proxy
    Then the operator gets a token: the wait is the attacker's address's, not the proxy's."""
    app = create_app({**app_config, "TRUSTED_PROXIES": 1})
    try:
        with app.app_context():
            org = accounts.create_organisation(database.session, "Meldkamer Achter Proxy", "police")
            user = accounts.create_user(database.session, "achter.proxy", org, ["responder"])
            accounts.set_password(database.session, user, PASSWORD)
            secret = accounts.provision_totp(user)
            user.enrolled_at = user.password_changed_at
            database.commit()
        operator = SimpleNamespace(username="achter.proxy", password=PASSWORD, totp_secret=secret)
        client = app.test_client()

        def through_proxy(client_address: str, otp: str, password: str) -> Any:
            return client.post(
                TOKEN_URL,
                json={"username": operator.username, "password": password, "otp": otp},
                environ_base={"REMOTE_ADDR": "10.0.0.1"},
                headers={"X-Forwarded-For": client_address},
            )

        for _ in range(accounts.FREE_FAILURES):
            assert through_proxy(ATTACKER, "000000", WRONG_PASSWORD).status_code == 401
        assert through_proxy(ATTACKER, "000000", WRONG_PASSWORD).status_code == 423
        response = through_proxy(CONTROL_ROOM, code_at(operator, step_now()), PASSWORD)
        assert response.status_code == 201, response.get_json()
    finally:
        close_app(app)


def test_an_address_waits_longer_after_every_failure_up_to_a_cap(app, client, make_user, clock):
    """Given a user and an address that failed for their name FREE_FAILURES - 1 times
    When it fails once more, and again after every wait
    Then each wait doubles, from BACKOFF_FIRST up to BACKOFF_MAX; during a wait even the right
    password and code from that address answer 423 with Retry-After (the code unspent), while
    the same user logs in from another address."""
    user = make_user(roles=("responder",))
    for _ in range(accounts.FREE_FAILURES - 1):
        assert_api_error(fail(client, user, ATTACKER), 401, "invalid_credentials")
    assert_api_error(fail(client, user, ATTACKER), 401, "invalid_credentials")
    waits = []
    for _ in range(14):
        refused = ask_token(client, user, code_at(user, step_now()), address=ATTACKER)
        error = assert_api_error(refused, 423, "locked")
        assert "Probeer het over" in error["message"]
        assert last_step(app, user) is None
        waits.append(int(refused.headers["Retry-After"]))
        wait_out(clock, refused)
        assert_api_error(fail(client, user, ATTACKER), 401, "invalid_credentials")
    first, cap = int(accounts.BACKOFF_FIRST.total_seconds()), int(accounts.BACKOFF_MAX.total_seconds())
    assert waits == [min(first * 2**n, cap) for n in range(14)]
    assert waits[-1] == cap == 15 * 60
    # the user themselves, from the control room: no wait
    assert ask_token(client, user, code_at(user, step_now()), address=CONTROL_ROOM).status_code == 201


def test_unknown_and_known_usernames_wait_alike(client, make_user, clock):
    """Given a known and an unknown username, each failed FREE_FAILURES times from one address
    When each is tried once more from there
    Then both answers are the same, byte for byte: 423 with the same Retry-After."""
    known = make_user()
    unknown = SimpleNamespace(username="niemand.bekend", password=known.password)
    answers = []
    for user in (known, unknown):
        for _ in range(accounts.FREE_FAILURES):
            assert_api_error(fail(client, user, ATTACKER), 401, "invalid_credentials")
        answers.append(fail(client, user, ATTACKER))
    assert {answer.status_code for answer in answers} == {423}
    assert len({answer.get_data() for answer in answers}) == 1
    assert len({answer.headers["Retry-After"] for answer in answers}) == 1


def test_wrong_codes_after_the_right_password_lock_the_account_until_a_coordinator_unlocks(
    app, make_user, web_login, clock
):
    """Given an attacker who has the operator's password and guesses codes from HARD_LOCK_AFTER
    addresses (one guess each: no address waits)
    Then every guess answers 401 invalid_credentials
    When the operator logs in with the right password and code from the control room
    Then 423 says to call the coordinator (no Retry-After, the code unspent), while a wrong
    password still answers 401: the lock tells a guesser nothing
    When the coordinator unlocks the account on the Accounts page
    Then the operator logs in."""
    assert accounts.HARD_LOCK_AFTER == 100
    operator = make_user(roles=("responder",))
    coordinator = make_user(roles=("coordinator",), org=operator.organisation)
    client = app.test_client()
    for n in range(accounts.HARD_LOCK_AFTER):
        guess = ask_token(client, operator, other_code(code_at(operator, step_now())), address=f"192.0.2.{n}")
        assert_api_error(guess, 401, "invalid_credentials")
    # When
    locked = ask_token(client, operator, code_at(operator, step_now()), address=CONTROL_ROOM)
    # Then
    assert "coördinator" in assert_api_error(locked, 423, "locked")["message"]
    assert "Retry-After" not in locked.headers
    assert last_step(app, operator) is None
    assert_api_error(fail(client, operator, "192.0.2.200"), 401, "invalid_credentials")
    # When the coordinator unlocks it
    office = app.test_client()
    web_login(office, coordinator)
    page = office.get("/accounts").get_data(as_text=True)
    assert "Geblokkeerd" in page
    unlocked = office.post(f"/accounts/{operator.id}/unlock", data={"csrf_token": csrf_from(page)})
    assert unlocked.status_code == 200
    assert "Geblokkeerd" not in unlocked.get_data(as_text=True)
    # Then
    assert ask_token(client, operator, code_at(operator, step_now()), address=CONTROL_ROOM).status_code == 201


def test_wrong_passwords_never_lock_the_account(client, make_user, clock):
    """Given 3 x HARD_LOCK_AFTER wrong passwords for a username, from as many addresses
    When the operator logs in with the right password and code
    Then they get a token: only who knows the password can bring the account to its lock."""
    operator = make_user(roles=("responder",))
    for n in range(3 * accounts.HARD_LOCK_AFTER):
        assert_api_error(fail(client, operator, f"10.0.{n // 250}.{n % 250}"), 401, "invalid_credentials")
    assert ask_token(client, operator, code_at(operator, step_now()), address=CONTROL_ROOM).status_code == 201


def test_samenop_user_unlock_lifts_the_wait(app, client, make_user, clock):
    # Given an address that must wait before it tries this user again
    user = make_user()
    for _ in range(accounts.FREE_FAILURES):
        fail(client, user)
    assert ask_token(client, user, code_at(user, step_now())).status_code == 423
    # When an administrator runs `samenop user unlock USERNAME`
    result = app.test_cli_runner().invoke(user_unlock, [user.username])
    # Then the correct credentials work again from that address
    assert result.exit_code == 0, result.output
    assert f"{user.username}: unlocked" in result.output
    assert ask_token(client, user, code_at(user, step_now())).status_code == 201


def test_success_resets_the_failure_count(client, make_user, clock):
    # Given a user who mistyped a few times, then logged in
    user = make_user()
    for _ in range(accounts.FREE_FAILURES - 1):
        fail(client, user)
    assert ask_token(client, user, code_at(user, step_now())).status_code == 201
    # When they mistype again a few times
    for _ in range(accounts.FREE_FAILURES - 1):
        fail(client, user)
    clock.shift(timedelta(seconds=two_factor.STEP_SECONDS))
    # Then they need not wait: only consecutive failures count
    assert ask_token(client, user, code_at(user, step_now())).status_code == 201


def test_parallel_guesses_all_count_towards_the_wait(app, make_user, clock):
    # Given an attacker who fires 2 x FREE_FAILURES wrong guesses at once from one address
    user = make_user()
    guesses = 2 * accounts.FREE_FAILURES
    start = threading.Barrier(guesses)

    def guess(_: int) -> int:
        browser = app.test_client()
        start.wait(timeout=30)
        return fail(browser, user, ATTACKER).status_code

    with ThreadPoolExecutor(max_workers=guesses) as pool:
        statuses = list(pool.map(guess, range(guesses)))
    # Then none got through, and the wait afterwards is that of every guess that was tried
    assert set(statuses) <= {401, 423}
    tried = statuses.count(401)
    assert tried >= accounts.FREE_FAILURES
    refused = ask_token(app.test_client(), user, code_at(user, step_now()), address=ATTACKER)
    assert_api_error(refused, 423, "locked")
    assert int(refused.headers["Retry-After"]) == accounts.backoff(tried).total_seconds()


def test_web_login_from_a_waiting_address_answers_423(app, client, make_user, clock):
    # Given a user whose name failed through the API from the address of this browser
    user = make_user()
    for _ in range(accounts.FREE_FAILURES):
        fail(client, user)
    # When they log in on the web with the correct password and code, from there and elsewhere
    response = login_page(client, user, code_at(user, step_now()))
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = CONTROL_ROOM
    logged_in = login_page(elsewhere, user, code_at(user, step_now()))
    # Then the page says so, in Dutch, with Retry-After, and they are not logged in there
    assert response.status_code == 423
    assert "Te veel mislukte pogingen" in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "1"
    assert client.get("/").status_code == 302
    # while from the other address the login works
    assert logged_in.status_code == 302
    assert logged_in.location == "/"


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


def test_a_body_over_the_size_limit_is_refused_unread(app, client):
    """Given the default request size limit (1 MiB)
    When 10 MB of JSON comes to the token endpoint, which needs no login
    Then it is refused with 413 too_large in the API's error body, in Dutch, instead of being
    read and parsed (as it was: 422 for the too long username)."""
    body = json.dumps({"username": "x" * 10_000_000, "password": "iets", "otp": "123456"})
    response = client.post(TOKEN_URL, data=body, content_type="application/json")
    assert "te groot" in assert_api_error(response, 413, "too_large")["message"]
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024


def test_a_web_form_over_the_size_limit_answers_a_dutch_page(client):
    # Given the login page, When 2 MB comes in its form
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "x" * 2_000_000, "password": "p", "csrf_token": token})
    # Then 413, and the page says so in Dutch
    assert response.status_code == 413
    assert "te groot" in response.get_data(as_text=True)


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
