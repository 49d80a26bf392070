"""The Dutch monitoring page: period picker, tables, bar charts and CSV per table."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request

from registry.auth import web
from registry.core import audit
from registry.core.db import db
from registry.core.vocabulary import Role
from registry.statistics import charts, operations
from registry.statistics.period import PeriodError, parse_period
from registry.statistics.tables import Table, counted, period_label, tables, to_csv

bp = Blueprint("statistics", __name__, url_prefix="/monitoring")
ROLE = Role.COORDINATOR
# the chart is an image: its own inline styles only, nothing else
_SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def _figures() -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    try:
        period = parse_period(
            request.args.get("from"), request.args.get("to"), current_app.config["TIMEZONE"]
        )
    except PeriodError as exc:
        return None, exc.fields
    user = web.current()
    figures = operations.figures(db.session, user.organisation_id, period, current_app.config)
    audit.record(
        db.session, "statistics", "success", user=user, role=ROLE,
        detail={"from": period.start.isoformat(), "to": period.end.isoformat(), "view": request.endpoint},
    )  # fmt: skip
    return figures, {}


def _table(figures: dict[str, Any], key: str, chart: bool = False) -> Table:
    found = next((table for table in tables(figures) if table.key == key), None)
    if found is None or (chart and not found.chart):
        abort(404)
    return found


@bp.get("")
@web.role_required(ROLE)
def page() -> Any:
    figures, errors = _figures()
    return (
        render_template(
            "registry/statistics/page.html",
            figures=figures,
            tables=tables(figures) if figures else [],
            period=period_label(figures) if figures else "",
            counted=counted,
            errors=errors,
            raw_from=request.args.get("from", figures["from"].isoformat() if figures else ""),
            raw_to=request.args.get("to", figures["to"].isoformat() if figures else ""),
        ),
        400 if errors else 200,
    )


@bp.get("/<key>.csv")
@web.role_required(ROLE)
def csv_export(key: str) -> Response:
    figures, errors = _figures()
    if figures is None:
        abort(400)
    table = _table(figures, key)
    filename = f"samenop-{key}-{figures['from'].isoformat()}-{figures['to'].isoformat()}.csv"
    return Response(
        to_csv(table),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/<key>.svg")
@web.role_required(ROLE)
def chart(key: str) -> Response:
    figures, errors = _figures()
    if figures is None:
        abort(400)
    response = Response(charts.bar_chart(_table(figures, key, chart=True)), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = _SVG_CSP
    return response
