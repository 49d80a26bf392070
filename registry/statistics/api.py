"""GET /api/v1/statistics for coordinators (their organisation's share) and the taakgroep
(role region_monitor: `?scope=region`, the whole region)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request
from marshmallow import fields

from registry.core import audit
from registry.core.db import db
from registry.core.vocabulary import Role, StatisticsScope
from registry.statistics import operations
from registry.statistics.period import PeriodError, parse_period
from registry.statistics.schemas import StatisticsSchema
from registry.statistics.scope import (
    ORGANISATION,
    ROLE_OF,
    ScopeError,
    ScopeRefused,
    parse_scope,
    resolve,
)
from registry.web.api import FORBIDDEN, ApiError, api_user, forbidden, require_token
from registry.web.openapi import describe
from registry.web.schemas import Choice

bp = Blueprint("statistics_api", __name__, url_prefix="/api/v1/statistics")
ROLES = (Role.COORDINATOR, Role.REGION_MONITOR)
_REGION_ONLY = "Uw rol geeft alleen de cijfers van de regio: vraag ze op met scope=region."

_statistics = StatisticsSchema()


@bp.get("")
@describe(
    "The monitoring tables of the organisation, or of its region",
    response=StatisticsSchema,
    # scope=region for an organisation in no region
    errors=(409,),
    query={
        "from": fields.Date(),
        "to": fields.Date(),
        "scope": Choice(StatisticsScope),
    },
    description=(
        "Inclusive dates; by default the last six months; at most three years. `scope`: "
        "`organisation` (the default, role coordinator) or `region` (the whole region of the "
        "user's organisation, role region_monitor)."
    ),
    operation_id="getStatistics",
)
@require_token(*ROLES)
def index() -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    try:
        period = parse_period(
            request.args.get("from"), request.args.get("to"), current_app.config["TIMEZONE"]
        )
    except PeriodError as exc:
        errors |= exc.fields
    try:
        kind = parse_scope(request.args.get("scope"), ORGANISATION)
    except ScopeError as exc:
        errors |= exc.fields
    if errors:
        message = "Ongeldige periode." if "scope" not in errors else "Ongeldige keuze van de cijfers (scope)."
        raise ApiError(400, "invalid_input", message, errors)
    user = api_user()
    try:
        scope = resolve(db.session, user, kind)
    except ScopeRefused as exc:
        # the taakgroep alone asked for an organisation's share: say what it may ask instead
        message = _REGION_ONLY if user.has_role(Role.REGION_MONITOR) else FORBIDDEN
        raise forbidden(user, (exc.role,), message, scope=exc.scope) from None
    except ScopeError as exc:
        raise ApiError(exc.status, exc.code, exc.message, exc.fields) from None
    figures = operations.figures(db.session, scope, period, current_app.config)
    audit.record(
        db.session, "statistics", "success", user=user, role=ROLE_OF[scope.kind],
        detail={"from": period.start.isoformat(), "to": period.end.isoformat(), **scope.detail()},
    )  # fmt: skip
    return _statistics.dump(figures)
