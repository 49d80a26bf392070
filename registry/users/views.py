"""The coordinator's accounts page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import EmailField, SelectMultipleField, StringField, widgets
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from registry.auth import accounts, web
from registry.core import audit, roles
from registry.core.db import db
from registry.core.models import MAX_ID, Organisation, User
from registry.core.vocabulary import AuditAction, Role

bp = Blueprint("users", __name__, url_prefix="/accounts")


def _granted_by_coordinator(form: FlaskForm, field: SelectMultipleField) -> None:
    asked = set(field.data or [])
    if Role.RESPONDER in asked:
        raise ValidationError(
            "De rol Meldkamer / CIT (raadplegen) kent alleen een beheerder toe, "
            "en alleen aan medewerkers van politie, CIT of Veilig Thuis."
        )
    if not asked <= {choice.value for choice in field.choices or []}:
        raise ValidationError("Kies rollen uit de lijst.")


def _offered(organisation: Organisation) -> list[SelectChoice]:
    """The roles a coordinator of this organisation hands out: the region's monitoring only
    where the organisation is in a region (registry.core.roles)."""
    in_region = organisation.region_id is not None
    return [
        SelectChoice(role, role.label)
        for role in roles.GRANTED_BY_COORDINATOR
        if roles.may_hold(role, organisation.kind, in_region)
    ]


class NewUserForm(FlaskForm):
    username = StringField(
        "Gebruikersnaam",
        validators=[
            DataRequired("Vul een gebruikersnaam in."),
            Length(min=3, max=64),
            Regexp(
                r"^[a-z0-9._-]+$",
                message="Gebruik kleine letters, cijfers, punt, streepje of liggend streepje.",
            ),
        ],
    )
    display_name = StringField("Naam", validators=[DataRequired("Vul de naam in."), Length(max=200)])
    email = EmailField("E-mail", validators=[Optional(), Length(max=254)])
    roles = SelectMultipleField(
        "Rollen",
        # SelectChoice, not (value, label) tuples: wtforms 3.3 deprecates the tuples
        # only what a coordinator may hand out (set per organisation by _offered): the lookup
        # role is granted by an administrator
        choices=[SelectChoice(value, value.label) for value in roles.GRANTED_BY_COORDINATOR],
        # the check below answers in Dutch (wtforms' own is English)
        validate_choice=False,
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
        validators=[DataRequired("Kies minstens één rol."), _granted_by_coordinator],
    )


def _new_user_form(**kwargs: Any) -> NewUserForm:
    form = NewUserForm(**kwargs)
    form.roles.choices = _offered(web.current().organisation)
    return form


class ActionForm(FlaskForm):
    """Only the CSRF token: the action is in the URL, the account in the path."""


def _own_user(user_id: int) -> User:
    user = accounts.colleague(db.session, web.current(), user_id)
    if user is None:
        abort(404)
    return user


def _page(form: NewUserForm, link: str | None = None, status: int = 200, error: str | None = None) -> Any:
    me = web.current()
    users = accounts.colleagues(db.session, me)
    locked = accounts.locked_usernames(db.session, [u.username for u in users])
    # the page shows colleagues' names and e-mail addresses: a read of personal data, also when
    # it comes back with a form's errors
    audit.record_kept(
        db.session, "user_list", "success", user=me, role=Role.COORDINATOR, object_type="user",
        detail={"users": [u.id for u in users]},
    )  # fmt: skip
    return (
        render_template(
            "registry/users.html",
            form=form,
            users=users,
            locked=locked,
            link=link,
            error=error,
            action_form=ActionForm(),
        ),
        status,
    )


def _enrolment_link(user: User) -> str:
    raw = accounts.issue_enrolment(user, current_app.config["ENROLMENT_VALID_HOURS"])
    return current_app.config["BASE_URL"].rstrip("/") + url_for("auth.enrol", token=raw)


@bp.route("", methods=["GET", "POST"])
@web.role_required(Role.COORDINATOR)
def index() -> Any:
    form = _new_user_form()
    if request.method == "POST" and form.validate_on_submit():
        me = web.current()
        refused = accounts.username_unavailable(db.session, form.username.data or "", me.organisation_id)
        if refused:
            form.username.errors = [refused]
            return _page(form, status=422)
        try:
            user = accounts.create_user(
                db.session,
                form.username.data or "",
                me.organisation,
                list(form.roles.data or []),
                display_name=form.display_name.data,
                email=form.email.data or None,
            )
        except IntegrityError:  # taken meanwhile, by anyone: say nothing about where
            db.rollback()
            form.username.errors = [accounts.USERNAME_UNAVAILABLE]
            return _page(form, status=422)
        except accounts.RoleNotAllowed as exc:  # the organisation changed since the form was read
            db.rollback()
            form.roles.errors = [str(exc)]
            return _page(form, status=422)
        link = _enrolment_link(user)
        audit.record(
            db.session,
            "user_create",
            "success",
            user=me,
            role=Role.COORDINATOR,
            object_type="user",
            object_id=user.id,
        )
        return _page(_new_user_form(formdata=None), link=link, status=201)
    offered = {choice.value for choice in form.roles.choices or []}
    if request.method == "POST" and not set(form.roles.data or []) <= offered:
        # an attempt to hand out a role past the form (the lookup role, or the region's
        # monitoring outside a region): refused above, kept in the log
        accounts.record_refused_roles(
            db.session, web.current(), form.username.data or "", form.roles.data or []
        )
    return _page(form, status=422 if request.method == "POST" else 200)


# each action of the accounts page as the Logboek names it
ACTIONS = {
    "unlock": AuditAction.USER_UNLOCK,
    "deactivate": AuditAction.USER_DEACTIVATE,
    "reenrol": AuditAction.USER_REENROL,
}


@bp.post(f"/<int(max={MAX_ID}):user_id>/<any(unlock, deactivate, reenrol):action>")
@web.role_required(Role.COORDINATOR)
def act(user_id: int, action: str) -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    me = web.current()
    user = _own_user(user_id)
    link = None
    if action == "unlock":
        accounts.unlock(db.session, user.username)
    elif action == "deactivate":
        if request.form.get("bevestigd") != "ja":
            # only the confirmation's own button deactivates (templates/registry/users.html)
            return _page(_new_user_form(formdata=None), status=422, error="Bevestig het deactiveren.")
        accounts.deactivate(db.session, user)
    else:
        # a lost phone: new secret, new password, through a new one-time link
        accounts.end_all_sessions(db.session, user)
        user.totp_secret_encrypted = None
        user.enrolled_at = None
        link = _enrolment_link(user)
    audit.record(
        db.session,
        ACTIONS[action],
        "success",
        user=me,
        role=Role.COORDINATOR,
        object_type="user",
        object_id=user.id,
    )
    return _page(_new_user_form(formdata=None), link=link)
