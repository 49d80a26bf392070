"""Watching the running system: GET /health, GET /metrics, and an id per request in the answer,
the JSON log lines and the audit rows (docs/operations.md).

Other parts report through hooks, so that the registry needs to import none of them:

    observe.register_index_lag(app, read)       # lookup: how far its search index is behind
    observe.register_outbox_backlog(app, read)  # the outbox: messages waiting
    observe.register_job_runs(app, read)        # the scheduler: each job's last run
    observe.note_lookup(kind, outcome)          # in a request that stored a lookup

Each `read` takes the request's session and returns the dataclass of registry.observe.operations
(IndexLag, OutboxBacklog, an iterable of JobRun). Until one is registered, its figures are not
reported (and /health has no index part).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Flask
from sqlalchemy.orm import Session

from registry.core import logs
from registry.core.config import ConfigError
from registry.observe import requests
from registry.observe.operations import IndexLag, JobRun, OutboxBacklog, hooks
from registry.observe.requests import note_lookup

__all__ = [
    "IndexLag",
    "JobRun",
    "OutboxBacklog",
    "init_app",
    "note_lookup",
    "register_index_lag",
    "register_job_runs",
    "register_outbox_backlog",
]

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MIN_METRICS_TOKEN = 32


def init_app(app: Flask) -> None:
    """Check the settings, install the JSON log lines, and time and count every request. Called
    first in create_app, so the request hooks run around every other one."""
    _check(app.config)
    logs.install(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    hooks(app)
    requests.init_app(app)


def init_views(app: Flask) -> None:
    from registry.observe.views import bp

    app.register_blueprint(bp)


def register_index_lag(app: Flask, read: Callable[[Session], IndexLag]) -> None:
    hooks(app).index_lag = read


def register_outbox_backlog(app: Flask, read: Callable[[Session], OutboxBacklog]) -> None:
    hooks(app).outbox_backlog = read


def register_job_runs(app: Flask, read: Callable[[Session], Iterable[JobRun]]) -> None:
    hooks(app).job_runs = read


def _check(config: dict[str, object]) -> None:
    """The settings of this package, refused at start when unusable (registry.core.config's rule)."""
    log_format = str(config.get("LOG_FORMAT") or "json").strip().lower()
    if log_format not in ("json", "text"):
        raise ConfigError(f"SAMENOP_LOG_FORMAT must be json or text, not {log_format!r}")
    config["LOG_FORMAT"] = log_format
    level = str(config.get("LOG_LEVEL") or "INFO").strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"SAMENOP_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
    config["LOG_LEVEL"] = level
    token = config.get("METRICS_TOKEN") or None
    if token is not None and len(str(token)) < MIN_METRICS_TOKEN:
        raise ConfigError(f"SAMENOP_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN} characters")
    config["METRICS_TOKEN"] = str(token) if token is not None else None
    raw = config.get("INDEX_MAX_LAG_SECONDS")
    try:
        seconds = float(str(raw).strip())
    except ValueError:
        seconds = -1.0
    if not 1 <= seconds <= 86_400:
        raise ConfigError(
            f"SAMENOP_INDEX_MAX_LAG_SECONDS must be a number of seconds from 1 to 86400, not {raw!r}"
        )
    config["INDEX_MAX_LAG_SECONDS"] = seconds
