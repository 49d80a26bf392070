"""POST /api/v1/lookups for responders, and the access log of a plan for its owners."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint

from lookup import operations
from lookup.schemas import AccessLogEntrySchema, LookupArgs, LookupResponseSchema
from registry import audit
from registry.api import ApiError, api_user, parse, require_token
from registry.db import db
from registry.plans import operations as plans

bp = Blueprint("lookup_api", __name__, url_prefix="/api/v1")

_response = LookupResponseSchema()
_access_log = AccessLogEntrySchema(many=True)


def dump_outcome(outcome: operations.Outcome) -> dict[str, Any]:
    return _response.dump(
        {
            "lookup_id": outcome.lookup.id,
            "performed_at": outcome.lookup.performed_at,
            "matches": [
                {
                    "plan": shown.as_dict(),
                    "match": {"on": match.on, "quality": match.quality, "score": match.score},
                }
                for shown, match in outcome.matches
            ],
        }
    )


@bp.post("/lookups")
@require_token(operations.ROLE)
def lookup() -> dict[str, Any]:
    args = parse(LookupArgs())
    outcome = operations.perform(db.session, api_user(), args["incident_ref"], LookupArgs.kind(args), args)
    db.commit()
    return dump_outcome(outcome)


@bp.get("/plans/<plan_id>/access-log")
@require_token(plans.ROLE)
def access_log(plan_id: str) -> dict[str, Any]:
    user = api_user()
    try:
        parsed = uuid.UUID(plan_id)
    except ValueError:
        raise ApiError(
            404, "not_found", "Dit handelingskader bestaat niet of u heeft er geen toegang toe."
        ) from None
    plan = plans.get_visible(db.session, user, parsed)
    if plan is None:
        plans.record_refused(db.session, user, "plan_access_log", parsed)
        db.commit()
        raise ApiError(404, "not_found", "Dit handelingskader bestaat niet of u heeft er geen toegang toe.")
    items = operations.access_log(db.session, plan.id)
    audit.record(
        db.session,
        "plan_access_log",
        "success",
        user=user,
        role=plans.ROLE,
        object_type="plan",
        object_id=plan.id,
    )
    db.commit()
    return {"items": _access_log.dump(items)}
