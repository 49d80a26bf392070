"""GET /api/docs: the API's description (/api/v1/openapi.json) as a page, Swagger UI.

Swagger UI's files come from the flask-swagger-ui package (its dist/ folder; not its blueprint,
whose page starts Swagger UI with an inline script the house CSP refuses): served by the app,
never from a CDN, so the page works where the API does and loads nothing from elsewhere. Our own
script (registry/static/api-docs.js) starts it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from flask import Blueprint, Response, abort, render_template, send_from_directory, url_for

DOCS_PATH = "/api/docs"

#: the files of Swagger UI's distribution the page loads
_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"})

bp = Blueprint("api_docs", __name__, url_prefix=DOCS_PATH)


def _dist() -> Path:
    return Path(str(resources.files("flask_swagger_ui") / "dist"))


@bp.get("")
def page() -> str:
    return render_template("api/docs.html", spec_url=url_for("openapi.openapi_json"))


@bp.get("/<name>")
def asset(name: str) -> Response:
    if name not in _FILES:
        abort(404)
    return send_from_directory(_dist(), name, max_age=3600)
