"""The application factory: configuration, extensions and the blueprints of both packages."""

from __future__ import annotations

import importlib
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from registry import observe
from registry.auth import web
from registry.core import config as config_module
from registry.core import dutch, signals
from registry.core.config import PROJECT_ROOT
from registry.core.db import db
from registry.core.normalise import phone_display
from registry.core.vocabulary import Vocabulary
from registry.ops.cli import register_commands
from registry.web import ratelimit
from registry.web.api import API_PREFIX, register_error_handlers

csrf = CSRFProtect()

#: the packages that plug into the registry's app, each with `init_app(app, csrf)`: known here by
#: name only, so that registry's code never imports them (they import registry)
PACKAGES = ("lookup",)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class _CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session. A request without the session cookie (every API request)
    gets the new, empty session Flask gives it, without Flask building the cookie's signing
    serializer first (itsdangerous objects, on every request)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    settings = config_module.load(overrides)
    app = Flask(
        "registry",
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "registry" / "static"),
        instance_path=settings["INSTANCE_DIR"],
    )
    app.config.update(settings)
    # first: its hooks time every other one, and give each request the id its log lines and
    # audit rows carry
    observe.init_app(app)
    app.session_interface = _CookieSessions()
    if app.config["TRUSTED_PROXIES"]:
        # behind N reverse proxies: the client's address is the Nth from the right in
        # X-Forwarded-For (what the audit log, the rate limits and the login throttle see),
        # the scheme from X-Forwarded-Proto; with 0 the headers are ignored (anyone can send them)
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    # answers keep the order their schemas give (a responder's plan: risks and agreements first);
    # Flask would sort every key alphabetically, which also cost time on every answer
    app.json.sort_keys = False  # type: ignore[attr-defined]
    db.init_app(app)
    # plan changes reach the search index only once committed (registry.core.signals)
    signals.install(db.session_factory(app), app)
    web.init_app(app)
    csrf.init_app(app)
    register_error_handlers(app)
    ratelimit.init_app(app)  # rate limits of the token, login and lookup endpoints
    _register_blueprints(app)
    _register_template_helpers(app)
    app.after_request(_security_headers)

    register_commands(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from registry.auth.api import bp as auth_api
    from registry.auth.views import bp as auth_views
    from registry.feedback.api import bp as feedback_api
    from registry.feedback.views import bp as feedback_views
    from registry.meldingen.api import bp as meldingen_api
    from registry.meldingen.views import bp as meldingen_views
    from registry.ops.views import bp as ops_views
    from registry.plans.api import bp as plans_api
    from registry.plans.views import bp as plans_views
    from registry.privacy.views import bp as privacy_views
    from registry.reports.api import bp as reports_api
    from registry.statistics.api import bp as statistics_api
    from registry.statistics.views import bp as statistics_views
    from registry.tasks.api import bp as tasks_api
    from registry.tasks.views import bp as tasks_views
    from registry.users.views import bp as users
    from registry.web.home import bp as home
    from registry.webhooks.api import bp as webhooks_api

    observe.init_views(app)  # /health, /metrics
    # what the outbox and the worker report there
    from registry.ops import outbox, worker

    observe.register_outbox_backlog(app, outbox.observed_backlog)
    observe.register_job_runs(app, worker.observed_runs)
    pages = (
        auth_views,
        home,
        users,
        plans_views,
        feedback_views,
        tasks_views,
        meldingen_views,
        statistics_views,
    )
    for blueprint in (*pages, privacy_views, ops_views):
        app.register_blueprint(blueprint)
    # the API authenticates with bearer tokens, never cookies: CSRF does not apply
    for blueprint in (
        auth_api,
        plans_api,
        reports_api,
        meldingen_api,
        feedback_api,
        tasks_api,
        statistics_api,
        webhooks_api,
    ):
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    # the control-room side plugs in: it depends on registry, never the other way round
    for name in PACKAGES:
        importlib.import_module(name).init_app(app, csrf)
    # GET /api/v1/openapi.json: the API's description, built from the routes registered above
    from registry.web.openapi import bp as openapi

    csrf.exempt(openapi)
    app.register_blueprint(openapi)
    # GET /api/docs: that description as a page (Swagger UI, served by the app)
    from registry.web.docs import bp as api_docs

    app.register_blueprint(api_docs)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    if not request.path.startswith(("/static/", "/api/docs/")):  # files of ours, of Swagger UI
        # pages and API answers may carry personal data: never kept by a browser or proxy
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def _register_template_helpers(app: Flask) -> None:
    zone = ZoneInfo(app.config["TIMEZONE"])

    @app.template_filter("nl_date")
    def nl_date(value: date | datetime | None) -> str:
        """dinsdag 26 mei 2026"""
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(zone).date()
        return dutch.long_date(value)

    @app.template_filter("nl_day_month")
    def nl_day_month(value: date | None) -> str:
        """12 nov, 3 mei"""
        if value is None:
            return ""
        return dutch.day_month(value)

    @app.template_filter("nl_time")
    def nl_time(value: datetime | None) -> str:
        """23.40 uur"""
        if value is None:
            return ""
        return dutch.clock(value.astimezone(zone))

    @app.template_filter("count")
    def count(value: int, one: str, other: str) -> str:
        """{{ n|count('inzet', 'inzetten') }}: '1 inzet', '3 inzetten'"""
        return dutch.count(value, one, other)

    @app.template_filter("number")
    def number(value: int | float) -> str:
        """1.234"""
        return dutch.number(value)

    @app.template_filter("nl_weekday_time")
    def nl_weekday_time(value: datetime | None) -> str:
        """maandag 09.00 uur: when a contact is reachable again (within the week)"""
        if value is None:
            return ""
        local = value.astimezone(zone)
        return f"{dutch.weekday(local.weekday())} {dutch.clock(local)}"

    @app.template_filter("label")
    def label(code: str, vocabulary: type[Vocabulary]) -> str:
        """{{ signal|label(vocab.RiskSignal) }}: Wapenbezit (an unknown code as it is)"""
        return vocabulary.label_of(code)

    @app.template_filter("windows")
    def windows(value: list[dict[str, Any]] | None) -> str:
        """A contact's availability windows in Dutch: "Werkdagen 09.00–17.00" ('' when none)."""
        from registry.plans import availability

        return availability.describe(value) if value else ""

    @app.template_filter("windows_json")
    def windows_json(value: str) -> str:
        """The same, of windows the plan form carries as JSON."""
        import json

        try:
            return windows(json.loads(value))
        except (ValueError, TypeError, KeyError):
            return ""

    @app.template_filter("phone")
    def phone(value: str | None) -> str:
        """06-12345678, as Dutch professionals type it"""
        return phone_display(value)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        from registry.core import vocabulary

        return {
            "vocab": vocabulary,
            "api_prefix": API_PREFIX,
            "url_map_endpoints": app.view_functions,
        }
