"""Feedback items going out, and an acknowledgement coming in."""

from __future__ import annotations

import uuid
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate

from registry.core.vocabulary import FeedbackShown, ProposalOutcome, QueryKind
from registry.feedback.operations import MAX_PAGE, PAGE_SIZE, Cursor, CursorError, Selection
from registry.meldingen.schemas import MeldingSchema
from registry.reports.schemas import ReportSchema
from registry.web.schemas import Choice, DutchSchema, PlainText, Text, next_cursor_field

#: ?plan= for the meldingen without a handelingskader (a Veilig Thuis hears of them)
WITHOUT_PLAN = "none"


class PlanFilter(fields.Field):
    """?plan=: a plan's id, or `none` for the meldingen without a handelingskader."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> uuid.UUID | str:
        if value == WITHOUT_PLAN:
            return WITHOUT_PLAN
        try:
            return uuid.UUID(str(value))
        except ValueError:
            raise ValidationError("Kies een handelingskader uit de lijst.") from None


class CursorField(fields.Field):
    """?cursor=: where the previous page ended, as the previous answer gave it (next_cursor)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Cursor:
        try:
            return Cursor.decode(str(value))
        except CursorError:
            raise ValidationError("Gebruik de volgende-paginalink (next_cursor) zoals u die kreeg.") from None


class InboxArgs(DutchSchema):
    """Which page of Terugkoppeling: `show` (open, late, spoed), `plan`, `cursor`. Ids and codes
    only: no name ever travels in the URL."""

    show = Choice(FeedbackShown, load_default=FeedbackShown.OPEN.value)
    plan = PlanFilter(load_default=None)
    cursor = CursorField(load_default=None)

    @post_load
    def _selection(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        plan = data.get("plan")
        data["selection"] = Selection(
            show=data["show"],
            plan_id=plan if isinstance(plan, uuid.UUID) else None,
            without_plan=plan == WITHOUT_PLAN,
            due=data.get("due"),
        )
        return data


class FeedbackQueryArgs(InboxArgs):
    """GET /feedback: a page of `limit` items (next_cursor in the answer), of one day (`due`)."""

    limit = fields.Integer(
        load_default=PAGE_SIZE,
        validate=validate.Range(1, MAX_PAGE, error=f"Kies een aantal van 1 tot en met {MAX_PAGE}."),
    )
    due = fields.Date(load_default=None)


class PositionArgs(InboxArgs):
    """Where the inbox was when a form on it was sent (hidden fields), to return there: the same
    selection and page, at the item that followed (`next`)."""

    next = fields.UUID(load_default=None)


def query_args(args: Any) -> dict[str, str]:
    """The query's parameters, one value each; an empty one (the choice "all plans") is left out."""
    return {key: value for key, value in args.items() if value != ""}


class AcknowledgeArgs(DutchSchema):
    note = Text(load_default="", max_length=4000)


class AcceptProposalsArgs(DutchSchema):
    """Take a report's proposals into the plan as they are: the version of the plan the owner
    read (compare-and-set, as PUT /plans/{id}); a stale one answers 409."""

    version = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(
            1, 2**31 - 2, error="Geef het versienummer van het handelingskader dat u ophaalde."
        ),
    )


class DeclineProposalsArgs(DutchSchema):
    """Not take them: why, for the organisation that proposed them."""

    reason = PlainText(required=True, min_length=1, max_length=2000, multiline=True)


# --- output -----------------------------------------------------------------------------------


class LookupItemSchema(DutchSchema):
    """A lookup that showed one of the organisation's plans and got no report within 12 hours."""

    id = fields.UUID(metadata={"description": "the lookup's id: acknowledge the item with it"})
    performed_at = fields.AwareDateTime(format="iso", metadata={"description": "when"})
    incident_ref = fields.String(metadata={"description": "the meldingnummer it was done for"})
    query_kind = Choice(QueryKind, metadata={"description": "what was searched on"})
    organisation = fields.String(metadata={"description": "the organisation that looked up"})
    user = fields.String(metadata={"description": "the name of the user who looked up"})


class FeedbackItemSchema(DutchSchema):
    """One open item of the inbox: a report, or a lookup without report, not acknowledged yet by
    the organisation."""

    kind = Choice(
        ("report", "lookup_without_report"),
        component="FeedbackKind",
        metadata={"description": "report: `report` is filled; lookup_without_report: `lookup` is"},
    )
    plan_id = fields.UUID(
        allow_none=True, metadata={"description": "the plan; null: a melding without a handelingskader"}
    )
    feedback_due = fields.Date(metadata={"description": "the working day it is due"})
    overdue = fields.Boolean(metadata={"description": "not acknowledged by the end of its due day"})
    spoed = fields.Boolean(metadata={"description": "a spoedmelding: due at feedback_due_at"})
    feedback_due_at = fields.AwareDateTime(
        format="iso",
        allow_none=True,
        metadata={"description": "a spoedmelding's deadline; null for any other item"},
    )
    report = fields.Nested(
        ReportSchema, allow_none=True, metadata={"description": "the report; null for a lookup"}
    )
    lookup = fields.Nested(
        LookupItemSchema, allow_none=True, metadata={"description": "the lookup; null for a report"}
    )
    # a report's melding with its shared record (the five core questions); null for a lookup
    melding = fields.Nested(
        MeldingSchema,
        allow_none=True,
        metadata={"description": "the report's melding with its shared record; null for a lookup"},
    )


class FeedbackListSchema(DutchSchema):
    items = fields.List(fields.Nested(FeedbackItemSchema))
    next_cursor = next_cursor_field()


class AcknowledgementSchema(DutchSchema):
    id = fields.UUID(metadata={"description": "the report or lookup acknowledged"})
    acknowledged_at = fields.AwareDateTime(
        format="iso", metadata={"description": "when (the first acknowledgement, when sent twice)"}
    )
    note = fields.String(metadata={"description": "what the organisation picks up; empty when none"})


class ProposalDecisionSchema(DutchSchema):
    """The decision just taken, as the deciding organisation reads it back."""

    report_id = fields.UUID()
    outcome = Choice(ProposalOutcome)
    version = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    organisation = fields.String()
    decided_at = fields.AwareDateTime(format="iso")
