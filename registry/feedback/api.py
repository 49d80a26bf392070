"""Feedback for the plan's owners: open items, and acknowledging them."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, request
from marshmallow import ValidationError, fields

from registry.core import audit
from registry.core.db import db
from registry.core.vocabulary import FeedbackShown
from registry.feedback import operations, proposals
from registry.feedback.schemas import (
    AcceptProposalsArgs,
    AcknowledgeArgs,
    AcknowledgementSchema,
    DeclineProposalsArgs,
    FeedbackListSchema,
    FeedbackQueryArgs,
    ProposalDecisionSchema,
    query_args,
)
from registry.plans import operations as plans
from registry.web.api import ApiError, api_user, flatten_messages, parse, require_token
from registry.web.openapi import describe
from registry.web.schemas import Choice

bp = Blueprint("feedback_api", __name__, url_prefix="/api/v1/feedback")

_items = FeedbackListSchema()
_acknowledgement = AcknowledgementSchema()
_decision = ProposalDecisionSchema()


@bp.get("")
@describe(
    "Unacknowledged reports and lookups without report on the organisation's plans, a page at a time",
    response=FeedbackListSchema,
    query={
        "show": Choice(FeedbackShown),
        "plan": fields.String(),
        "due": fields.Date(),
        "cursor": fields.String(),
        "limit": fields.Integer(),
    },
    description=(
        "Spoedmeldingen first (the earliest deadline first), then the others, the newest first. "
        f"`limit` items per page ({operations.PAGE_SIZE} unless asked, at most {operations.MAX_PAGE}); "
        "`next_cursor` in the answer is the `cursor` of the next page, null on the last. A cursor "
        "is a position in that order, not an offset: items acknowledged meanwhile move nothing. "
        "`show`: `open` (everything, the default), `late` (past the terugkoppeldag or the spoed "
        "deadline) or `spoed`; `plan`: a plan's id, or `none` for the meldingen without a "
        "handelingskader; `due=YYYY-MM-DD`: only the items due that day."
    ),
    operation_id="listFeedback",
)
@require_token(operations.REGISTRANT)
def index() -> dict[str, Any]:
    try:
        args = FeedbackQueryArgs().load(query_args(request.args))
    except ValidationError as exc:
        raise ApiError(
            400, "invalid_input", "Ongeldige keuze van de terugkoppeling.", flatten_messages(exc.messages)
        ) from None
    user = api_user()
    with db.reading():
        page = operations.open_page(
            db.session, user.organisation_id, args["selection"], args["cursor"], args["limit"]
        )
        answer = _items.dump(
            {"items": operations.item_dicts(db.session, page.items), "next_cursor": page.next_cursor}
        )
    audit.record(
        db.session, "feedback_list", "success", user=user, role=operations.REGISTRANT, object_type="feedback",
        detail=operations.audit_detail(page.items),
    )  # fmt: skip
    return answer


@bp.post("/<item_id>/acknowledge")
@describe(
    "Acknowledge a feedback item (a report or a lookup without report)",
    body=AcknowledgeArgs,
    response=AcknowledgementSchema,
    operation_id="acknowledgeFeedback",
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


def _report_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _decided(decision: Any) -> dict[str, Any]:
    return _decision.dump(
        {
            "report_id": decision.report_id,
            "outcome": decision.outcome,
            "version": decision.version,
            "reason": decision.reason,
            "organisation": api_user().organisation.name,
            "decided_at": decision.decided_at,
        }
    )


@bp.post("/<report_id>/proposals/accept")
@describe(
    "Take the agreements and contacts a report proposes into a new version of the plan",
    body=AcceptProposalsArgs,
    response=ProposalDecisionSchema,
    description="For the organisations that own or share the report's plan. The proposals are "
    "added after the plan's own agreements and contacts; the plan's current version must be "
    "`version` (409 otherwise, and when the proposals were decided already).",
    operation_id="acceptProposals",
)
@require_token(operations.REGISTRANT)
def accept_proposals(report_id: str) -> dict[str, Any]:
    args = parse(AcceptProposalsArgs())
    user = api_user()
    try:
        found = proposals.pending(db.session, user, _report_id(report_id), "proposal_accept")
        try:
            plan_args = proposals.args_with_proposals(db.session, user, found, args["version"])
        except ValidationError as exc:
            raise ApiError(
                422,
                "invalid_input",
                "Met de voorgestelde afspraken is het handelingskader niet geldig; pas het eerst aan.",
                flatten_messages(exc.messages),
            ) from None
        _shown, decision = proposals.accept(db.session, user, found, plan_args, args["version"])
    except proposals.ProposalRefused as refused:
        raise ApiError(refused.status, refused.code, refused.message) from None
    except plans.VersionConflict as exc:
        raise ApiError(
            409,
            "version_conflict",
            f"Het handelingskader is intussen gewijzigd (versie {exc.current}). "
            "Haal het opnieuw op en neem de voorgestelde afspraken daarin over.",
            {"version": [f"De huidige versie is {exc.current}."]},
        ) from None
    return _decided(decision)


@bp.post("/<report_id>/proposals/decline")
@describe(
    "Decline the agreements and contacts a report proposes, with the reason",
    body=DeclineProposalsArgs,
    response=ProposalDecisionSchema,
    description="For the organisations that own or share the report's plan. The reason goes back "
    "to the organisation that reported (GET /reports/{id}), and to no other; decided twice: 409.",
    operation_id="declineProposals",
)
@require_token(operations.REGISTRANT)
def decline_proposals(report_id: str) -> dict[str, Any]:
    args = parse(DeclineProposalsArgs())
    try:
        decision = proposals.decline(db.session, api_user(), _report_id(report_id), args["reason"])
    except proposals.ProposalRefused as refused:
        raise ApiError(refused.status, refused.code, refused.message) from None
    return _decided(decision)
