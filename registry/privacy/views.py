"""The Logboek page of the privacy officer (role auditor)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from registry.auth import web
from registry.core.db import db
from registry.core.models import MAX_ID
from registry.core.timeutil import utcnow
from registry.privacy import flags, operations
from registry.privacy.schemas import LogSearchArgs

bp = Blueprint("privacy", __name__, url_prefix="/logboek")

_args = LogSearchArgs()


@bp.get("")
@web.role_required(operations.ROLE)
def log() -> Any:
    raw = {
        key: request.args.get(key, "") for key in ("username", "plan", "organisation", "action", "from", "to")
    }
    # the chain first: the search's own row is written after it, in this request's transaction
    chain = operations.check_chain(db.session)
    try:
        args = _args.load(request.args.to_dict())
    except ValidationError as exc:
        errors = {
            key: list(value) for key, value in exc.normalized_messages().items() if isinstance(value, list)
        }
        page = render_template("registry/privacy/log.html", chain=chain, raw=raw, errors=errors, result=None)
        return page, 400
    filters = operations.LogFilter.from_args(args)
    result = operations.search(
        db.session, web.current(), filters, args["page"], current_app.config["TIMEZONE"]
    )
    query = {key: value for key, value in raw.items() if value}
    return render_template(
        "registry/privacy/log.html", chain=chain, raw=raw, errors={}, result=result, query=query
    )


@bp.get("/signaleringen")
@web.role_required(flags.ROLE)
def flagged() -> Any:
    """The flagged lookups: open ones to review, and the last ones closed, with their notes."""
    return _flags_page({}, {})


def _flags_page(errors: dict[int, str], notes: dict[int, str], status: int = 200) -> Any:
    config = current_app.config
    # today's and yesterday's lookups are looked at again each time (the hourly scan may be an
    # hour behind); the flags found are written with this request
    flags.scan(db.session, utcnow(), config["TIMEZONE"], flags.Thresholds.of(config))
    listing = flags.listing(db.session, web.current())
    page = render_template(
        "registry/privacy/flags.html", listing=listing, errors=errors, notes=notes, thresholds=config
    )
    return page, status


@bp.post("/signaleringen/<int:flag_id>/sluiten")
@web.role_required(flags.ROLE)
def close_flag(flag_id: int) -> Any:
    note = request.form.get("note", "")
    if flag_id > MAX_ID:
        return _flags_page({flag_id: "Deze signalering bestaat niet."}, {}, 404)
    try:
        flags.close(db.session, web.current(), flag_id, note)
    except flags.NoteRequired as exc:
        return _flags_page({flag_id: str(exc)}, {flag_id: note}, 422)
    except flags.FlagNotFound:
        return _flags_page({flag_id: "Deze signalering is al gesloten of bestaat niet."}, {}, 404)
    flash("De signalering is gesloten, met uw notitie.", "success")
    return redirect(url_for("privacy.flagged"))
