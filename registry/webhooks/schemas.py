"""A webhook endpoint going out (its secret only in the answer that made it), and the URL and
events coming in."""

from __future__ import annotations

from marshmallow import fields, validate

from registry.core.vocabulary import WebhookEvent
from registry.web.schemas import Choice, DutchSchema, Text


class WebhookArgs(DutchSchema):
    url = Text(required=True, max_length=2048)
    events = fields.List(
        Choice(WebhookEvent),
        required=True,
        validate=validate.Length(min=1, error="Kies ten minste één gebeurtenis."),
    )


# --- output -----------------------------------------------------------------------------------


class WebhookSchema(DutchSchema):
    id = fields.Integer()
    url = fields.String()
    events = fields.List(Choice(WebhookEvent))
    is_active = fields.Boolean()
    created_at = fields.AwareDateTime(format="iso")
    created_by = fields.String()
    secret_rotated_at = fields.AwareDateTime(format="iso", allow_none=True)
    disabled_at = fields.AwareDateTime(format="iso", allow_none=True)


class WebhookSecretSchema(WebhookSchema):
    """The endpoint with its signing secret (whsec_...): only in the answer that made the secret."""

    secret = fields.String()


class WebhookListSchema(DutchSchema):
    items = fields.List(fields.Nested(WebhookSchema))
