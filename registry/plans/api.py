"""The plans API of the contract (role registrant; owning and sharing organisations only)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, request, url_for

from registry.core import audit
from registry.core.db import db
from registry.core.models import Plan
from registry.core.vocabulary import PlanStatus
from registry.plans import operations
from registry.plans.schemas import (
    PlanArgs,
    PlanListSchema,
    PlanSchema,
    PlanUpdateArgs,
    ShareArgs,
    ShareListSchema,
    WithdrawArgs,
    WrittenPlanSchema,
)
from registry.web import pagination
from registry.web.api import ApiError, api_user, parse, require_token
from registry.web.openapi import describe
from registry.web.schemas import Choice

bp = Blueprint("plans_api", __name__, url_prefix="/api/v1/plans")

_plan = PlanSchema()
_written = WrittenPlanSchema()
_plans = PlanListSchema()
_shares = ShareListSchema()


def _dump(shown: operations.PlanView, with_warnings: bool = False) -> dict[str, Any]:
    if not with_warnings:
        return _plan.dump(shown.as_dict())
    return _written.dump({**shown.as_dict(), "warnings": shown.warnings})


def _dump_shares(plan: Plan) -> dict[str, Any]:
    names = [share.organisation.name for share in plan.shares]
    page = pagination.paginate(names, lambda name: (name,))
    return _shares.dump(
        {"items": [{"organisation": name} for name in page.items], "next_cursor": page.next_cursor}
    )


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
        raise _not_found()
    return plan


def _owner_only(plan: Plan, action: str) -> None:
    """403 for an organisation the plan is shared with: sharing is the owner's (logged)."""
    try:
        operations.require_owner(db.session, api_user(), plan, action)
    except operations.NotOwner as exc:
        raise ApiError(403, "forbidden", str(exc)) from None


@bp.post("")
@describe("Create a plan", body=PlanArgs, response=WrittenPlanSchema, status=201, operation_id="createPlan")
@require_token(operations.ROLE)
def create() -> tuple[dict[str, Any], int, dict[str, str]]:
    args = parse(PlanArgs())
    shown = operations.create_plan(db.session, api_user(), args)
    body = _dump(shown, with_warnings=True)
    return body, 201, {"Location": url_for("plans_api.show", plan_id=body["id"])}


@bp.get("")
@describe(
    "The plans of the user's organisation and those shared with it",
    response=PlanListSchema,
    query={"status": Choice(PlanStatus), **pagination.QUERY},
    description="The earliest valid_until first.",
    operation_id="listPlans",
)
@require_token(operations.ROLE)
def index() -> dict[str, Any]:
    status = request.args.get("status")
    if status is not None and status not in PlanStatus.codes():
        raise ApiError(
            400,
            "invalid_input",
            "Onbekende status.",
            {"status": ["Kies active, withdrawn of expired."]},
        )
    user = api_user()
    page = pagination.paginate(
        db.session.scalars(operations.visible_plans(user, status)).all(),
        lambda plan: (pagination.key_part(plan.valid_until), str(plan.id)),
    )
    plans = page.items
    items = [operations.view(db.session, plan).as_dict() for plan in plans]
    audit.record(
        db.session, "plan_list", "success", user=user, role=operations.ROLE, object_type="plan",
        detail={"plans": [str(plan.id) for plan in plans]},
    )  # fmt: skip
    return _plans.dump({"items": items, "next_cursor": page.next_cursor})


@bp.get("/<plan_id>")
@describe("One plan, its current version", response=PlanSchema, operation_id="getPlan")
@require_token(operations.ROLE)
def show(plan_id: str) -> dict[str, Any]:
    plan = _visible(plan_id, "plan_read")
    shown = operations.read_plan(db.session, api_user(), plan)
    return _dump(shown)


@bp.put("/<plan_id>")
@describe(
    "A new version of the plan",
    body=PlanUpdateArgs,
    response=WrittenPlanSchema,
    errors=(409,),
    description="Send the version you read; a stale one answers 409, as does a withdrawn plan.",
    operation_id="replacePlan",
)
@require_token(operations.ROLE)
def replace(plan_id: str) -> dict[str, Any]:
    plan = _visible(plan_id, "plan_update")
    args = parse(PlanUpdateArgs())
    expected = args.pop("version")
    try:
        shown = operations.update_plan(db.session, api_user(), plan, args, expected)
    except operations.VersionConflict as exc:
        raise ApiError(
            409,
            "version_conflict",
            f"Iemand anders heeft dit handelingskader intussen gewijzigd (nu versie {exc.current}). "
            "Haal de nieuwe versie op en breng uw wijziging opnieuw aan.",
            {"version": [f"De huidige versie is {exc.current}."]},
        ) from None
    except operations.NotEditable:
        if plan.purged_at is not None:
            raise ApiError(
                409, "purged", "De gegevens van dit handelingskader zijn verwijderd (bewaartermijn)."
            ) from None
        raise ApiError(
            409, "withdrawn", "Een ingetrokken handelingskader kan niet meer worden gewijzigd."
        ) from None
    return _dump(shown, with_warnings=True)


@bp.post("/<plan_id>/withdraw")
@describe("Withdraw the plan", body=WithdrawArgs, response=PlanSchema, operation_id="withdrawPlan")
@require_token(operations.ROLE)
def withdraw(plan_id: str) -> dict[str, Any]:
    plan = _visible(plan_id, "plan_withdraw")
    args = parse(WithdrawArgs())
    shown = operations.withdraw_plan(db.session, api_user(), plan, args["reason"])
    return _dump(shown)


@bp.get("/<plan_id>/shares")
@describe(
    "The organisations the plan is shared with",
    response=ShareListSchema,
    query=pagination.QUERY,
    description="By name.",
    operation_id="listShares",
)
@require_token(operations.ROLE)
def shares(plan_id: str) -> dict[str, Any]:
    plan = _visible(plan_id, "plan_shares")
    return _dump_shares(plan)


@bp.post("/<plan_id>/shares")
@describe(
    "Share the plan with an organisation",
    body=ShareArgs,
    response=ShareListSchema,
    status=201,
    description="Only the owning organisation shares; an organisation the plan is shared with gets 403.",
    operation_id="sharePlan",
)
@require_token(operations.ROLE)
def share(plan_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    plan = _visible(plan_id, "plan_share")
    _owner_only(plan, "plan_share")
    args = parse(ShareArgs())
    organisation = operations.organisation_named(db.session, args["organisation"])
    if organisation is None:
        raise ApiError(
            422,
            "invalid_input",
            "Onbekende organisatie.",
            {"organisation": ["Deze organisatie bestaat niet."]},
        )
    operations.share_plan(db.session, api_user(), plan, organisation)
    # the share's own resource: DELETE there ends it
    location = url_for("plans_api.unshare", plan_id=plan.id, organisation_name=organisation.name)
    return _dump_shares(plan), 201, {"Location": location}


# `path:` because organisation names may hold a slash ("Wijkteam Noord/Oost")
@bp.delete("/<plan_id>/shares/<path:organisation_name>")
@describe(
    "Stop sharing the plan with an organisation",
    response=None,
    status=204,
    description="Only the owning organisation ends a share; one the plan is shared with gets 403.",
    operation_id="unsharePlan",
)
@require_token(operations.ROLE)
def unshare(plan_id: str, organisation_name: str) -> tuple[str, int]:
    plan = _visible(plan_id, "plan_unshare")
    _owner_only(plan, "plan_unshare")
    organisation = operations.organisation_named(db.session, organisation_name)
    if organisation is None or all(s.organisation_id != organisation.id for s in plan.shares):
        raise ApiError(404, "not_found", "Dit handelingskader is niet gedeeld met die organisatie.")
    operations.unshare_plan(db.session, api_user(), plan, organisation.id)
    return "", 204
