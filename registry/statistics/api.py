"""GET /api/v1/statistics for coordinators."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request
from marshmallow import fields

from registry.core import audit
from registry.core.db import db
from registry.core.vocabulary import Role
from registry.statistics import operations
from registry.statistics.period import PeriodError, parse_period
from registry.statistics.schemas import StatisticsSchema
from registry.web.api import ApiError, api_user, require_token
from registry.web.openapi import describe

bp = Blueprint("statistics_api", __name__, url_prefix="/api/v1/statistics")
ROLE = Role.COORDINATOR

_statistics = StatisticsSchema()


@bp.get("")
@describe(
    "The monitoring tables of the organisation",
    response=StatisticsSchema,
    query={"from": fields.Date(), "to": fields.Date()},
    description="Inclusive dates; by default the last six months; at most three years.",
)
@require_token(ROLE)
def index() -> dict[str, Any]:
    try:
        period = parse_period(
            request.args.get("from"), request.args.get("to"), current_app.config["TIMEZONE"]
        )
    except PeriodError as exc:
        raise ApiError(400, "invalid_input", "Ongeldige periode.", exc.fields) from None
    user = api_user()
    figures = operations.figures(db.session, user.organisation_id, period, current_app.config)
    audit.record(
        db.session, "statistics", "success", user=user, role=ROLE,
        detail={"from": period.start.isoformat(), "to": period.end.isoformat()},
    )  # fmt: skip
    return _statistics.dump(figures)
