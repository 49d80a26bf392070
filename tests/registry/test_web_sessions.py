"""Browser sessions: new id at login, logout and expiry at once, cookie flags, CSRF, enrolment."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from registry.app import create_app
from registry.auth import accounts, two_factor
from registry.core import config
from registry.core.db import db as database
from registry.core.models import User, WebSession
from tests.conftest import close_app, csrf_from

START = datetime(2026, 3, 2, 9, 0, 15, tzinfo=UTC)
COOKIE = "samenop_session"


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def session_data(app: Flask, client: FlaskClient) -> dict[str, Any]:
    """What the signed session cookie holds."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return dict(serializer.loads(cookie.value))


def browser_with_cookie(app: Flask, value: str) -> FlaskClient:
    """Another browser that carries a copy of a cookie (stolen, or kept from before)."""
    browser = app.test_client()
    browser.set_cookie(COOKIE, value)
    return browser


def is_logged_in(client: FlaskClient) -> bool:
    response = client.get("/")
    if response.status_code == 302:
        assert response.location == "/login"
        return False
    assert response.status_code == 200
    return True


def web_session_row(app: Flask, raw: str) -> WebSession:
    with app.app_context():
        row = database.session.scalars(
            select(WebSession).where(WebSession.token_hash == accounts.hash_token(raw))
        ).one()
        database.session.expunge(row)
        return row


def logout(client: FlaskClient) -> Any:
    home = client.get("/")
    return client.post("/logout", data={"csrf_token": csrf_from(home.get_data(as_text=True))})


# --- session id and logout ---------------------------------------------------------------------


def test_session_id_changes_at_login(app, client, make_user, web_login):
    # Given a browser that opened the login page (and so holds a session cookie)
    user = make_user()
    client.get("/login")
    before = client.get_cookie(COOKIE).value
    assert "_user_id" not in session_data(app, client)
    # When the user logs in with both factors
    assert web_login(client, user).status_code == 302
    # Then the cookie is a new one, bound to a new server-side session
    after = client.get_cookie(COOKIE).value
    assert after != before
    first_token = session_data(app, client)["_user_id"]
    assert web_session_row(app, first_token).ended_at is None
    # and logging in again (after logging out) binds yet another server-side session
    logout(client)
    web_login(client, user)
    second_token = session_data(app, client)["_user_id"]
    assert second_token != first_token
    assert web_session_row(app, first_token).ended_at is not None


def test_pre_login_cookie_grants_no_access(app, client, make_user, web_login):
    # Given an attacker who planted (or copied) the victim's cookie before the login,
    # even one that already passed the password step
    user = make_user()
    page = client.get("/login")
    client.post(
        "/login",
        data={
            "username": user.username,
            "password": user.password,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    planted = client.get_cookie(COOKIE).value
    # When the victim completes the login
    assert web_login(client, user).status_code == 302
    assert is_logged_in(client)
    # Then the planted cookie does not open the account
    assert not is_logged_in(browser_with_cookie(app, planted))


def test_logout_takes_effect_at_once(app, client, make_user, web_login):
    # Given a logged-in browser, and a copy of its cookie elsewhere
    user = make_user()
    web_login(client, user)
    copy = client.get_cookie(COOKIE).value
    assert is_logged_in(browser_with_cookie(app, copy))
    # When the user logs out
    response = logout(client)
    # Then both the browser and the copied cookie are logged out, ended on the server
    assert response.status_code == 302
    assert response.location == "/login"
    assert not is_logged_in(client)
    assert not is_logged_in(browser_with_cookie(app, copy))


def test_deactivation_ends_web_sessions(app, client, make_user, web_login):
    # Given a logged-in user
    user = make_user()
    web_login(client, user)
    # When the account is deactivated
    with app.app_context():
        accounts.deactivate(database.session, database.session.get(User, user.id))
        database.commit()
    # Then the open session ends at once
    assert not is_logged_in(client)


# --- expiry --------------------------------------------------------------------------------------


def test_idle_timeout_thirty_minutes(client, make_user, web_login, clock):
    # Given a logged-in user who clicks every 29 minutes
    user = make_user()
    web_login(client, user)
    clock.shift(timedelta(minutes=29))
    assert is_logged_in(client)
    clock.shift(timedelta(minutes=29))
    assert is_logged_in(client)
    # When they leave the browser for 30 minutes
    clock.shift(timedelta(minutes=30))
    # Then the session has ended
    assert not is_logged_in(client)


def test_absolute_timeout_twelve_hours(client, make_user, web_login, clock):
    # Given a logged-in user who keeps clicking every 25 minutes
    user = make_user()
    web_login(client, user)
    while datetime.now(UTC) + timedelta(minutes=25) < START + timedelta(hours=12):
        clock.shift(timedelta(minutes=25))
        assert is_logged_in(client)
    # When twelve hours have passed since the login
    clock.move_to(START + timedelta(hours=12))
    # Then the session has ended, however active it was
    assert not is_logged_in(client)


def test_password_step_alone_lapses_after_five_minutes(client, make_user, clock):
    # Given a user who typed the right password but not yet the code
    user = make_user()
    page = client.get("/login")
    client.post(
        "/login",
        data={
            "username": user.username,
            "password": user.password,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    assert client.get("/login/code").status_code == 200
    # When more than five minutes pass
    clock.shift(timedelta(minutes=5, seconds=1))
    # Then the code step sends them back to the start
    assert client.get("/login/code").location == "/login"
    assert not is_logged_in(client)


# --- cookies -------------------------------------------------------------------------------------


def session_set_cookie(response: Any) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}=")]
    assert len(headers) == 1, response.headers
    return headers[0]


def attributes(set_cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in set_cookie.split(";")[1:]}


def test_cookie_is_httponly_and_samesite(app, client, make_user, web_login):
    # Given the test configuration (local http: Secure switched off)
    user = make_user()
    # When the login page and the login set the session cookie
    pre_login = session_set_cookie(client.get("/login"))
    at_login = session_set_cookie(web_login(client, user))
    # Then both are HttpOnly and SameSite, and not Secure
    for header in (pre_login, at_login):
        assert "httponly" in attributes(header)
        assert "SameSite=Lax" in header
        assert "secure" not in attributes(header)


def test_cookie_is_secure_when_configured(app_config):
    # Given the app configured for https (the default)
    secure_app = create_app({**app_config, "SESSION_COOKIE_SECURE": True})
    try:
        # When the login page sets the session cookie
        header = session_set_cookie(secure_app.test_client().get("/login"))
    finally:
        close_app(secure_app)
    # Then it is Secure, HttpOnly and SameSite
    assert {"secure", "httponly", "samesite"} <= attributes(header)


def test_secure_cookie_is_the_default(monkeypatch, tmp_path):
    # Given no cookie setting in the environment, then one that switches it off for local http
    monkeypatch.delenv("SAMENOP_COOKIE_SECURE", raising=False)
    base = {
        "INSTANCE_DIR": str(tmp_path),
        "SECRET_KEY": "s" * 40,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
    }
    assert config.load(base)["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("SAMENOP_COOKIE_SECURE", "false")
    assert config.load(base)["SESSION_COOKIE_SECURE"] is False


# --- CSRF ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "niet-het-goede-token"], ids=["missing", "wrong"])
def test_login_without_valid_csrf_token_is_refused(client, make_user, token):
    # Given a user and a browser that opened the login page
    user = make_user()
    client.get("/login")
    data = {"username": user.username, "password": user.password}
    if token is not None:
        data["csrf_token"] = token
    # When the form comes back without its CSRF token (or with a forged one)
    response = client.post("/login", data=data)
    # Then 400, and the login did not advance
    assert response.status_code == 400
    assert "Formulier verlopen" in response.get_data(as_text=True)
    assert client.get("/login/code").location == "/login"
    assert not is_logged_in(client)


def test_code_step_without_csrf_token_spends_nothing(app, client, make_user):
    # Given a user past the password step
    user = make_user()
    page = client.get("/login")
    client.post(
        "/login",
        data={
            "username": user.username,
            "password": user.password,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    # When the code form arrives without a CSRF token
    code = two_factor.current_code(user.totp_secret)
    response = client.post("/login/code", data={"code": code})
    # Then 400, no login, and the code is not spent
    assert response.status_code == 400
    assert not is_logged_in(client)
    with app.app_context():
        assert database.session.get(User, user.id).totp_last_step is None


def test_logout_without_csrf_token_is_refused(client, make_user, web_login):
    # Given a logged-in user; a page elsewhere tries to log them out
    user = make_user()
    web_login(client, user)
    # When the logout form arrives without a CSRF token
    response = client.post("/logout")
    # Then it is refused and the session goes on
    assert response.status_code == 400
    assert is_logged_in(client)


def test_pre_login_csrf_token_is_void_after_login(client, make_user, web_login):
    # Given a CSRF token from the login page before the login
    user = make_user()
    old_token = csrf_from(client.get("/login").get_data(as_text=True))
    # When the user has logged in (the session starts from scratch)
    web_login(client, user)
    # Then a form posted with the old token is refused
    assert client.post("/logout", data={"csrf_token": old_token}).status_code == 400
    assert is_logged_in(client)


# --- enrolment -----------------------------------------------------------------------------------

NEW_PASSWORD = "fietsen langs de lange grachten"


def create_colleague(client: FlaskClient, username: str) -> str:
    """The coordinator's form on /accounts; returns the path of the one-time link."""
    page = client.get("/accounts")
    assert page.status_code == 200
    response = client.post(
        "/accounts",
        data={
            "username": username,
            "display_name": "Nieuwe Collega",
            "email": "",
            "roles": ["registrant"],
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    match = re.search(r'id="activeringslink">([^<]+)<', response.get_data(as_text=True))
    assert match, "no enrolment link on the page"
    return urlsplit(match.group(1)).path


def field_error(html: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-error">([^<]+)</p>', html)
    assert match, f"no error next to {field}"
    return match.group(1)


def test_enrolment_from_coordinator_to_first_login(app, make_user, web_login):
    # Given a coordinator who creates an account on /accounts
    coordinator = make_user(roles=("coordinator",))
    office = app.test_client()
    web_login(office, coordinator)
    path = create_colleague(office, "nieuwe.collega")
    assert path.startswith("/enrol/")

    # When the new colleague opens the one-time link
    newcomer = app.test_client()
    page = newcomer.get(path)
    html = page.get_data(as_text=True)
    # Then they see a QR code (inline SVG) and the key to type over
    assert page.status_code == 200
    assert "<svg" in html
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', html).group(1)

    def submit(password: str, code: str, again: str | None = None) -> Any:
        token = csrf_from(newcomer.get(path).get_data(as_text=True))
        return newcomer.post(
            path,
            data={
                "password": password,
                "password_again": password if again is None else again,
                "code": code,
                "csrf_token": token,
            },
        )

    # A too-short password is refused with a Dutch message next to the field
    short = submit("kort", two_factor.current_code(secret))
    assert "minstens 12 tekens" in field_error(short.get_data(as_text=True), "password")
    # A common password is refused too
    common = submit("password1234", two_factor.current_code(secret))
    assert "te voorspelbaar" in field_error(common.get_data(as_text=True), "password")
    # Two different passwords are refused next to the second field
    different = submit(NEW_PASSWORD, two_factor.current_code(secret), again=NEW_PASSWORD + "!")
    assert "niet gelijk" in field_error(different.get_data(as_text=True), "password_again")
    with app.app_context():
        account = database.session.scalars(select(User).where(User.username == "nieuwe.collega")).one()
        assert account.enrolled_at is None
        assert account.password_hash is None
        user_id = account.id

    # A valid password with the current code activates the account
    done = submit(NEW_PASSWORD, two_factor.current_code(secret))
    assert done.status_code == 200
    assert "Uw account is actief" in done.get_data(as_text=True)
    # and the link is spent
    assert newcomer.get(path).status_code == 404

    # The new colleague can now log in with both factors
    person = SimpleNamespace(id=user_id, username="nieuwe.collega", password=NEW_PASSWORD, totp_secret=secret)
    browser = app.test_client()
    assert web_login(browser, person).location == "/"
    home = browser.get("/")
    assert home.status_code == 200
    assert "Nieuwe Collega" in home.get_data(as_text=True)


def test_enrolment_with_wrong_code_does_not_activate(app, make_user, web_login):
    # Given an enrolment link
    coordinator = make_user(roles=("coordinator",))
    office = app.test_client()
    web_login(office, coordinator)
    path = create_colleague(office, "andere.collega")
    newcomer = app.test_client()
    html = newcomer.get(path).get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', html).group(1)
    wrong = f"{(int(two_factor.current_code(secret)) + 1) % 10**6:06d}"
    # When a good password comes with a wrong code
    response = newcomer.post(
        path,
        data={
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
            "code": wrong,
            "csrf_token": csrf_from(html),
        },
    )
    # Then the code field says so and the link still works
    assert "code klopt niet" in field_error(response.get_data(as_text=True), "code")
    assert newcomer.get(path).status_code == 200
    with app.app_context():
        account = database.session.scalars(select(User).where(User.username == "andere.collega")).one()
        assert account.enrolled_at is None
        assert account.password_hash is None


def test_enrolment_link_expires(app, client, make_org, clock):
    # Given an enrolment link issued now
    org = make_org()
    with app.app_context():
        user = accounts.create_user(
            database.session, "laatkomer", database.session.merge(org), ["registrant"]
        )
        raw = accounts.issue_enrolment(user, app.config["ENROLMENT_VALID_HOURS"])
        database.commit()
    # Then it works until its validity ends, and not after
    clock.shift(timedelta(hours=app.config["ENROLMENT_VALID_HOURS"]) - timedelta(minutes=1))
    assert client.get(f"/enrol/{raw}").status_code == 200
    clock.shift(timedelta(minutes=2))
    assert client.get(f"/enrol/{raw}").status_code == 404


def test_unknown_enrolment_link_answers_404(client):
    assert client.get("/enrol/bestaat-niet").status_code == 404


def test_an_account_id_past_any_column_answers_404(app, make_user, web_login):
    """Given a coordinator on the Accounts page
    When they unlock, deactivate or re-enrol an account id larger than any database holds
    Then 404 like any account that is not theirs; it answered 500."""
    coordinator = make_user(roles=("coordinator",))
    office = app.test_client()
    web_login(office, coordinator)
    token = csrf_from(office.get("/accounts").get_data(as_text=True))
    for action in ("unlock", "deactivate", "reenrol"):
        for user_id in ("99999999999999999999999", "9" * 5000, str(2**31)):
            response = office.post(f"/accounts/{user_id}/{action}", data={"csrf_token": token})
            assert response.status_code == 404, (action, user_id[:30])


def test_a_coordinator_does_not_learn_the_usernames_of_other_organisations(app, make_user, web_login):
    """Given a coordinator, a colleague in their organisation and a user of another organisation
    When the coordinator creates an account under the other organisation's username
    Then the answer is the one for a name nobody may take (`system`, which the audit log uses)
    and says nothing about it existing; no account is made. The colleague's name may be
    reported as existing in the coordinator's own organisation."""
    coordinator = make_user(roles=("coordinator",))
    colleague = make_user(org=coordinator.organisation)
    stranger = make_user()
    office = app.test_client()
    web_login(office, coordinator)

    def create(username: str) -> Any:
        token = csrf_from(office.get("/accounts").get_data(as_text=True))
        return office.post(
            "/accounts",
            data={
                "username": username,
                "display_name": "Iemand",
                "roles": ["registrant"],
                "csrf_token": token,
            },
        )

    elsewhere, reserved, own = create(stranger.username), create("system"), create(colleague.username)
    message = field_error(elsewhere.get_data(as_text=True), "username")
    assert "bestaat" not in message
    assert (elsewhere.status_code, reserved.status_code, own.status_code) == (422, 422, 422)
    assert message == field_error(reserved.get_data(as_text=True), "username")
    assert "bestaat al in uw organisatie" in field_error(own.get_data(as_text=True), "username")
    with app.app_context():
        assert database.session.scalar(select(User).where(User.username == "system")) is None
