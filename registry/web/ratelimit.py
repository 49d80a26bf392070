"""Rate limits (Flask-Limiter): token requests and web logins per client address, lookups per user.

The limiter is created here, unbound, so that views can decorate themselves at import time;
create_app attaches it. The limits are read from the app's configuration on every request
(SAMENOP_TOKEN_RATE_LIMIT, SAMENOP_LOGIN_RATE_LIMIT, SAMENOP_LOOKUP_RATE_LIMIT). Lookups count
against one budget per user, whether they come through the API or the web page.

Limits are per process unless SAMENOP_RATE_LIMIT_STORAGE points at shared storage. The default,
`memory://`, keeps the counters in each gunicorn worker: with N workers a user or address gets up
to N times the limit (each worker counts only the requests it happens to serve). A storage that
`limits` supports and every worker reaches, such as `redis://host:6379` (install the `redis`
extra) or `memcached://host:11211` (pymemcache), makes it one budget across workers and app servers.

Flask-Limiter checks every limit that applies to a request when it resolves them for that request:
about 40 µs before every request (default and application limits; this app has none, so that pass
is left out) and as much again in each limit's decorator. The lookup budget of the API, the
hottest request, is spent directly on the limiter's own strategy and storage, under the key
Flask-Limiter's shared limit of the web page uses (`lookup_limit`): one counter for both.

The strategy is fixed-window (Flask-Limiter's default, set explicitly below): one counter per
user and window, the cheapest on every storage; moving-window keeps a timestamp per hit. The
memory storage is limits' own with its expiry swept inline (SweptMemoryStorage), not by a thread
started for nearly every hit.

A request over the limit is answered 429 with the API's uniform error body (on the web: the
view's own page if its limit gives one through `on_breach`, else the error page) and a
`Retry-After` header in seconds. Should the storage become unreachable, the limiter lets
requests through (and logs): a control room must never be refused because of it.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, render_template, request
from flask_limiter import Limiter, RateLimitExceeded, RequestLimit, RouteLimit
from flask_login import current_user
from limits import RateLimitItem, parse_many
from limits.errors import ConfigurationError
from limits.storage import MemoryStorage

from registry.core.config import ConfigError
from registry.core.db import db
from registry.web.api import API_PREFIX, ApiError, error_response

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

MESSAGE = "Te veel aanvragen in korte tijd. Wacht even en probeer het dan opnieuw."


class SweptMemoryStorage(MemoryStorage):
    """`memory://`: limits' memory storage without a thread per hit.

    limits 5.8 starts a threading.Timer (10 ms) to expire keys whenever a hit finds none
    running: under load a new thread for nearly every request, and Thread.start() waits until
    the new thread has had the GIL, behind the other requests of the worker. It also raced: two
    threads could both find none running and start the same Timer twice (KeyError in
    _bootstrap_inner, or "threads can only be started once"; alisaifee/limits#352). The counts
    themselves never need the timer (a hit on an expired key starts it anew), only the memory
    does: here the hit that finds the last sweep more than SWEEP_INTERVAL ago sweeps, inline.
    (limits' own sweep reads `expirations[key]` while another thread's get() may pop that key:
    the KeyError of its timer threads.) Registered for the `memory` scheme, this class takes the
    place of limits' own; the strategy is fixed-window (below), so only counters expire."""

    STORAGE_SCHEME = ["memory"]
    SWEEP_INTERVAL = 1.0  # seconds

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str) -> None:
        self._sweep_lock = threading.Lock()
        self._next_sweep = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    def _MemoryStorage__schedule_expiry(self) -> None:  # MemoryStorage.__schedule_expiry
        now = time.monotonic()
        if now < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return  # swept a moment ago, or another thread is sweeping
        try:
            self._next_sweep = now + self.SWEEP_INTERVAL
            wall = time.time()
            for key, expiry in list(self.expirations.items()):
                if expiry <= wall:
                    self.storage.pop(key, None)
                    self.expirations.pop(key, None)
                    self.locks.pop(key, None)
        finally:
            self._sweep_lock.release()


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
    caller = g.get("api_caller")
    return f"user:{caller.user_id}" if caller is not None else f"address:{client_address()}"


def logged_in_user() -> str:
    """The user logged in on the web; the decorator sits below role_required, so there is one."""
    return f"user:{current_user.id}" if current_user.is_authenticated else f"address:{client_address()}"


def _setting(name: str) -> Any:
    return lambda: current_app.config[name]


limiter = Limiter(key_func=client_address)

#: POST /api/v1/auth/token, per client address
token_limit = limiter.limit(_setting("TOKEN_RATE_LIMIT"), key_func=client_address, error_message=MESSAGE)
#: the POSTs of the web login (password step and code step, each its own count), per address
login_limit = limiter.limit(
    _setting("LOGIN_RATE_LIMIT"), key_func=client_address, methods=["POST"], error_message=MESSAGE
)

#: the budget that API and web lookups share: the same counter per user, whichever way they come
LOOKUP_SCOPE = "lookups"


@functools.lru_cache(maxsize=8)
def _limits_of(setting: str) -> tuple[RateLimitItem, ...]:
    """The limits of a setting such as "120 per minute", smallest window first (as Flask-Limiter
    checks them)."""
    return tuple(sorted(parse_many(setting)))


def _spend_lookup() -> None:
    """One lookup from the caller's budget, as Flask-Limiter's shared limit of the web page spends
    it (the same key, so the same counter); over it: 429 with Retry-After, as _too_many_requests
    answers. Storage errors let the lookup through, as RATELIMIT_SWALLOW_ERRORS has it."""
    if not (limiter.enabled and limiter.initialized):
        return
    config = current_app.config
    identifiers = [authenticated_user(), LOOKUP_SCOPE]
    prefix = config.get("RATELIMIT_KEY_PREFIX")
    if prefix:
        identifiers.insert(0, prefix)
    strategy = limiter.limiter
    try:
        for item in _limits_of(str(config["LOOKUP_RATE_LIMIT"])):
            hit = strategy.hit(item, *identifiers)
            stats = strategy.get_window_stats(item, *identifiers)
            state = _State(item.amount, stats.remaining, max(1, math.ceil(stats.reset_time - time.time())))
            known: _State | None = g.get(_STATE)
            if known is None or not hit or state.remaining < known.remaining:
                setattr(g, _STATE, state)  # the answer's RateLimit-* (_rate_limit_headers)
            if not hit:
                raise ApiError(429, "rate_limited", MESSAGE, headers={"Retry-After": str(state.reset)})
    except ApiError:
        raise
    except Exception:
        if not config["RATELIMIT_SWALLOW_ERRORS"]:
            raise
        log.exception("Failed to rate limit. Swallowing error")


# --- RateLimit-* on the API's answers ----------------------------------------------------------------

_STATE = "samenop_rate_limit"


@dataclasses.dataclass(frozen=True)
class _State:
    """The limit a request counted against that is nearest to its end."""

    limit: int
    remaining: int
    reset: int  # seconds until the window ends


def _rate_limit_headers(response: Response) -> Response:
    """RateLimit-Limit, -Remaining and -Reset (seconds, as the IETF's draft "RateLimit header fields
    for HTTP" has them) on every API answer of a rate-limited operation: the token's limit per
    address, the lookups' per user. Flask-Limiter's own headers give the reset as a moment (epoch
    seconds) and would also be sent on the web login's pages; these are the API's only."""
    if not request.path.startswith(API_PREFIX):
        return response
    state: _State | None = g.pop(_STATE, None)
    if state is None and limiter.enabled and limiter.initialized:
        try:
            current = limiter.current_limit
            if current is not None:
                state = _State(
                    current.limit.amount,
                    max(current.remaining, 0),
                    max(1, math.ceil(current.window[0] - time.time())),
                )
        except Exception:  # the storage gone: the answer goes out without the headers
            log.exception("Failed to read the rate limit. Swallowing error")
    if state is not None:
        response.headers["RateLimit-Limit"] = str(state.limit)
        response.headers["RateLimit-Remaining"] = str(max(state.remaining, 0))
        response.headers["RateLimit-Reset"] = str(state.reset)
    return response


def lookup_limit(view: F) -> F:
    """POST /api/v1/lookups, per authenticated user (place it below @require_token)."""

    @functools.wraps(view)
    def limited(*args: Any, **kwargs: Any) -> Any:
        _spend_lookup()
        return view(*args, **kwargs)

    return limited  # type: ignore[return-value]


def web_lookup_limit(on_breach: Callable[[RequestLimit], Response]) -> RouteLimit:
    """The lookup budget for a web page's POST, per logged-in user (place it below role_required).
    `on_breach` answers instead of the error page: the page again, with the message (status 429)."""
    return limiter.shared_limit(
        _setting("LOOKUP_RATE_LIMIT"),
        LOOKUP_SCOPE,
        key_func=logged_in_user,
        methods=["POST"],
        error_message=MESSAGE,
        on_breach=on_breach,
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
    # one counter per key and window: the cheapest strategy on every storage (see above)
    config.setdefault("RATELIMIT_STRATEGY", "fixed-window")
    # the storage failing must not take the app down with it: log and let the request through
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    # Retry-After is set below, on the 429; the API's RateLimit-* by _rate_limit_headers, not
    # Flask-Limiter's X-RateLimit-* (on the web login too, and the reset as a moment)
    config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    try:
        limiter.init_app(app)
    except ConfigurationError as exc:
        raise ConfigError(f"SAMENOP_RATE_LIMIT_STORAGE cannot be used: {exc}") from None
    manager = limiter.limit_manager
    if not (manager.default_limits or manager.application_limits or config.get("RATELIMIT_META")):
        # the pass before every request finds only default and application limits: there are none,
        # every limit here is a decorator that checks its own
        hooks = app.before_request_funcs.get(None, [])
        hooks[:] = [hook for hook in hooks if hook != limiter._check_request_limit]
    app.register_error_handler(RateLimitExceeded, _too_many_requests)
    app.after_request(_rate_limit_headers)


def seconds_until_reset(breached: RequestLimit | None) -> int:
    """Whole seconds until the breached window resets, at least 1."""
    if breached is None:
        return 1
    # window[0] is the moment the window resets (RequestLimit.reset_at adds a second to it)
    return max(1, math.ceil(breached.window[0] - time.time()))


def _too_many_requests(exc: RateLimitExceeded) -> Any:
    db.rollback()
    if request.path.startswith(API_PREFIX):
        response: Response = error_response(429, "rate_limited", MESSAGE)
    elif isinstance(exc.response, Response):  # the page's own answer, from its limit's on_breach
        response = exc.response
        response.status_code = 429
    else:
        response = current_app.make_response((render_template("errors/http.html", error=exc), 429))
    response.headers["Retry-After"] = str(seconds_until_reset(limiter.current_limit))
    return response
