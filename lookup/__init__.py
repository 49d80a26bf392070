"""The control-room side: search index, lookups and recording what was done."""

from __future__ import annotations

from typing import Any

from flask import Flask


def init_app(app: Flask, csrf: Any) -> None:
    """Register lookup's blueprints and keep its search index following the registry."""
    from lookup import api
    from lookup import views as pages
    from lookup.cli import index
    from lookup.search import follow_registry

    csrf.exempt(api.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.cli.add_command(index)
    follow_registry(app)
