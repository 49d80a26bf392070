"""Log in (password, then the code), log out, and enrolment through a one-time link."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from registry.auth import accounts, passwords, two_factor, web
from registry.core import audit
from registry.core.db import db
from registry.core.models import User
from registry.core.vocabulary import Role
from registry.web.ratelimit import login_limit

bp = Blueprint("auth", __name__)

PENDING_SECONDS = 300


class LoginForm(FlaskForm):
    username = StringField(
        "Gebruikersnaam", validators=[DataRequired("Vul uw gebruikersnaam in."), Length(max=64)]
    )
    password = PasswordField(
        "Wachtwoord", validators=[DataRequired("Vul uw wachtwoord in."), Length(max=1024)]
    )


class CodeForm(FlaskForm):
    code = StringField(
        "Code uit de authenticator-app (6 cijfers)",
        validators=[DataRequired("Vul de code uit de authenticator-app in."), Length(max=32)],
    )


class EnrolForm(FlaskForm):
    password = PasswordField("Nieuw wachtwoord", validators=[DataRequired("Kies een wachtwoord.")])
    password_again = PasswordField(
        "Nogmaals het wachtwoord", validators=[DataRequired("Herhaal het wachtwoord.")]
    )
    code = StringField(
        "Code uit de authenticator-app (6 cijfers)",
        validators=[DataRequired("Vul de code uit de authenticator-app in."), Length(max=32)],
    )


def _proof(username: str, nonce: str, issued: int) -> str:
    """Marks a correct password in the (signed, readable) cookie without revealing it:
    a wrong password gets random bytes of the same length."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{username}|{nonce}|{issued}|password-ok".encode(), hashlib.sha256).hexdigest()


@bp.route("/login", methods=["GET", "POST"])
@login_limit
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        username = accounts.normalise_username(form.username.data or "")
        ok = accounts.check_password(db.session, username, form.password.data or "")
        nonce, issued = secrets.token_hex(16), int(time.time())
        after_login = session.get("after_login")
        session.clear()
        # every answer is the same: on to the code step, whether or not the password was right
        session["pending_login"] = {
            "u": username,
            "n": nonce,
            "t": issued,
            "p": _proof(username, nonce, issued) if ok else secrets.token_hex(32),
            "next": after_login,
        }
        return redirect(url_for("auth.code"))
    return render_template("registry/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@login_limit
def code() -> Any:
    pending = session.get("pending_login")
    if not pending or time.time() - pending.get("t", 0) > PENDING_SECONDS:
        session.pop("pending_login", None)
        return redirect(url_for("auth.login"))
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        password_ok = hmac.compare_digest(pending["p"], _proof(pending["u"], pending["n"], pending["t"]))
        try:
            user = accounts.authenticate(
                db.session,
                pending["u"],
                None,
                (form.code.data or "").strip(),
                "web",
                password_ok=password_ok,
            )
        except accounts.LoginLocked as locked:
            session.pop("pending_login", None)
            wait = {"Retry-After": str(locked.retry_after)} if locked.retry_after else {}
            return render_template("registry/login.html", form=LoginForm(), error=locked.message), 423, wait
        except accounts.LoginFailed:
            session.pop("pending_login", None)
            error = "Gebruikersnaam, wachtwoord of code klopt niet. Probeer het opnieuw."
            return render_template("registry/login.html", form=LoginForm(), error=error), 401
        web.start(user)
        return redirect(_local_path(pending.get("next")) or _landing(user))
    return render_template("registry/login_code.html", form=form, error=error)


def _landing(user: User) -> str:
    """Where a login lands: an operator has one thing to do here, straight to the lookup with
    the caller on the line; everyone else on the home page with a tile per role."""
    if user.roles == {Role.RESPONDER} and "lookup.page" in current_app.view_functions:
        return url_for("lookup.page")
    return url_for("home.index")


class AgainForm(LoginForm):
    code = CodeForm.code


def _local_path(path: object, method: str = "GET") -> str | None:
    """`path` when it is a page of this app answering `method` (never another site, never the
    login itself), else None."""
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
        return None
    try:
        endpoint, _ = current_app.url_map.bind("").match(path, method=method)
    except HTTPException:
        return None
    return None if endpoint.startswith("auth.") else path


@bp.post("/login/opnieuw")
@login_limit
def again() -> Any:
    """The login in place after the idle timeout (registry.auth.web.ask_again): password and
    code in one form, then what was submitted goes on to where it was sent, with the new
    session's CSRF token, so that nothing typed is lost."""
    prefix = web.CARRIED_PREFIX
    target = _local_path(request.form.get("target"), "POST")
    if target is None:
        abort(400)
    fields = [
        (name.removeprefix(prefix), value) for name, value in web.carried_fields() if name.startswith(prefix)
    ]
    form = AgainForm()
    error, status, headers = None, 401, {}
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                db.session,
                form.username.data or "",
                form.password.data or "",
                (form.code.data or "").strip(),
                "web",
            )
        except accounts.LoginLocked as locked:
            error, status = locked.message, 423
            headers = {"Retry-After": str(locked.retry_after)} if locked.retry_after else {}
        except accounts.LoginFailed:
            error = "Gebruikersnaam, wachtwoord of code klopt niet. Probeer het opnieuw."
        else:
            web.start(user)
            return render_template("registry/login_resubmit.html", target=target, fields=fields)
    elif form.is_submitted():
        error = "Vul uw gebruikersnaam, wachtwoord en code in."
    page = render_template(
        "registry/login_again.html", target=target, fields=fields, prefix=prefix, error=error, form=form
    )
    return page, status, headers


@bp.post("/logout")
def logout() -> Response:
    if current_user.is_authenticated:
        audit.record(db.session, "logout", "success", user=web.current(), detail={"channel": "web"})
    web.end()
    return redirect(url_for("auth.login"))


@bp.route("/enrol/<token>", methods=["GET", "POST"])
def enrol(token: str) -> Any:
    user = accounts.user_for_enrolment(db.session, token)
    if user is None:
        return render_template("registry/enrol_invalid.html"), 404
    secret = two_factor.secret_of(user) if two_factor.has_secret(user) else accounts.provision_totp(user)
    form = EnrolForm()
    error = None
    if form.is_submitted():
        fields_ok = form.validate()
        # checked even when a field is empty, so that one answer names every problem; after
        # validate(), which resets the fields' errors
        password_ok = _new_password_acceptable(form, user)
        if fields_ok and password_ok:
            if accounts.complete_enrolment(
                db.session, user, form.password.data or "", (form.code.data or "").strip()
            ):
                audit.record(db.session, "enrolment", "success", user=user)
                return render_template("registry/enrol_done.html", user=user)
            form.code.errors = ["Deze code klopt niet. Wacht op de volgende code en probeer opnieuw."]
    return render_template(
        "registry/enrol.html",
        form=form,
        user=user,
        error=error,
        qr_svg=two_factor.qr_svg(secret, user.username),
        secret=secret,
    )


def _new_password_acceptable(form: EnrolForm, user: User) -> bool:
    """Policy and repetition of a typed password; an empty one is left to DataRequired."""
    if not form.password.data:
        return False
    try:
        passwords.check_policy(form.password.data, [user.username, user.display_name])
    except passwords.PasswordPolicyError as exc:
        form.password.errors = [str(exc)]
        return False
    if form.password_again.data and form.password.data != form.password_again.data:
        form.password_again.errors = ["De twee wachtwoorden zijn niet gelijk."]
        return False
    return True
