"""The control-room side: search index, lookups and recording what was done."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from registry import observe
from registry.core import signals
from registry.core.timeutil import utcnow

log = logging.getLogger(__name__)


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
    open_in_served_workers(app)
    report_index_lag(app)


def report_index_lag(app: Flask) -> None:
    """GET /health and /metrics ask how far this server's index is behind the change feed."""
    from lookup import search

    def lag(session: Any) -> observe.IndexLag:
        applied = search.index_for(app.config["INDEX_DIR"]).applied()
        behind, oldest = search.unapplied(session, applied)
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
        return observe.IndexLag(behind, max(age, 0.0))

    observe.register_index_lag(app, lag)


def open_in_served_workers(app: Flask) -> None:
    """A served worker opens the search index (its readers and vocabulary: 0.1-0.4 s at scale)
    before its first request, not during the first lookup."""
    from lookup import search

    def _open(sender: Any, **_extra: Any) -> None:
        if sender is not app:
            return
        try:
            search.index_for(app.config["INDEX_DIR"]).searcher()
        except Exception:
            log.exception("search index not opened ahead of the first lookup")

    signals.worker_started.connect(_open, weak=False)
