"""Shared pieces of the JSON API: the uniform error body, input parsing, token authentication."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, g, jsonify, request
from marshmallow import Schema, ValidationError, fields
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, ServiceUnavailable

from registry.auth import accounts
from registry.core import audit
from registry.core.db import database_lost, db
from registry.core.models import User
from registry.web.schemas import Choice

API_PREFIX = "/api/v1"

F = TypeVar("F", bound=Callable[..., Any])

# set on a view by `require_token`: the roles it asks for (read by registry/web/openapi.py)
REQUIRED_ROLES = "api_required_roles"

#: every `error.code` the API answers, with its statuses and what it means: the Error schema's enum
#: in the OpenAPI description and the table in docs/api.md (tests/registry/test_error_codes.py holds
#: the code, this table and the page to each other)
ERROR_CODES: dict[str, tuple[tuple[int, ...], str]] = {
    "invalid_json": ((400,), "The body is not a JSON object."),
    "invalid_input": (
        (400, 422),
        "400: a bad query parameter or header; 422: a body field is missing or wrong. `fields` names "
        "every one of them at once.",
    ),
    "bad_request": ((400,), "The request could not be read as HTTP."),
    "unauthenticated": (
        (401,),
        "No bearer token, or one that is unknown, revoked, expired or idle too long; for a machine "
        "client's operation: no client certificate, or one that is unknown, revoked, expired or not "
        "vouched for.",
    ),
    "invalid_credentials": ((401,), "POST /auth/token with any wrong factor, or an unknown user."),
    "forbidden": ((403,), "The token's user lacks the role, or the organisation may not do this."),
    "not_found": ((404,), "Not there, or not visible to your organisation: the two are never told apart."),
    "method_not_allowed": ((405,), "The path exists, the method does not (`Allow` lists those that do)."),
    "version_conflict": ((409,), "A stale `version`: `fields.version` names the current one."),
    "withdrawn": ((409,), "A withdrawn plan cannot change."),
    "purged": ((409,), "A plan whose data the retention purge removed cannot change."),
    "not_editable": ((409,), "The plan cannot take proposals any more (withdrawn or purged): decline them."),
    "already_decided": ((409,), "The proposals of this report were decided already."),
    "no_region": ((409,), "?scope=region by a user whose organisation is in no region."),
    "disabled": ((409,), "The webhook endpoint is disabled: it cannot be changed or enabled again."),
    "too_large": ((413,), "The body is larger than the server takes (SAMENOP_MAX_REQUEST_BYTES)."),
    "unsupported_media_type": ((415,), "The body is not JSON."),
    "idempotency_key_reused": ((422,), "The same Idempotency-Key came with another body."),
    "locked": (
        (423,),
        "POST /auth/token after repeated failed logins; `Retry-After` when it ends by itself.",
    ),
    "rate_limited": (
        (429,),
        "Over a rate limit or an hourly budget; `Retry-After` gives the seconds to wait.",
    ),
    "internal_error": ((500,), "A fault in the code: bad input must never cause one."),
    "database_unavailable": (
        (503,),
        "The database is gone for the moment (a failover): send the request again after `Retry-After` "
        "seconds.",
    ),
    "error": ((406, 410, 416, 501), "Any other HTTP error; its status says which."),
}

_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "version_conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    423: "locked",
    429: "rate_limited",
    503: "database_unavailable",
}

# a failover (the standby promoted) takes a few seconds: the client may send the request again
RETRY_AFTER_LOST_DATABASE = 5
LOST_DATABASE_MESSAGE = "De database is even niet bereikbaar. Probeer het over enkele seconden opnieuw."


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}


class ErrorDetailSchema(Schema):
    code = Choice(
        tuple(ERROR_CODES),
        component="ErrorCode",
        metadata={"description": "What went wrong, for a program: the table of ErrorCode."},
    )
    message = fields.String(metadata={"description": "What went wrong, in Dutch, for a person: what to do."})
    # `fields` would shadow Schema.fields
    field_messages = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        attribute="fields",
        data_key="fields",
        metadata={
            "description": "Per bad field (nested ones with dots: persons.0.birth_date; the body as "
            "a whole: _schema), what is wrong with it, in Dutch; {} when no field is to blame."
        },
    )


class ErrorSchema(Schema):
    """Every error of the API: {"error": {"code", "message", "fields": {"name": ["..."]}}}."""

    error = fields.Nested(ErrorDetailSchema)


_error = ErrorSchema()


def error_response(status: int, code: str, message: str, fields: dict[str, Any] | None = None) -> Response:
    response = jsonify(_error.dump({"error": {"code": code, "message": message, "fields": fields or {}}}))
    response.status_code = status
    return response


def flatten_messages(messages: Any, prefix: str = "", root: str = "_schema") -> dict[str, list[str]]:
    """marshmallow's nested messages as {"persons.0.birth_date": ["..."]}; messages about the
    whole input go under `root`."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_messages(value, name, root))
    else:
        flat[prefix or root] = [str(m) for m in (messages if isinstance(messages, list) else [messages])]
    return flat


def json_body() -> dict[str, Any]:
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes; `silent` only covers ValueError
        data = None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "De aanvraag moet een JSON-object bevatten.")
    return data


def parse(schema: Schema, data: Any | None = None) -> Any:
    """Load input through an Args schema; a bad field answers 422 naming the field."""
    try:
        return schema.load(json_body() if data is None else data)
    except ValidationError as exc:
        raise ApiError(
            422,
            "invalid_input",
            "Een of meer velden zijn niet goed ingevuld.",
            flatten_messages(exc.messages),
        ) from None


_UNAUTHENTICATED = "Log opnieuw in: het token ontbreekt of is verlopen."


def require_token(*roles: str, reads_first: bool = False) -> Callable[[F], F]:
    """Bearer-token authentication; `roles` (any of) required, else 403.

    One prebuilt query per request (accounts.api_caller): the view gets the caller's ids and
    roles from `api_caller()`, and the ORM user only if it asks for it (`api_user()`).

    `reads_first`: the view begins with a `db.reading()` stretch (the lookup), which continues
    the token check's read-only transaction instead of beginning a second one
    (Database.begin_reading)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
            raw = raw.strip()
            caller = None
            if scheme.lower() == "bearer" and raw:
                if reads_first:
                    caller = accounts.api_caller(db.begin_reading(), raw)
                else:
                    with db.reading():
                        caller = accounts.api_caller(db.session, raw)
            if caller is None:
                audit.record_kept(db.session, "api_request", "unauthenticated", detail=_attempt())
                raise ApiError(401, "unauthenticated", _UNAUTHENTICATED)
            accounts.touch_api_token(db.session, caller)  # the idle clock, even when the view fails later
            if roles and not caller.has_role(*roles):
                raise forbidden(caller, roles)
            g.api_caller = caller
            g.pop("api_user", None)  # built on demand; a test may run requests in one app context
            return view(*args, **kwargs)

        setattr(wrapped, REQUIRED_ROLES, roles)
        return wrapped  # type: ignore[return-value]

    return decorator


FORBIDDEN = "Uw rol geeft geen toegang tot deze functie."


def forbidden(
    caller: accounts.ApiCaller | User, roles: tuple[str, ...], message: str = FORBIDDEN, **detail: Any
) -> ApiError:
    """The 403 for a caller without the role asked for, its refusal kept in the audit log
    however the request ends; `detail` adds what was asked (a statistics scope)."""
    audit.record_kept(
        db.session, "api_request", "forbidden", user=caller, detail={**_attempt(roles), **detail}
    )
    return ApiError(403, "forbidden", message)


def _attempt(roles: tuple[str, ...] = ()) -> dict[str, Any]:
    """What a refused request asked for (its route, not its URL: no personal data)."""
    rule = request.url_rule.rule if request.url_rule is not None else ""
    return {"method": request.method, "route": rule, **({"roles": list(roles)} if roles else {})}


def api_caller() -> accounts.ApiCaller:
    """Who sent this request (set by require_token)."""
    caller: accounts.ApiCaller = g.api_caller
    return caller


def api_user() -> User:
    """The caller as an ORM User, for operations that take one (built without a query)."""
    user: User | None = g.get("api_user")
    if user is None:
        session = db.session
        if session.new or session.dirty or session.deleted:
            user = accounts.caller_as_user(session, api_caller())  # in the write to come
        else:
            # adding to the session begins its transaction: let that be a read-only one, so that
            # SQLite takes no write lock for the lookup that follows
            with db.reading():
                user = accounts.caller_as_user(session, api_caller())
        g.api_user = user
    return user


def register_error_handlers(app: Flask) -> None:
    def is_api() -> bool:
        return request.path.startswith(API_PREFIX)

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        db.rollback()
        response = error_response(exc.status, exc.code, exc.message, exc.fields)
        response.headers.update(exc.headers)
        if exc.status == 401:
            # RFC 9110: a 401 names the scheme that would be accepted
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge) -> Any:
        # above MAX_CONTENT_LENGTH: refused before the body is read, in Dutch like every answer
        limit = app.config.get("MAX_CONTENT_LENGTH")
        most = f" (hoogstens {limit // 1024} kB)" if limit else ""
        return _http_error(RequestEntityTooLarge(f"De aanvraag is te groot{most}."))

    def database_unavailable() -> Response:
        """503 with Retry-After: the database server is gone (a failover); nothing was stored.
        The engine reconnects by itself, to whichever host is then the primary."""
        if is_api():
            response = error_response(503, _CODES[503], LOST_DATABASE_MESSAGE)
        else:
            from flask import current_app, make_response, render_template

            # the page's top bar must not ask the lost database who is logged in (flask-login)
            g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
            page = render_template("errors/http.html", error=ServiceUnavailable(LOST_DATABASE_MESSAGE))
            response = make_response(page, 503)
        response.headers["Retry-After"] = str(RETRY_AFTER_LOST_DATABASE)
        return response

    db.answer_when_lost(app, database_unavailable)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        lost = getattr(exc, "original_exception", None)
        if lost is not None and database_lost(lost):
            # a commit that failed after the view (Flask wraps what escapes it in a 500)
            db.discard(lost)
            return database_unavailable()
        db.rollback()
        status = exc.code or 500
        if is_api():
            response = error_response(status, _CODES.get(status, "error"), exc.description or "")
            # keep what the exception says beyond its body, e.g. `Allow` on a 405
            for name, value in exc.get_headers():
                if name.lower() != "content-type":
                    response.headers[name] = value
            return response
        from flask import render_template

        return render_template("errors/http.html", error=exc), status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        if database_lost(exc):
            db.discard(exc)
            return database_unavailable()
        db.rollback()
        app.logger.exception("unexpected error on %s %s", request.method, request.url_rule)
        if is_api():
            return error_response(500, "internal_error", "Er ging iets mis aan onze kant.")
        from flask import render_template

        return render_template("errors/http.html", error=None), 500
