"""Browser sessions: flask-login over a server-side session table, and the role check."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar, cast

from flask import Flask, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_user, logout_user

from registry.auth import accounts
from registry.core import audit
from registry.core.db import db
from registry.core.models import User

F = TypeVar("F", bound=Callable[..., Any])

login_manager = LoginManager()


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in om verder te gaan."
    # the session is bound to a server-side row; flask-login's own protection adds nothing
    login_manager.session_protection = None


@login_manager.user_loader
def _load(token: str) -> User | None:
    with db.reading():
        user, row = accounts.user_for_web_session(db.session, token)
    if row is not None and user is None:
        accounts.end_lapsed_web_session(db.session, row)
    elif row is not None:
        accounts.touch(db.session, row)
    return user


def start(user: User) -> None:
    """Log in after both factors: a new session from scratch, so a new session id."""
    session.clear()
    # and a new CSRF token: flask-wtf keeps the one it made in this request on `g`, whose
    # secret half left with the old session
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    raw = accounts.start_web_session(db.session, user, request.remote_addr)
    user.login_token = raw
    login_user(user)
    session.permanent = False


def end() -> None:
    token = session.get("_user_id")
    if token:
        accounts.end_web_session(db.session, token)
    logout_user()
    session.clear()


def current() -> User:
    return cast(User, current_user._get_current_object())


def refuse(roles: tuple[str, ...], **detail: Any) -> NoReturn:
    """403 for the current user, who lacks `roles`; the refusal kept in the audit log however
    the request ends. `detail` adds what was asked (a statistics scope)."""
    rule = request.url_rule.rule if request.url_rule is not None else ""
    audit.record_kept(
        db.session, "page_request", "forbidden", user=current(),
        detail={"method": request.method, "route": rule, "roles": list(roles), **detail},
    )  # fmt: skip
    abort(403)


# what a form carries through a login in place: everything it submitted but its CSRF token
CARRIED_PREFIX = "f:"


def carried_fields() -> list[tuple[str, str]]:
    """The submitted form as (name, value) pairs in order, without the CSRF token."""
    form = request.form
    return [(name, value) for name, values in form.lists() if name != "csrf_token" for value in values]


def ask_again() -> Any:
    """Not (or no longer) logged in. A page asked for: to the login, and back here afterwards.
    A form submitted after the idle timeout: the login in place (password and code), which
    carries what was submitted in the page itself, never stored anywhere, and then completes
    it (registry.auth.views.again): nothing typed is lost."""
    if request.method != "POST":
        session["after_login"] = request.path  # the path only: a query string may hold a search
        return redirect(url_for("auth.login"))
    return (
        render_template(
            "registry/login_again.html",
            target=request.path,
            fields=carried_fields(),
            prefix=CARRIED_PREFIX,
            error=None,
        ),
        401,
    )


def role_required(*roles: str) -> Callable[[F], F]:
    """Logged in with both factors and holding one of `roles` (none given: any role)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return ask_again()
            if roles and not current().has_role(*roles):
                refuse(roles)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
