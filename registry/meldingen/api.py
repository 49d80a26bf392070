"""The melding's shared record in the API: read it, and add to the five core questions (roles
responder and registrant, for the organisations of rules.melding_read_by)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, url_for

from registry.core.db import db
from registry.meldingen import operations
from registry.meldingen.schemas import AddAssessmentArgs, MeldingSchema
from registry.web.api import ApiError, api_user, parse, require_token
from registry.web.openapi import describe

bp = Blueprint("meldingen_api", __name__, url_prefix="/api/v1/meldingen")

_melding = MeldingSchema()
NOT_FOUND = "Deze melding bestaat niet of uw organisatie is er niet bij betrokken."


def _id(melding_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(melding_id)
    except ValueError:
        return None


@bp.get("/<melding_id>")
@describe(
    "A melding and its shared record: the five core questions, with what the registry knows",
    response=MeldingSchema,
    description="For the organisations that reported on the melding, the Veilig Thuis of their "
    "region and the organisations that see the plan it concerns; any other answers 404 "
    "(audited). Every read is audited.",
    operation_id="getMelding",
)
@require_token(*operations.ROLES)
def show(melding_id: str) -> dict[str, Any]:
    try:
        shown = operations.read_record(db.session, api_user(), _id(melding_id))
    except operations.NotFound:
        raise ApiError(404, "not_found", NOT_FOUND) from None
    return _melding.dump(shown)


@bp.post("/<melding_id>/assessment")
@describe(
    "Add to the five core questions of a melding (additions are appended, never edited)",
    body=AddAssessmentArgs,
    response=MeldingSchema,
    status=201,
    description="One addition per question answered; `corrects` names, per question, the "
    "earlier addition an answer corrects, which stays, marked as corrected.",
    operation_id="addAssessment",
)
@require_token(*operations.ROLES)
def add(melding_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    args = parse(AddAssessmentArgs())
    corrects = args.pop("corrects")
    user = api_user()
    parsed = _id(melding_id)
    try:
        operations.add(db.session, user, parsed, args, corrects)
        shown = operations.read_record(db.session, user, parsed)
    except operations.NotFound:
        raise ApiError(404, "not_found", NOT_FOUND) from None
    except operations.AdditionRefused as exc:
        raise ApiError(
            422, "invalid_input", "Een of meer velden zijn niet goed ingevuld.", exc.fields
        ) from None
    return _melding.dump(shown), 201, {"Location": url_for("meldingen_api.show", melding_id=parsed)}
