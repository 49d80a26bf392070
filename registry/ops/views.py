"""The coordinator's page of the scheduled jobs (`samenop worker`) and the outbox's backlog."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from registry.auth import web
from registry.core.db import db
from registry.core.vocabulary import Role
from registry.ops import outbox, worker

bp = Blueprint("ops", __name__, url_prefix="/beheer")


@bp.route("/taken")
@web.role_required(Role.COORDINATOR)
def jobs() -> Any:
    """Each job's last run, outcome and message: counts and dates, no personal data."""
    with db.reading() as session:
        jobs = worker.overview(session)
        backlog = outbox.backlog(session)
    return render_template("registry/ops/jobs.html", jobs=jobs, backlog=backlog)
