"""The coordinator's webhook endpoints of their own organisation: list, add, rotate the secret,
disable (each audited). The secret is in the answer that made it, and nowhere after."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from registry.core.db import db
from registry.core.models import WebhookEndpoint
from registry.web.api import ApiError, api_user, parse, require_token
from registry.web.openapi import describe
from registry.webhooks import operations
from registry.webhooks.schemas import WebhookArgs, WebhookListSchema, WebhookSchema, WebhookSecretSchema

bp = Blueprint("webhooks_api", __name__, url_prefix="/api/v1/webhooks")

_list = WebhookListSchema()
_endpoint = WebhookSchema()
_with_secret = WebhookSecretSchema()

NOT_FOUND = "Deze webhook bestaat niet of hoort niet bij uw organisatie."
EVENTS = (
    "Events: feedback.created, report.urgent, acknowledgement.created, plan.expiring. Each is a "
    "signed POST (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature) of ids and a "
    "link only; docs/api.md, Webhooks."
)


def _own(endpoint_id: str) -> WebhookEndpoint:
    try:
        return operations.get_endpoint(db.session, int(endpoint_id), api_user().organisation_id)
    except (ValueError, operations.NotFound):
        raise ApiError(404, "not_found", NOT_FOUND) from None


def _refused(exc: operations.WebhookError) -> ApiError:
    return ApiError(
        422, "invalid_input", "Een of meer velden zijn niet goed ingevuld.", {exc.field: [exc.message]}
    )


@bp.get("")
@describe(
    "The webhook endpoints of the caller's organisation",
    response=WebhookListSchema,
    operation_id="listWebhooks",
)
@require_token(operations.ROLE)
def index() -> dict[str, Any]:
    user = api_user()
    endpoints = operations.endpoints_of(db.session, user.organisation_id, user.username, user)
    return _list.dump({"items": endpoints})


@bp.post("")
@describe(
    "Add a webhook endpoint; the answer holds its signing secret, shown this once",
    body=WebhookArgs,
    response=WebhookSecretSchema,
    status=201,
    description=EVENTS + " In production the URL must be https://.",
    operation_id="createWebhook",
)
@require_token(operations.ROLE)
def create() -> tuple[dict[str, Any], int, dict[str, str]]:
    args = parse(WebhookArgs())
    user = api_user()
    try:
        endpoint, secret = operations.add_endpoint(
            db.session, user.organisation, args["url"], args["events"], user.username, user
        )
    except operations.WebhookError as exc:
        raise _refused(exc) from None
    answer = _with_secret.dump(endpoint) | {"secret": secret}
    return answer, 201, {"Location": f"{bp.url_prefix}/{endpoint.id}"}


@bp.post("/<endpoint_id>/rotate-secret")
@describe(
    "A new signing secret, shown this once; the previous one signs beside it for 24 hours",
    response=WebhookSecretSchema,
    errors=(409,),
    operation_id="rotateWebhookSecret",
)
@require_token(operations.ROLE)
def rotate_secret(endpoint_id: str) -> dict[str, Any]:
    endpoint = _own(endpoint_id)
    user = api_user()
    try:
        secret = operations.rotate_secret(db.session, endpoint, user.username, user)
    except operations.WebhookError as exc:
        raise ApiError(409, "disabled", exc.message) from None
    return dict(_with_secret.dump(endpoint) | {"secret": secret})


@bp.post("/<endpoint_id>/disable")
@describe(
    "Stop posting to an endpoint; what still waits for it is given up",
    response=WebhookSchema,
    operation_id="disableWebhook",
)
@require_token(operations.ROLE)
def disable(endpoint_id: str) -> dict[str, Any]:
    endpoint = _own(endpoint_id)
    user = api_user()
    operations.disable(db.session, endpoint, user.username, user)
    return dict(_endpoint.dump(endpoint))
