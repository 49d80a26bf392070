"""Rate limits of the token, web login and lookup endpoints and the web lookup page
(registry.web.ratelimit), with low limits set through the app's configuration. In-process (the Flask
test client), a few seconds."""

from __future__ import annotations

import itertools
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, select

from registry.app import create_app
from registry.core.config import ConfigError
from registry.core.db import db as database
from registry.core.models import AuditEntry, Lookup
from registry.web.ratelimit import SweptMemoryStorage, limiter
from tests.conftest import close_app, csrf_from

TOKEN_URL = "/api/v1/auth/token"
LOOKUP_URL = "/api/v1/lookups"
LOOKUP_PAGE = "/raadplegen"
START = datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC)
_names = itertools.count()


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {
        **app_config,
        "TOKEN_RATE_LIMIT": "10 per minute",
        "LOGIN_RATE_LIMIT": "5 per minute",
        "LOOKUP_RATE_LIMIT": "5 per minute",
    }


@pytest.fixture
def clock():
    """A clock that stands still (at the start of a minute) until a test moves it."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def wrong_login(client: Any, address: str = "192.0.2.10", username: str | None = None) -> Any:
    """A token request with wrong credentials, each for another (unknown) username by default, so
    that the account lockout (10 failures of one username) never answers before the limit."""
    return client.post(
        TOKEN_URL,
        json={
            "username": username or f"niemand{next(_names)}",
            "password": "fout wachtwoord",
            "otp": "123456",
        },
        environ_base={"REMOTE_ADDR": address},
    )


def assert_rate_limited(response: Any, window: int = 60) -> None:
    assert response.status_code == 429
    body = response.get_json()
    assert body["error"]["code"] == "rate_limited"
    assert body["error"]["message"]
    assert body["error"]["fields"] == {}
    assert 1 <= int(response.headers["Retry-After"]) <= window
    # the security headers hold for this answer too
    assert response.headers["Cache-Control"] == "no-store"


def lookup(client: Any, headers: dict[str, str], n: int = 0) -> Any:
    return client.post(
        LOOKUP_URL,
        json={"incident_ref": f"RL-{n}", "address": {"postcode": "1011 AB", "house_number": 1}},
        headers=headers,
    )


def web_lookup(browser: Any, n: int = 0) -> Any:
    """The lookup page's form, sent as a control-room operator would (form first, then search)."""
    page = browser.get(LOOKUP_PAGE)
    assert page.status_code == 200  # showing the page is never limited
    return browser.post(
        LOOKUP_PAGE,
        data={
            "incident_ref": f"RL-web-{n}",
            "q": "1011 AB 1",
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )


def lookup_rows(app: Any) -> int:
    with app.app_context():
        return database.session.scalar(select(func.count()).select_from(Lookup))


def test_eleventh_token_request_in_a_minute_is_refused_with_retry_after(client, clock):
    # Given ten token requests from one address within a minute (wrong credentials: they count too)
    for _ in range(10):
        assert wrong_login(client).status_code == 401
    # When the eleventh comes
    refused = wrong_login(client)
    # Then it is refused with the uniform error body and a Retry-After
    assert_rate_limited(refused)
    # and another address is not affected
    assert wrong_login(client, "192.0.2.99").status_code == 401


def test_a_correct_login_over_the_limit_is_refused_too(client, make_user, code_for, clock):
    # Given an address that used up its token requests
    user = make_user(("responder",))
    for _ in range(10):
        wrong_login(client)
    # When a correct login comes from it
    response = client.post(
        TOKEN_URL,
        json={"username": user.username, "password": user.password, "otp": code_for(user)},
        environ_base={"REMOTE_ADDR": "192.0.2.10"},
    )
    # Then no token is issued
    assert_rate_limited(response)


def test_lookup_flood_by_one_user_does_not_touch_another(client, make_user, auth_headers, db, clock):
    # Given two responders
    flooder = auth_headers(make_user(("responder",)))
    colleague = auth_headers(make_user(("responder",)))
    # When one sends more lookups than the limit allows
    statuses = [lookup(client, flooder, n).status_code for n in range(7)]
    # Then the ones over the limit are refused, the other user still gets answers
    assert statuses == [200] * 5 + [429] * 2
    assert_rate_limited(lookup(client, flooder, 99))
    assert lookup(client, colleague, 100).status_code == 200
    # and a refused lookup did not happen: it left no lookup row
    assert db.scalar(select(func.count()).select_from(Lookup)) == 6


def test_lookup_without_a_token_is_refused_as_unauthenticated_not_rate_limited(client, clock):
    # the lookup limit counts per user: who has no token is turned away before it counts
    for _ in range(8):
        assert lookup(client, {}).status_code == 401


def test_limits_reset_after_the_window(client, make_user, auth_headers, clock):
    # Given a user and an address both at their limits
    headers = auth_headers(make_user(("responder",)))
    for n in range(5):
        assert lookup(client, headers, n).status_code == 200
    for _ in range(10):
        wrong_login(client)
    assert_rate_limited(lookup(client, headers, 5))
    assert_rate_limited(wrong_login(client))
    # When the minute has passed
    clock.shift(timedelta(seconds=61))
    # Then both are served again
    assert lookup(client, headers, 6).status_code == 200
    assert wrong_login(client).status_code == 401


def test_web_login_posts_are_limited_per_address(client, clock):
    # Given an address that posts the login form (wrong password) five times
    for _ in range(5):
        page = client.get("/login")
        response = client.post(
            "/login",
            data={
                "username": "niemand",
                "password": "fout wachtwoord",
                "csrf_token": csrf_from(page.get_data(as_text=True)),
            },
        )
        assert response.status_code == 302  # on to the code step, whatever the password
    # When it posts a sixth time
    page = client.get("/login")
    assert page.status_code == 200  # showing the form is not limited
    refused = client.post(
        "/login",
        data={"username": "niemand", "password": "x", "csrf_token": csrf_from(page.get_data(as_text=True))},
    )
    # Then it gets the error page with 429 and a Retry-After
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Te veel aanvragen" in refused.get_data(as_text=True)


def test_web_lookup_flood_is_refused_in_dutch_and_spares_a_colleague(app, make_user, web_login, clock):
    # Given two responders logged in on the lookup page, each in their own browser
    flooder, colleague = app.test_client(), app.test_client()
    web_login(flooder, make_user(("responder",)))
    web_login(colleague, make_user(("responder",)))
    # When one searches more often than the limit (5 per minute) allows
    statuses = [web_lookup(flooder, n).status_code for n in range(5)]
    refused = web_lookup(flooder, 5)
    # Then the sixth search is refused with 429: the page again, in Dutch, with what was typed
    assert statuses == [200] * 5
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    html = refused.get_data(as_text=True)
    assert "U heeft in korte tijd te veel raadplegingen gedaan. Probeer het over" in html
    assert 'value="RL-web-5"' in html
    assert 'value="1011 AB 1"' in html
    assert refused.headers["Cache-Control"] == "no-store"
    # and the refused search was not performed
    assert lookup_rows(app) == 5
    # and the colleague still gets answers
    assert web_lookup(colleague, 100).status_code == 200
    assert lookup_rows(app) == 6


def test_api_and_web_lookups_of_one_user_share_one_budget(
    app, client, make_user, auth_headers, web_login, clock
):
    # Given a responder who did three lookups through the API
    user = make_user(("responder",))
    headers = auth_headers(user)
    assert [lookup(client, headers, n).status_code for n in range(3)] == [200] * 3
    # When they go on in the browser
    browser = app.test_client()
    web_login(browser, user)
    statuses = [web_lookup(browser, n).status_code for n in range(3)]
    # Then the limit counts both ways together: two more, then 429 on the page and in the API
    assert statuses == [200, 200, 429]
    assert_rate_limited(lookup(client, headers, 9))
    # until the minute has passed
    clock.shift(timedelta(seconds=61))
    assert web_lookup(browser, 10).status_code == 200


def test_a_failing_storage_never_refuses_a_lookup(
    app, client, make_user, auth_headers, web_login, monkeypatch
):
    # Given a responder, in the API and in the browser, and a storage that has become unreachable
    user = make_user(("responder",))
    headers = auth_headers(user)
    browser = app.test_client()
    web_login(browser, user)
    with app.app_context():
        storage = limiter.storage

    def unreachable(*_args: Any, **_kwargs: Any) -> Any:
        raise ConnectionError("storage unreachable")

    monkeypatch.setattr(storage, "incr", unreachable)
    # When they look up more often than the limit allows
    # Then every lookup is answered, both ways: a control room is never refused because of it
    assert [lookup(client, headers, n).status_code for n in range(7)] == [200] * 7
    assert [web_lookup(browser, n).status_code for n in range(7)] == [200] * 7
    assert lookup_rows(app) == 14


def test_a_one_second_window_resets_in_real_time(app_config):
    # Given a limit of 2 per second (the real clock, no time travel; the window opens at the
    # first request, so three quick ones fall in one window)
    app = create_app({**app_config, "TOKEN_RATE_LIMIT": "2 per second"})
    client = app.test_client()
    try:
        statuses = [wrong_login(client).status_code for _ in range(3)]
        # Then the third is refused, with Retry-After 1 ...
        assert statuses == [401, 401, 429]
        assert wrong_login(client).headers["Retry-After"] == "1"
        # ... and after the second the address is served again
        time.sleep(1.1)
        assert wrong_login(client).status_code == 401
    finally:
        close_app(app)


@pytest.mark.parametrize(
    ("key", "value", "variable"),
    [
        ("TOKEN_RATE_LIMIT", "veel", "SAMENOP_TOKEN_RATE_LIMIT"),
        ("LOOKUP_RATE_LIMIT", "", "SAMENOP_LOOKUP_RATE_LIMIT"),
        ("RATELIMIT_STORAGE_URI", "nosuchstore://localhost", "SAMENOP_RATE_LIMIT_STORAGE"),
    ],
)
def test_a_bad_limit_or_storage_refuses_to_start(app_config, key, value, variable):
    with pytest.raises(ConfigError, match=variable):
        create_app({**app_config, key: value})


def test_limits_and_storage_come_from_the_environment(app_config, monkeypatch):
    monkeypatch.setenv("SAMENOP_TOKEN_RATE_LIMIT", "3 per hour")
    monkeypatch.setenv("SAMENOP_LOOKUP_RATE_LIMIT", "7 per minute")
    monkeypatch.setenv("SAMENOP_LOGIN_RATE_LIMIT", "4 per minute")
    monkeypatch.setenv("SAMENOP_RATE_LIMIT_STORAGE", "memory://")
    config = {
        key: value
        for key, value in app_config.items()
        if key not in {"TOKEN_RATE_LIMIT", "LOOKUP_RATE_LIMIT", "LOGIN_RATE_LIMIT"}
    }
    app = create_app(config)
    try:
        assert app.config["TOKEN_RATE_LIMIT"] == "3 per hour"
        assert app.config["LOOKUP_RATE_LIMIT"] == "7 per minute"
        assert app.config["LOGIN_RATE_LIMIT"] == "4 per minute"
        assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
        client = app.test_client()
        assert [wrong_login(client).status_code for _ in range(4)] == [401, 401, 401, 429]
        assert int(wrong_login(client).headers["Retry-After"]) > 60  # the hour's window
    finally:
        close_app(app)


def test_many_threads_counting_at_once_count_exactly_and_start_no_threads(app, monkeypatch):
    """A gunicorn worker's threads all count against the same storage. limits 5.8's own memory
    storage started an expiry Timer thread for nearly every hit (and could start one twice, the
    second dying with a traceback); ours counts every hit, starts no thread and still forgets
    expired keys."""
    with app.app_context():
        storage = limiter.storage
    assert isinstance(storage, SweptMemoryStorage)
    failed: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: failed.append(unraisable.exc_value))
    monkeypatch.setattr(storage, "SWEEP_INTERVAL", 0.0)  # every hit sweeps: the most contention
    errors: list[Exception] = []
    started = threading.Thread.start
    extra_threads: list[threading.Thread] = []

    def counting_start(thread: threading.Thread) -> None:
        extra_threads.append(thread)
        started(thread)

    def count(worker: int) -> None:
        for hit in range(3000):
            try:
                storage.incr(f"kort:{hit % 7}", 0.001)  # expire at once: sweeps keep finding work
                storage.incr(f"lang:{worker}", 60)
            except Exception as exc:
                errors.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns as often as they can: a race shows
    try:
        threads = [threading.Thread(target=count, args=(worker,)) for worker in range(8)]
        for thread in threads:
            thread.start()
        monkeypatch.setattr(threading.Thread, "start", counting_start)
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
        monkeypatch.setattr(threading.Thread, "start", started)
    assert errors == []
    assert failed == []
    assert extra_threads == []  # no Timer per hit
    assert [storage.get(f"lang:{worker}") for worker in range(8)] == [3000] * 8
    time.sleep(0.01)
    storage.incr("lang:0", 60)  # a hit sweeps what expired
    assert not any(key.startswith("kort:") for key in storage.storage)


# --- behind a reverse proxy ----------------------------------------------------------------------

PROXY = "10.0.0.1"


def via_proxy(client: Any, forwarded_for: str) -> Any:
    """A wrong token request that reached the app through the proxy, with its X-Forwarded-For."""
    return client.post(
        TOKEN_URL,
        json={"username": f"niemand{next(_names)}", "password": "fout wachtwoord", "otp": "123456"},
        environ_base={"REMOTE_ADDR": PROXY},
        headers={"X-Forwarded-For": forwarded_for},
    )


def audited_addresses(app: Any) -> list[str]:
    with app.app_context():
        return list(database.session.scalars(select(AuditEntry.remote_addr).order_by(AuditEntry.id)))


def test_behind_one_trusted_proxy_the_client_address_counts(app_config, clock):
    """Given SAMENOP_TRUSTED_PROXIES=1: every request arrives from the proxy, which adds the
    client's address to X-Forwarded-For (after whatever the client sent there itself)
    When one client uses up its token requests
    Then another client behind the same proxy is not limited, and the audit rows hold the
    clients' addresses, not the proxy's; a forged X-Forwarded-For entry changes nothing."""
    app = create_app({**app_config, "TRUSTED_PROXIES": "1"})
    try:
        client = app.test_client()
        for n in range(10):
            forged = f"198.51.100.{n}, " if n % 2 else ""  # the client's own header, then the proxy's
            assert via_proxy(client, f"{forged}192.0.2.10").status_code == 401
        assert_rate_limited(via_proxy(client, "203.0.113.1, 192.0.2.10"))
        assert via_proxy(client, "192.0.2.20").status_code == 401
        assert set(audited_addresses(app)) == {"192.0.2.10", "192.0.2.20"}
    finally:
        close_app(app)


def test_without_trusted_proxies_x_forwarded_for_is_ignored(app_config, clock):
    """Given the default, SAMENOP_TRUSTED_PROXIES=0
    When requests carry X-Forwarded-For (anyone can send one)
    Then the connecting address counts and is audited: a forged header neither dodges the
    limit nor puts another address in the audit log."""
    app = create_app(app_config)
    assert app.config["TRUSTED_PROXIES"] == 0
    try:
        client = app.test_client()
        for n in range(10):
            assert via_proxy(client, f"192.0.2.{n}").status_code == 401
        assert_rate_limited(via_proxy(client, "192.0.2.99"))
        assert set(audited_addresses(app)) == {PROXY}
    finally:
        close_app(app)
