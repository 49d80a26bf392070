"""Feedback items going out, and an acknowledgement coming in."""

from __future__ import annotations

from marshmallow import fields, validate

from registry.meldingen.schemas import MeldingSchema
from registry.reports.schemas import ReportSchema
from registry.web.schemas import DutchSchema, PlainText, Text


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
    id = fields.UUID()
    performed_at = fields.AwareDateTime(format="iso")
    incident_ref = fields.String()
    query_kind = fields.String()
    organisation = fields.String()
    user = fields.String()


class FeedbackItemSchema(DutchSchema):
    kind = fields.String()
    plan_id = fields.UUID(allow_none=True)  # null: a melding without a handelingskader
    feedback_due = fields.Date()
    overdue = fields.Boolean()
    spoed = fields.Boolean()
    feedback_due_at = fields.AwareDateTime(format="iso", allow_none=True)
    report = fields.Nested(ReportSchema, allow_none=True)
    lookup = fields.Nested(LookupItemSchema, allow_none=True)
    # a report's melding with its shared record (the five core questions); null for a lookup
    melding = fields.Nested(MeldingSchema, allow_none=True)


class FeedbackListSchema(DutchSchema):
    items = fields.List(fields.Nested(FeedbackItemSchema))


class AcknowledgementSchema(DutchSchema):
    id = fields.UUID()
    acknowledged_at = fields.AwareDateTime(format="iso")
    note = fields.String()


class ProposalDecisionSchema(DutchSchema):
    """The decision just taken, as the deciding organisation reads it back."""

    report_id = fields.UUID()
    outcome = fields.String()
    version = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    organisation = fields.String()
    decided_at = fields.AwareDateTime(format="iso")
