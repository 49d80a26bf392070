"""The home page: what each role does here, one tile per role the user holds."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, url_for
from flask_login import current_user

from registry.auth import web

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> Any:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("registry/home.html", user=web.current())


@bp.get("/health")
def health() -> Response:
    """Bare endpoint: no database, no session; the floor the benchmarks compare against."""
    return Response("ok", mimetype="text/plain")
