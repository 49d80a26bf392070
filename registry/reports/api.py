"""The reports API: what was done (role responder; the organisation that reported)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, request, url_for

from registry.core.db import db
from registry.core.vocabulary import Role
from registry.reports import operations
from registry.reports.schemas import AmendmentArgs, OwnReportSchema, ReportArgs
from registry.web.api import ApiError, api_user, json_body, parse, require_token
from registry.web.openapi import describe
from registry.web.schemas import Choice, Text

bp = Blueprint("reports_api", __name__, url_prefix="/api/v1")


# every answer here goes to the organisation that recorded the report: with the owners' answers
_report = OwnReportSchema()


@bp.post("/reports")
@describe(
    "Record what was done",
    body=ReportArgs,
    response=OwnReportSchema,
    status=201,
    headers={"Idempotency-Key": Text(max_length=128)},
    response_headers={"Idempotent-Replayed": Choice(("true",))},
    description="A retry with the same Idempotency-Key answers the first result "
    "(Idempotent-Replayed: true); the same key with another body answers 422.",
    operation_id="createReport",
)
@require_token(Role.RESPONDER)
def create_report() -> tuple[dict[str, Any], int, dict[str, str]]:
    body = json_body()
    args = parse(ReportArgs(), body)
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key is not None and len(key) > 128:
        raise ApiError(
            400,
            "invalid_input",
            "Idempotency-Key is te lang.",
            {"Idempotency-Key": ["Hoogstens 128 tekens."]},
        )
    try:
        report, replayed = operations.create_report(
            db.session, api_user(), args, key, operations.fingerprint(body)
        )
    except operations.IdempotencyConflict:
        raise ApiError(
            422,
            "idempotency_key_reused",
            "Deze Idempotency-Key is al gebruikt voor een andere inzet.",
            {"Idempotency-Key": ["Gebruik een nieuwe sleutel voor een nieuwe inzet."]},
        ) from None
    except operations.ReportRefused as exc:
        raise ApiError(
            422, "invalid_input", "Een of meer velden zijn niet goed ingevuld.", exc.fields
        ) from None
    headers = {"Location": url_for("reports_api.show_report", report_id=report.id)}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return _report.dump(operations.own_report_record(db.session, report)), 201, headers


@bp.get("/reports/<report_id>")
@describe(
    "A report the user's organisation recorded, with the answers of the organisations that heard of it",
    response=OwnReportSchema,
    operation_id="getReport",
)
@require_token(Role.RESPONDER)
def show_report(report_id: str) -> dict[str, Any]:
    report = _own_report(report_id, "report_read")
    return _report.dump(operations.own_report_record(db.session, report))


@bp.post("/reports/<report_id>/amendments")
@describe(
    "Append a note to a report (reports are never edited)",
    body=AmendmentArgs,
    response=OwnReportSchema,
    status=201,
    operation_id="amendReport",
)
@require_token(Role.RESPONDER)
def amend_report(report_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    report = _own_report(report_id, "report_amend")
    args = parse(AmendmentArgs())
    operations.amend(db.session, api_user(), report, args["note"])
    location = url_for("reports_api.show_report", report_id=report.id)
    return _report.dump(operations.own_report_record(db.session, report)), 201, {"Location": location}


def _own_report(report_id: str, action: str) -> Any:
    try:
        parsed: uuid.UUID | None = uuid.UUID(report_id)
    except ValueError:
        parsed = None
    report = operations.read_report(db.session, api_user(), parsed, action)
    if report is None:
        raise ApiError(
            404, "not_found", "Deze inzet bestaat niet of is niet door uw organisatie geregistreerd."
        )
    return report
