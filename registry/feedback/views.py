"""The inbox "Terugkoppeling" a wijkteam worker opens in the morning."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.exceptions import Conflict, Forbidden

from registry.auth import web
from registry.core import audit
from registry.core.db import db
from registry.core.vocabulary import Role
from registry.feedback import operations, proposals
from registry.feedback.schemas import AcknowledgeArgs, DeclineProposalsArgs
from registry.tasks import operations as tasks

bp = Blueprint("feedback", __name__, url_prefix="/terugkoppeling")


@bp.get("")
@web.role_required(operations.REGISTRANT)
def inbox() -> Any:
    user = web.current()
    # spoedmeldingen at the top, in red, with their deadline
    items = operations.spoed_first(operations.open_items(db.session, user.organisation_id))
    titles = operations.plan_titles(db.session, [item.plan_id for item in items])
    decidable = operations.decidable_plans(db.session, user.organisation_id, [item.plan_id for item in items])
    cards: list[dict[str, Any]] = [
        {"item": item, "data": data, "title": titles[item.plan_id], "decidable": decidable}
        for item, data in zip(items, operations.item_dicts(db.session, items), strict=True)
    ]
    # a melding's five core questions are shown once, with its first item
    # (templates/registry/feedback/_assessment.html)
    shown: set[Any] = set()
    for card in cards:
        melding: Any = card["data"]["melding"]
        card["melding_first"] = melding is not None and melding.id not in shown
        shown.add(melding.id if melding is not None else None)
    audit.record(
        db.session, "feedback_list", "success", user=user, role=operations.REGISTRANT, object_type="feedback",
        detail=operations.audit_detail(items),
    )  # fmt: skip
    # the organisation's follow-up tasks (Opvolging), a section of their own above the items
    open_tasks = tasks.open_tasks(db.session, user.organisation_id)
    tasks.audit_list(db.session, user, open_tasks, "feedback")
    return render_template("registry/feedback/inbox.html", cards=cards, tasks=open_tasks)


@bp.post("/<item_id>/gelezen")
@web.role_required(operations.REGISTRANT)
def acknowledge(item_id: str) -> Any:
    try:
        args = AcknowledgeArgs().load({"note": request.form.get("note", "")})
        operations.acknowledge(db.session, web.current(), uuid.UUID(item_id), args["note"])
    except ValidationError:
        flash("De notitie is te lang (hoogstens 4000 tekens).", "error")
        return redirect(url_for("feedback.inbox"))
    except (ValueError, operations.NotFound):
        abort(404)
    flash("Gemarkeerd als gelezen en opgepakt.", "success")
    return redirect(url_for("feedback.inbox"))


@bp.post("/<item_id>/voorstel/niet-overnemen")
@web.role_required(operations.REGISTRANT)
def decline_proposals(item_id: str) -> Any:
    """Niet overnemen: the proposed agreements stay out of the plan, for a reason that goes back
    to the organisation that proposed them."""
    try:
        args = DeclineProposalsArgs().load({"reason": request.form.get("reason", "")})
    except ValidationError:
        flash(
            "Vul de reden in waarom u de voorgestelde afspraken niet overneemt (hoogstens 2000 tekens).",
            "error",
        )
        return redirect(url_for("feedback.inbox"))
    try:
        proposals.decline(db.session, web.current(), _uuid(item_id), args["reason"])
    except proposals.ProposalRefused as refused:
        return refused_page(refused)
    flash(
        "De voorgestelde afspraken zijn niet overgenomen; de reden gaat terug naar wie ze voorstelde.",
        "success",
    )
    return redirect(url_for("feedback.inbox"))


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def refused_page(refused: proposals.ProposalRefused) -> Any:
    """The error page of a decision that cannot be taken, saying why (404, 403 or 409)."""
    if refused.status == 404:
        abort(404)
    error = Forbidden() if refused.status == 403 else Conflict()
    return render_template("errors/http.html", error=error, reason=refused.message), refused.status


@bp.get("/te-laat")
@web.role_required(Role.COORDINATOR)
def overdue() -> Any:
    """The coordinator's view: every item of the organisation past its due day."""
    user = web.current()
    items = operations.overdue_items(db.session, user.organisation_id)
    titles = operations.plan_titles(db.session, [item.plan_id for item in items])
    rows = [{"item": item, "title": titles[item.plan_id]} for item in items]
    unheard = operations.without_recipient(db.session, user.organisation_id)
    detail = {**operations.audit_detail(items), "without_recipient": [str(u.report_id) for u in unheard]}
    audit.record(
        db.session, "feedback_overdue_list", "success", user=user, role=Role.COORDINATOR,
        object_type="feedback", detail=detail,
    )  # fmt: skip
    late_tasks = tasks.overdue_tasks(db.session, user.organisation_id)
    if late_tasks:
        tasks.audit_list(db.session, user, late_tasks, "overdue")
    return render_template(
        "registry/feedback/overdue.html", rows=rows, unheard=unheard, late_tasks=late_tasks
    )
