"""The Dutch monitoring page: period picker, scope (own organisation or region), tables, bar
charts and CSV per table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request

from registry.auth import web
from registry.core import audit
from registry.core.db import db
from registry.core.vocabulary import Role
from registry.statistics import charts, operations, scope
from registry.statistics.period import PeriodError, parse_period
from registry.statistics.tables import Table, period_label, tables, to_csv

bp = Blueprint("statistics", __name__, url_prefix="/monitoring")
# a coordinator sees the organisation's share, the taakgroep the region's whole (scope.ROLE_OF)
ROLES = (Role.COORDINATOR, Role.REGION_MONITOR)
# the chart is an image: its own inline styles only, nothing else
_SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


@dataclass
class Read:
    """One read of the figures: them, or why not (errors by field, and the answer's status)."""

    figures: dict[str, Any] | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    status: int = 200
    scope: str = ""


def _figures() -> Read:
    user = web.current()
    errors: dict[str, list[str]] = {}
    try:
        period = parse_period(
            request.args.get("from"), request.args.get("to"), current_app.config["TIMEZONE"]
        )
    except PeriodError as exc:
        errors |= exc.fields
    # the default: the coordinator's organisation; the region for the taakgroep alone
    try:
        kind = scope.parse_scope(request.args.get("scope"), scope.offered(user)[0])
    except scope.ScopeError as exc:
        errors |= exc.fields
    if errors:
        return Read(errors=errors, status=400, scope=request.args.get("scope", ""))
    try:
        resolved = scope.resolve(db.session, user, kind)
    except scope.ScopeRefused as exc:
        web.refuse((exc.role,), scope=exc.scope)
    except scope.ScopeError as exc:
        return Read(errors=exc.fields, status=exc.status, scope=kind)
    figures = operations.figures(db.session, resolved, period, current_app.config)
    audit.record(
        db.session, "statistics", "success", user=user, role=scope.ROLE_OF[kind],
        detail={
            "from": period.start.isoformat(), "to": period.end.isoformat(), "view": request.endpoint,
            **resolved.detail(),
        },
    )  # fmt: skip
    return Read(figures=figures, scope=kind)


def _table(figures: dict[str, Any], key: str, chart: bool = False) -> Table:
    found = next((table for table in tables(figures) if table.key == key), None)
    if found is None or (chart and not found.chart):
        abort(404)
    return found


@bp.get("")
@web.role_required(*ROLES)
def page() -> Any:
    read = _figures()
    figures = read.figures
    user = web.current()
    return (
        render_template(
            "registry/statistics/page.html",
            figures=figures,
            tables=tables(figures) if figures else [],
            period=period_label(figures) if figures else "",
            whose=f"Regio {figures['region']}" if figures and figures["region"] else user.organisation.name,
            errors=read.errors,
            scopes=scope.choices(user),
            scope=read.scope,
            raw_from=request.args.get("from", figures["from"].isoformat() if figures else ""),
            raw_to=request.args.get("to", figures["to"].isoformat() if figures else ""),
        ),
        read.status,
    )


@bp.get("/<key>.csv")
@web.role_required(*ROLES)
def csv_export(key: str) -> Response:
    read = _figures()
    figures = read.figures or abort(read.status)
    table = _table(figures, key)
    # the region's name stays out of the header: it may hold any character
    region = "-regio" if figures["scope"] == scope.REGION else ""
    filename = f"samenop-{key}{region}-{figures['from'].isoformat()}-{figures['to'].isoformat()}.csv"
    return Response(
        to_csv(table),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/<key>.svg")
@web.role_required(*ROLES)
def chart(key: str) -> Response:
    read = _figures()
    figures = read.figures or abort(read.status)
    response = Response(charts.bar_chart(_table(figures, key, chart=True)), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = _SVG_CSP
    return response
