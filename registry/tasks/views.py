"""Opvolging: the follow-up tasks of the user's organisation, a page of their own (a crisis
team's responders hand over here) and a section of Terugkoppeling; marking one done."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from registry.auth import web
from registry.core.db import db
from registry.core.vocabulary import Role
from registry.tasks import operations
from registry.tasks.schemas import TaskDoneArgs

bp = Blueprint("tasks", __name__, url_prefix="/terugkoppeling/opvolging")


@bp.get("")
@web.role_required(*operations.ROLES)
def page() -> Any:
    user = web.current()
    tasks = operations.open_tasks(db.session, user.organisation_id)
    operations.audit_list(db.session, user, tasks, "page")
    return render_template("registry/tasks/page.html", tasks=tasks)


def _back() -> Any:
    """Back where the task was shown: Terugkoppeling for a registrant, else Opvolging."""
    if web.current().has_role(Role.REGISTRANT) and request.form.get("from") == "terugkoppeling":
        return redirect(url_for("feedback.inbox") + "#opvolging")
    return redirect(url_for("tasks.page"))


@bp.post("/<task_id>/gedaan")
@web.role_required(*operations.ROLES)
def done(task_id: str) -> Any:
    try:
        args = TaskDoneArgs().load({"note": request.form.get("note", "")})
        operations.mark_done(db.session, web.current(), uuid.UUID(task_id), args["note"])
    except ValidationError:
        flash("De notitie is te lang (hoogstens 4000 tekens).", "error")
        return _back()
    except (ValueError, operations.NotFound):
        abort(404)
    flash("Opvolging afgerond.", "success")
    return _back()
