"""`samenop serve`: the app under gunicorn."""

from __future__ import annotations

import gc
import logging
import ssl
from dataclasses import dataclass
from typing import Any

from flask import Flask
from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from gunicorn.http import wsgi as gunicorn_wsgi

from registry.core.logs import JsonFormatter

log = logging.getLogger(__name__)


class _Response(gunicorn_wsgi.Response):
    """gunicorn's HTTP/1 answer without its `Server: gunicorn` header: which software serves
    the registry is nobody's business (gunicorn has no setting to leave it out). Its own
    error answers (a malformed request) carry no Server header anyway."""

    def default_headers(self) -> list[str]:
        return [line for line in super().default_headers() if not line.lower().startswith("server:")]


class _JsonLogger(glogging.Logger):
    """gunicorn's own lines (workers booting, a worker killed) as JSON, like the app's
    (SAMENOP_LOG_FORMAT=json); its access log stays off."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())


class _Gunicorn(BaseApplication):
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


@dataclass(frozen=True)
class Tls:
    """gunicorn terminating TLS itself. With `client_ca`, a client may show a certificate signed by
    it (CERT_OPTIONAL: people's browsers show none), which the handshake verifies; a machine
    client is then recognised by it (registry.web.clients reads the connection's peer certificate)."""

    certfile: str
    keyfile: str
    client_ca: str | None = None

    def options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"certfile": self.certfile, "keyfile": self.keyfile}
        if self.client_ca is not None:
            options.update(ca_certs=self.client_ca, cert_reqs=ssl.CERT_OPTIONAL)
        return options


def run(app: Flask, host: str, port: int, workers: int, threads: int, tls: Tls | None = None) -> None:
    from registry.observe import metrics

    gunicorn_wsgi.Response = _Response  # read by gunicorn for every request; the workers inherit it
    # with PROMETHEUS_MULTIPROC_DIR each worker writes its counts there and /metrics adds them up:
    # counts of an earlier run would be added too
    metrics.empty_directory()
    _Gunicorn(
        app,
        {
            **(tls.options() if tls is not None else {}),
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            # the access log would carry paths only (personal data stays in POST bodies),
            # but it is left off: the audit log is the record of who saw what
            "accesslog": None,
            "errorlog": "-",
            "timeout": 30,
            # gunicorn 27's control socket: a thread in the master, stopped and restarted around
            # every fork, on one path for every gunicorn of the user (two app servers on one
            # machine took it from each other); nothing here uses it
            "control_socket_disable": True,
            # connections must never cross a fork: each worker opens its own
            "post_fork": lambda _server, _worker: app.extensions["samenop.engine"].dispose(close=False),
            "post_worker_init": lambda _worker: _settle(app),
            "child_exit": lambda _server, worker: metrics.mark_process_dead(worker.pid),
            **({"logger_class": _JsonLogger} if app.config["LOG_FORMAT"] == "json" else {}),
        },
    ).run()


def _settle(app: Flask) -> None:
    """Before a worker's first request: on SQLite start checkpointing in the background (see
    registry.core.db.start_checkpointer), let the packages open what they keep open (lookup: the
    search index's readers and vocabulary), then
    move everything alive to the collector's permanent generation (gc.freeze). A full collection
    otherwise walks all of it, under load every few hundred requests: 50-80 ms with the GIL held,
    which every thread of the worker waits for (measured at 1 000 000 persons)."""
    from registry.core import signals
    from registry.core.db import start_checkpointer

    start_checkpointer(app.extensions["samenop.engine"])
    signals.worker_started.send(app)  # lookup opens its search index
    gc.freeze()
