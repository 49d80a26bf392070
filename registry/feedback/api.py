"""Feedback for the plan's owners: open items, and acknowledging them."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import Blueprint, request
from marshmallow import fields

from registry.core import audit
from registry.core.db import db
from registry.feedback import operations
from registry.feedback.schemas import AcknowledgeArgs, AcknowledgementSchema, FeedbackListSchema
from registry.web.api import ApiError, api_user, parse, require_token
from registry.web.openapi import describe

bp = Blueprint("feedback_api", __name__, url_prefix="/api/v1/feedback")

_items = FeedbackListSchema()
_acknowledgement = AcknowledgementSchema()


@bp.get("")
@describe(
    "Unacknowledged reports and lookups without report on the organisation's plans",
    response=FeedbackListSchema,
    query={"due": fields.Date()},
    description="With ?due=YYYY-MM-DD only the items due that day.",
)
@require_token(operations.REGISTRANT)
def index() -> dict[str, Any]:
    due = None
    if "due" in request.args:
        try:
            due = date.fromisoformat(request.args["due"])
        except ValueError:
            raise ApiError(
                400, "invalid_input", "Ongeldige datum.", {"due": ["Gebruik JJJJ-MM-DD."]}
            ) from None
    user = api_user()
    items = operations.open_items(db.session, user.organisation_id, due=due)
    audit.record(
        db.session, "feedback_list", "success", user=user, role=operations.REGISTRANT, object_type="feedback",
        detail=operations.audit_detail(items),
    )  # fmt: skip
    return _items.dump({"items": operations.item_dicts(db.session, items)})


@bp.post("/<item_id>/acknowledge")
@describe(
    "Acknowledge a feedback item (a report or a lookup without report)",
    body=AcknowledgeArgs,
    response=AcknowledgementSchema,
)
@require_token(operations.REGISTRANT)
def acknowledge(item_id: str) -> dict[str, Any]:
    args = parse(AcknowledgeArgs())
    try:
        parsed = uuid.UUID(item_id)
        ack = operations.acknowledge(db.session, api_user(), parsed, args["note"])
    except (ValueError, operations.NotFound):
        raise ApiError(
            404, "not_found", "Deze terugkoppeling bestaat niet of hoort niet bij uw organisatie."
        ) from None
    return _acknowledgement.dump({"id": parsed, "acknowledged_at": ack.acknowledged_at, "note": ack.note})
