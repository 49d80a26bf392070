"""The token endpoints of the API: two factors in, a short-lived bearer token out."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from flask import Blueprint, current_app, url_for
from marshmallow import Schema, fields, validate

from registry.auth import accounts
from registry.core import audit
from registry.core.db import db
from registry.web.api import ApiError, api_caller, api_user, parse, require_token
from registry.web.openapi import describe
from registry.web.ratelimit import token_limit
from registry.web.schemas import Choice, refuse_unstorable

bp = Blueprint("auth_api", __name__, url_prefix="/api/v1/auth")


class TokenArgs(Schema):
    # refuse_unstorable: the name goes into a query, and PostgreSQL refuses NUL (a 500, not a 422)
    username = fields.String(required=True, validate=[validate.Length(min=1, max=64), refuse_unstorable])
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    otp = fields.String(required=True, validate=validate.Length(min=1, max=32))


class TokenSchema(Schema):
    access_token = fields.String(
        metadata={"description": "Send it as `Authorization: Bearer <access_token>`; opaque, keep it secret."}
    )
    token_type = Choice(("Bearer",), metadata={"description": "Always Bearer."})
    expires_at = fields.AwareDateTime(
        format="iso",
        metadata={
            "description": "The token ends at this moment, however much it is used (12 hours after issue)."
        },
    )
    idle_timeout_seconds = fields.Integer(
        metadata={
            "description": "The token also ends after this many seconds without a request (1800: 30 "
            "minutes); each request starts the count again. Whichever limit comes first ends it."
        }
    )


@bp.post("/token")
@describe(
    "Sign in with password and authenticator code: a short-lived bearer token",
    body=TokenArgs,
    response=TokenSchema,
    status=201,
    errors=(401, 423, 429),
    description="Any wrong factor answers 401 invalid_credentials; a code is accepted once.",
    operation_id="createToken",
)
@token_limit
def create_token() -> tuple[dict[str, Any], int, dict[str, str]]:
    args = parse(TokenArgs())
    try:
        user = accounts.authenticate(db.session, args["username"], args["password"], args["otp"], "api")
    except accounts.LoginLocked as locked:
        wait = {"Retry-After": str(locked.retry_after)} if locked.retry_after else None
        raise ApiError(423, "locked", locked.message, headers=wait) from None
    except accounts.LoginFailed:
        raise ApiError(401, "invalid_credentials", "Gebruikersnaam, wachtwoord of code klopt niet.") from None
    raw, token = accounts.issue_api_token(db.session, user)
    body = {
        "access_token": raw,
        "token_type": "Bearer",
        "expires_at": token.expires_at.astimezone(UTC),
        "idle_timeout_seconds": current_app.config["TOKEN_IDLE_MINUTES"] * 60,
    }
    # the token's resource: DELETE there revokes it
    return TokenSchema().dump(body), 201, {"Location": url_for("auth_api.revoke_token")}


@bp.delete("/token")
@describe("Revoke the token this request carries", response=None, status=204, operation_id="revokeToken")
@require_token()
def revoke_token() -> tuple[str, int]:
    user = api_user()
    accounts.revoke_api_token(db.session, api_caller().token_id)
    audit.record(db.session, "logout", "success", user=user, detail={"channel": "api"})
    return "", 204
