"""`samenop serve`: the app under gunicorn."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


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


def run(app: Flask, host: str, port: int, workers: int, threads: int) -> None:
    _Gunicorn(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            # the access log would carry paths only (personal data stays in POST bodies),
            # but it is left off: the audit log is the record of who saw what
            "accesslog": None,
            "errorlog": "-",
            "timeout": 30,
            # connections must never cross a fork: each worker opens its own
            "post_fork": lambda _server, _worker: app.extensions["samenop.engine"].dispose(close=False),
        },
    ).run()
