"""The plans API of the contract (role registrant; owning and sharing organisations only)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, request
from sqlalchemy import select

from registry import audit
from registry.api import ApiError, api_user, parse, require_token
from registry.db import db
from registry.models import Organisation, Plan
from registry.plans import operations
from registry.plans.schemas import PlanArgs, PlanSchema, PlanUpdateArgs, ShareArgs, WithdrawArgs

bp = Blueprint("plans_api", __name__, url_prefix="/api/v1/plans")

_plan = PlanSchema()


def _dump(shown: operations.PlanView, with_warnings: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = _plan.dump(shown.as_dict())
    if with_warnings:
        body["warnings"] = [{"field": w.field, "code": w.code, "message": w.message} for w in shown.warnings]
    return body


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "Dit handelingskader bestaat niet of u heeft er geen toegang toe.")


def _visible(plan_id: str, action: str) -> Plan:
    """The plan if the user's organisation owns it or it is shared with them; else 404, logged."""
    user = api_user()
    try:
        parsed = uuid.UUID(plan_id)
    except ValueError:
        raise _not_found() from None
    plan = operations.get_visible(db.session, user, parsed)
    if plan is None:
        operations.record_refused(db.session, user, action, parsed)
        db.commit()
        raise _not_found()
    return plan


@bp.post("")
@require_token(operations.ROLE)
def create() -> tuple[dict[str, Any], int]:
    args = parse(PlanArgs())
    shown = operations.create_plan(db.session, api_user(), args)
    db.commit()
    return _dump(shown, with_warnings=True), 201


@bp.get("")
@require_token(operations.ROLE)
def index() -> dict[str, Any]:
    status = request.args.get("status")
    if status is not None and status not in ("active", "withdrawn", "expired"):
        raise ApiError(
            400,
            "invalid_input",
            "Onbekende status.",
            {"status": ["Kies active, withdrawn of expired."]},
        )
    user = api_user()
    plans = db.session.scalars(operations.visible_plans(user, status)).all()
    items = [_dump(operations.view(db.session, plan)) for plan in plans]
    audit.record(
        db.session, "plan_list", "success", user=user, role=operations.ROLE, object_type="plan",
        detail={"plans": [str(plan.id) for plan in plans]},
    )  # fmt: skip
    db.commit()
    return {"items": items}


@bp.get("/<plan_id>")
@require_token(operations.ROLE)
def show(plan_id: str) -> dict[str, Any]:
    plan = _visible(plan_id, "plan_read")
    shown = operations.read_plan(db.session, api_user(), plan)
    db.commit()
    return _dump(shown)


@bp.put("/<plan_id>")
@require_token(operations.ROLE)
def replace(plan_id: str) -> dict[str, Any]:
    plan = _visible(plan_id, "plan_update")
    args = parse(PlanUpdateArgs())
    expected = args.pop("version")
    try:
        shown = operations.update_plan(db.session, api_user(), plan, args, expected)
    except operations.VersionConflict as exc:
        db.commit()  # keeps the audit row of the refused write
        raise ApiError(
            409,
            "version_conflict",
            f"Iemand anders heeft dit handelingskader intussen gewijzigd (nu versie {exc.current}). "
            "Haal de nieuwe versie op en breng uw wijziging opnieuw aan.",
            {"version": [f"De huidige versie is {exc.current}."]},
        ) from None
    except operations.NotEditable:
        raise ApiError(
            409, "withdrawn", "Een ingetrokken handelingskader kan niet meer worden gewijzigd."
        ) from None
    db.commit()
    return _dump(shown, with_warnings=True)


@bp.post("/<plan_id>/withdraw")
@require_token(operations.ROLE)
def withdraw(plan_id: str) -> dict[str, Any]:
    plan = _visible(plan_id, "plan_withdraw")
    args = parse(WithdrawArgs())
    shown = operations.withdraw_plan(db.session, api_user(), plan, args["reason"])
    db.commit()
    return _dump(shown)


@bp.get("/<plan_id>/shares")
@require_token(operations.ROLE)
def shares(plan_id: str) -> dict[str, Any]:
    plan = _visible(plan_id, "plan_shares")
    return {"items": [{"organisation": share.organisation.name} for share in plan.shares]}


@bp.post("/<plan_id>/shares")
@require_token(operations.ROLE)
def share(plan_id: str) -> tuple[dict[str, Any], int]:
    plan = _visible(plan_id, "plan_share")
    args = parse(ShareArgs())
    organisation = db.session.scalars(
        select(Organisation).where(Organisation.name == args["organisation"])
    ).first()
    if organisation is None:
        raise ApiError(
            422,
            "invalid_input",
            "Onbekende organisatie.",
            {"organisation": ["Deze organisatie bestaat niet."]},
        )
    operations.share_plan(db.session, api_user(), plan, organisation)
    db.commit()
    return {"items": [{"organisation": s.organisation.name} for s in plan.shares]}, 201


# `path:` because organisation names may hold a slash ("Wijkteam Noord/Oost")
@bp.delete("/<plan_id>/shares/<path:organisation_name>")
@require_token(operations.ROLE)
def unshare(plan_id: str, organisation_name: str) -> tuple[str, int]:
    plan = _visible(plan_id, "plan_unshare")
    # no name holds NUL, and PostgreSQL refuses it in a query (a 500 instead of a 404)
    organisation = (
        None
        if "\x00" in organisation_name
        else db.session.scalars(select(Organisation).where(Organisation.name == organisation_name)).first()
    )
    if organisation is None or all(s.organisation_id != organisation.id for s in plan.shares):
        raise ApiError(404, "not_found", "Dit handelingskader is niet gedeeld met die organisatie.")
    operations.unshare_plan(db.session, api_user(), plan, organisation.id)
    db.commit()
    return "", 204
