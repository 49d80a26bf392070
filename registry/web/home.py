"""The home page: what each role does here, one tile per role the user holds."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from registry.auth import web
from registry.core import audit
from registry.core.db import db
from registry.core.vocabulary import Role
from registry.feedback import operations as feedback
from registry.plans import operations
from registry.plans.schemas import today

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> Any:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    user = web.current()
    expiring = []
    untested: list[Any] = []
    open_feedback = None
    if user.has_role(Role.REGISTRANT):
        # how many feedback items are open and late: numbers only, one aggregate statement
        with db.reading():
            open_feedback = feedback.totals(db.session, user.organisation_id)
        expiring = operations.expiring_soon(db.session, user, today())
        untested = operations.with_untested_numbers(db.session, user, today())
        if untested:
            audit.record(
                db.session, "plan_list", "success", user=user, role=Role.REGISTRANT, object_type="plan",
                detail={"plans": [str(plan_id) for plan_id, _title in untested], "view": "untested"},
            )  # fmt: skip
        if expiring:
            audit.record(
                db.session, "plan_list", "success", user=user, role=Role.REGISTRANT, object_type="plan",
                detail={"plans": [str(shown.plan.id) for shown in expiring], "view": "expiring"},
            )  # fmt: skip
    return render_template(
        "registry/home.html",
        user=user,
        expiring=expiring,
        untested=untested,
        today=today(),
        open_feedback=open_feedback,
    )
