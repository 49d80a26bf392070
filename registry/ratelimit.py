"""Rate limits (Flask-Limiter): token requests and web logins per client address, lookups per user.

The limiter is created here, unbound, so that views can decorate themselves at import time;
create_app attaches it. The limits are read from the app's configuration on every request
(SAMENOP_TOKEN_RATE_LIMIT, SAMENOP_LOGIN_RATE_LIMIT, SAMENOP_LOOKUP_RATE_LIMIT), and the
counters live in SAMENOP_RATE_LIMIT_STORAGE: `memory://` (the default) keeps them per process,
so with N gunicorn workers a client may get up to N times the limit; a shared storage such as
`redis://host:6379` makes it one budget across workers and app servers.

A request over the limit is answered 429 with the API's uniform error body (or the error page
on the web) and a `Retry-After` header in seconds. Should the storage become unreachable, the
limiter lets requests through (and logs): a control room must never be refused because of it.
"""

from __future__ import annotations

import math
import time
from typing import Any

from flask import Flask, Response, current_app, g, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from limits import parse_many
from limits.errors import ConfigurationError

from registry.api import API_PREFIX, error_response
from registry.config import ConfigError
from registry.db import db

MESSAGE = "Te veel aanvragen in korte tijd. Wacht even en probeer het dan opnieuw."

#: the app setting of each limit, and the environment variable it came from
SETTINGS = {
    "TOKEN_RATE_LIMIT": "SAMENOP_TOKEN_RATE_LIMIT",
    "LOGIN_RATE_LIMIT": "SAMENOP_LOGIN_RATE_LIMIT",
    "LOOKUP_RATE_LIMIT": "SAMENOP_LOOKUP_RATE_LIMIT",
}


def client_address() -> str:
    """The connecting peer (behind a reverse proxy: the proxy, unless the app is told otherwise)."""
    return request.remote_addr or "unknown"


def authenticated_user() -> str:
    """The user require_token found; the decorator sits below it, so there always is one."""
    user = g.get("api_user")
    return f"user:{user.id}" if user is not None else f"address:{client_address()}"


def _setting(name: str) -> Any:
    return lambda: current_app.config[name]


limiter = Limiter(key_func=client_address)

#: POST /api/v1/auth/token, per client address
token_limit = limiter.limit(_setting("TOKEN_RATE_LIMIT"), key_func=client_address, error_message=MESSAGE)
#: the POSTs of the web login (password step and code step, each its own count), per address
login_limit = limiter.limit(
    _setting("LOGIN_RATE_LIMIT"), key_func=client_address, methods=["POST"], error_message=MESSAGE
)
#: POST /api/v1/lookups, per authenticated user (place it below @require_token)
lookup_limit = limiter.limit(
    _setting("LOOKUP_RATE_LIMIT"), key_func=authenticated_user, error_message=MESSAGE
)


def init_app(app: Flask) -> None:
    """Check the limits, attach the limiter and answer 429 in the app's own way."""
    config = app.config
    for name, variable in SETTINGS.items():
        try:
            if not parse_many(str(config[name])):
                raise ValueError(name)
        except ValueError:
            raise ConfigError(
                f'{variable} is not a rate limit such as "30 per minute": {config[name]!r}'
            ) from None
    config.setdefault("RATELIMIT_ENABLED", True)
    # the storage failing must not take the app down with it: log and let the request through
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    # Retry-After is set below, on the 429 only; no X-RateLimit-* on every answer
    config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    try:
        limiter.init_app(app)
    except ConfigurationError as exc:
        raise ConfigError(f"SAMENOP_RATE_LIMIT_STORAGE cannot be used: {exc}") from None
    app.register_error_handler(RateLimitExceeded, _too_many_requests)


def _retry_after() -> int:
    """Whole seconds until the breached window resets, at least 1."""
    breached = limiter.current_limit
    if breached is None:
        return 1
    # window[0] is the moment the window resets (RequestLimit.reset_at adds a second to it)
    return max(1, math.ceil(breached.window[0] - time.time()))


def _too_many_requests(exc: RateLimitExceeded) -> Any:
    db.rollback()
    if request.path.startswith(API_PREFIX):
        response: Response = error_response(429, "rate_limited", MESSAGE)
    else:
        response = current_app.make_response((render_template("errors/http.html", error=exc), 429))
    response.headers["Retry-After"] = str(_retry_after())
    return response
