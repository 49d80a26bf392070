"""Feedback items going out, and an acknowledgement coming in."""

from __future__ import annotations

from marshmallow import fields, validate

from registry.core.vocabulary import ProposalOutcome, QueryKind
from registry.meldingen.schemas import MeldingSchema
from registry.reports.schemas import ReportSchema
from registry.web.schemas import Choice, DutchSchema, PlainText, Text, next_cursor_field


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
