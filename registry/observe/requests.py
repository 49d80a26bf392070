"""Every request: an id (X-Request-ID), its time, one JSON log line when it ends, and its counts
in /metrics. Nothing of what was asked is logged: the route is the Flask rule
(`/api/v1/plans/<plan_id>`), never the path, and never the query string."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from registry.core import logs
from registry.observe import metrics

log = logging.getLogger("samenop.request")

HEADER = "X-Request-ID"
#: the route label of a request no rule matched (a 404 of a scanner): one label, not one per path
UNMATCHED = "<unmatched>"


def init_app(app: Flask) -> None:
    """Registered before every other hook, so the time counts all of them (and its after_request,
    run last, the commit too)."""
    trust_incoming = bool(app.config["TRUSTED_PROXIES"])

    @app.before_request
    def _begin() -> None:
        g.request_started = time.perf_counter()
        # a proxy we were told about may name the request (nginx: $request_id) so its log and
        # ours share the id; from anyone else the header is ignored
        given = logs.accepted(request.headers.get(HEADER)) if trust_incoming else None
        g.request_id = given or logs.new_id()

    @app.after_request
    def _end(response: Response) -> Response:
        request_id = g.get("request_id") or logs.new_id()
        response.headers[HEADER] = request_id
        started = g.get("request_started")
        seconds = time.perf_counter() - started if started is not None else 0.0
        route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
        metrics.observe_request(route, request.method, response.status_code, seconds)
        lookup = g.get("samenop_lookup")
        if lookup is not None:
            metrics.observe_lookup(lookup[0], lookup[1], seconds)
        log.info(
            "%s %s %d",
            request.method,
            route,
            response.status_code,
            extra={
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 1),
            },
        )
        return response


def note_lookup(kind: str, outcome: str) -> None:
    """A lookup was stored in this request: its time goes into the lookup histogram too."""
    g.samenop_lookup = (kind, outcome)
