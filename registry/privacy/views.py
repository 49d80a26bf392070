"""The Logboek page of the privacy officer (role auditor)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request
from marshmallow import ValidationError

from registry.auth import web
from registry.core.db import db
from registry.privacy import operations
from registry.privacy.schemas import LogSearchArgs

bp = Blueprint("privacy", __name__, url_prefix="/logboek")

_args = LogSearchArgs()


@bp.get("")
@web.role_required(operations.ROLE)
def log() -> Any:
    raw = {key: request.args.get(key, "") for key in ("username", "plan", "organisation", "from", "to")}
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
