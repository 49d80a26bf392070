"""GET /health (the load balancer's and the operator's check), GET /health/live (the process
answers, nothing else), GET /metrics (Prometheus; loopback, an allowed network or a bearer
secret only)."""

from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, abort, current_app, request
from flask.typing import ResponseReturnValue

from registry.core.db import db
from registry.observe import metrics, operations

bp = Blueprint("observe", __name__)


@bp.get("/health")
def health() -> ResponseReturnValue:
    """200 when every part is healthy, else 503; which part failed, figures only (no personal
    data), for anyone: a load balancer asks without credentials."""
    with db.reading() as session:
        parts = operations.health(current_app, session)
    failed = [name for name, part in parts.items() if not part.ok]
    body = {
        "status": "failing" if failed else "ok",
        "failed": failed,
        "parts": {name: {"ok": part.ok, **part.figures} for name, part in parts.items()},
    }
    response = current_app.json.response(body)
    response.status_code = 503 if failed else 200
    return response


@bp.get("/health/live")
def live() -> Response:
    """Bare endpoint: no database, no session; the floor the benchmarks compare against."""
    return Response("ok", mimetype="text/plain")


@bp.get("/metrics")
def scrape() -> Response:
    if not _may_scrape():
        abort(403)
    with db.reading() as session:
        text = metrics.exposition(current_app, session)
    return Response(text, content_type=metrics.CONTENT_TYPE)


def _may_scrape() -> bool:
    """With the bearer secret (SAMENOP_METRICS_TOKEN), or from loopback or an allowed network
    (SAMENOP_METRICS_ALLOW). The address is the client's as the trusted proxies give it
    (SAMENOP_TRUSTED_PROXIES); with none configured, a request that came through a proxy anyway
    (X-Forwarded-For) is not taken for a local one: nginx on the same machine connects from
    127.0.0.1 on behalf of anyone."""
    config = current_app.config
    token = config["METRICS_TOKEN"]
    if token:
        given = request.headers.get("Authorization", "")
        if given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip().encode(), token.encode()):
            return True
    if not config["TRUSTED_PROXIES"] and "X-Forwarded-For" in request.headers:
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or any(address in network for network in config["METRICS_ALLOW"])
