"""Log lines as JSON, each carrying the id of the request it was written in (also in the audit
row and the X-Request-ID answer header), so that one request can be followed through both."""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import threading
from datetime import UTC, datetime
from typing import Any

from flask import g, has_request_context

#: what an incoming X-Request-ID may look like (nginx's $request_id is 32 hex digits, a load
#: balancer's a UUID): anything else is replaced by one of our own, so a client cannot write
#: arbitrary text into the logs and the audit rows
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,63}")

#: the attributes every LogRecord has; anything else on a record was passed with `extra=` and
#: goes into the line as a field of its own
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime", "request_id"}
)


def new_id() -> str:
    return secrets.token_hex(16)


def accepted(given: str | None) -> str | None:
    """An incoming request id when it is sane, else None."""
    if given and _SANE_ID.fullmatch(given):
        return given
    return None


def current_request_id() -> str | None:
    """The id of the request being served (registry.observe gives every request one), or None
    outside a request (the command line, a background thread)."""
    if not has_request_context():
        return None
    value = g.get("request_id")
    return value if isinstance(value, str) else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, process id, message, the request id
    when there is one, the fields given as `extra=`, and the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,  # which gunicorn worker
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            line["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class _StandardError(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a test runner swaps it per test)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


#: the loggers SAMENOP_LOG_LEVEL applies to: the app's packages and its per-request line
APP_LOGGERS = ("registry", "lookup", "samenop")

_installed = threading.Lock()
_factory_installed = False
_HANDLER_MARK = "_samenop_json"


def install(log_format: str, level: str) -> None:
    """Once per process: every log record written during a request carries its id; with
    log_format "json" the root logger writes JSON lines to standard error; the app's loggers
    pass on what is at `level` or above."""
    global _factory_installed
    with _installed:
        if not _factory_installed:
            previous = logging.getLogRecordFactory()

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                record = previous(*args, **kwargs)
                record.request_id = current_request_id()
                return record

            logging.setLogRecordFactory(factory)
            _factory_installed = True
        root = logging.getLogger()
        ours = [handler for handler in root.handlers if getattr(handler, _HANDLER_MARK, False)]
        if log_format == "json" and not ours:
            added = _StandardError()
            added.setFormatter(JsonFormatter())
            setattr(added, _HANDLER_MARK, True)
            root.addHandler(added)
        elif log_format != "json":
            for handler in ours:
                root.removeHandler(handler)
        # the app's own loggers at the level asked; libraries keep Python's default (WARNING)
        for name in APP_LOGGERS:
            logging.getLogger(name).setLevel(level)
