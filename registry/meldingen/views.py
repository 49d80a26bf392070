"""The page Melding: a melding's shared record (the five core questions), where a partner reads
what the others answered and adds to it; and its one-page summary for the hand-over, to print."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from registry.auth import web
from registry.core.db import db
from registry.meldingen import operations
from registry.meldingen.schemas import AddAssessmentArgs, answers_of
from registry.web.api import flatten_messages

bp = Blueprint("meldingen", __name__, url_prefix="/meldingen")


def _id(melding_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(melding_id)
    except ValueError:
        return None


@bp.route("/<melding_id>", methods=["GET", "POST"])
@web.role_required(*operations.ROLES)
def show(melding_id: str) -> Any:
    user = web.current()
    parsed = _id(melding_id)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            args = AddAssessmentArgs().load(answers_of(request.form))
            args.pop("corrects")
            operations.add(db.session, user, parsed, args)
        except ValidationError as exc:
            # named as the report form names the same fields (templates/registry/_assessment_fields.html)
            errors = flatten_messages(exc.messages, prefix="assessment", root="_form")
            if "assessment._schema" in errors:  # "fill in at least one": about the form as a whole
                errors["_form"] = errors.pop("assessment._schema")
        except operations.NotFound:
            abort(404)
        else:
            flash("Uw aanvulling staat in de melding.", "success")
            return redirect(url_for("meldingen.show", melding_id=melding_id))
    try:
        record = operations.read_record(db.session, user, parsed)
    except operations.NotFound:
        abort(404)
    form = request.form if request.method == "POST" else {}
    page = render_template("registry/meldingen/show.html", record=record, errors=errors, form=form)
    return page, 422 if errors else 200


@bp.get("/<melding_id>/overdracht")
@web.role_required(*operations.ROLES)
def summary(melding_id: str) -> Any:
    """The five answers on one page, for the partner who takes over: printable."""
    try:
        record = operations.read_record(db.session, web.current(), _id(melding_id), view="summary")
    except operations.NotFound:
        abort(404)
    return render_template("registry/meldingen/summary.html", record=record)
