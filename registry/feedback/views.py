"""The inbox "Terugkoppeling" a wijkteam worker opens in the morning."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.exceptions import Conflict, Forbidden

from registry.auth import web
from registry.core import audit
from registry.core.db import db
from registry.core.vocabulary import FeedbackShown, Role
from registry.feedback import operations, proposals
from registry.feedback.schemas import (
    WITHOUT_PLAN,
    AcknowledgeArgs,
    DeclineProposalsArgs,
    InboxArgs,
    PositionArgs,
    query_args,
)
from registry.tasks import operations as tasks
from registry.web.api import flatten_messages

bp = Blueprint("feedback", __name__, url_prefix="/terugkoppeling")


#: what the page calls each parameter of its address, in a 400
_FIELD_LABELS = {"show": "Tonen", "plan": "Handelingskader", "cursor": "Pagina", "next": "Volgend item"}


def _invalid(exc: ValidationError) -> Any:
    """A query the inbox's own links never make: 400, naming the field."""
    problems = {
        _FIELD_LABELS.get(name, name): messages for name, messages in flatten_messages(exc.messages).items()
    }
    return make_response(render_template("registry/feedback/invalid.html", problems=problems), 400)


# the one argument of each endpoint a card links to
_ARGUMENTS = {
    "plans.show": "plan_id",
    "feedback.acknowledge": "item_id",
    "feedback.decline_proposals": "item_id",
    "meldingen.show": "melding_id",
    "meldingen.summary": "melding_id",
}
_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


def _links() -> Callable[[str, Any], str]:
    """link(endpoint, id): url_for once per endpoint, then the id put in its place. A page of 50
    cards asked url_for 200 times, a tenth of its rendering."""
    made: dict[str, str] = {}

    def link(endpoint: str, value: Any) -> str:
        pattern = made.get(endpoint)
        if pattern is None:
            values: dict[str, Any] = {_ARGUMENTS[endpoint]: _PLACEHOLDER}
            pattern = made[endpoint] = url_for(endpoint, **values)
        return pattern.replace(_PLACEHOLDER, str(value))

    return link


@bp.get("")
@web.role_required(operations.REGISTRANT)
def inbox() -> Any:
    """A page of the organisation's open items (spoedmeldingen first, then the newest), the
    counts that filter it, and the choice of a plan. Everything is read in a read-only stretch
    and rendered there; only the audit rows take SQLite's write lock, briefly, at the end."""
    try:
        args = InboxArgs().load(query_args(request.args))
    except ValidationError as exc:
        return _invalid(exc)
    user = web.current()
    selection: operations.Selection = args["selection"]
    with db.reading():
        page = operations.open_page(db.session, user.organisation_id, selection, args["cursor"])
        counts = operations.counts(db.session, user.organisation_id, selection)
        per_plan = counts.plans
        items = page.items
        titles = operations.plan_titles(db.session, [*per_plan, *(item.plan_id for item in items)])
        decidable = operations.decidable_plans(
            db.session, user.organisation_id, [item.plan_id for item in items]
        )
        cards: list[dict[str, Any]] = [
            {"item": item, "data": data, "title": titles[item.plan_id], "decidable": decidable}
            for item, data in zip(items, operations.item_dicts(db.session, items), strict=True)
        ]
        # a melding's five core questions are shown once, with its first item on the page
        # (templates/registry/feedback/_assessment.html)
        shown: set[Any] = set()
        for index, card in enumerate(cards):
            melding: Any = card["data"]["melding"]
            card["melding_first"] = melding is not None and melding.id not in shown
            shown.add(melding.id if melding is not None else None)
            # where "Gelezen en opgepakt" returns to: the item after this one
            following = items[index + 1] if index + 1 < len(items) else page.following
            card["next"] = following.item_id if following is not None else None
        plans = sorted(
            ((plan_id, titles.get(plan_id, ""), number) for plan_id, number in per_plan.items()),
            key=lambda plan: (plan[0] is None, plan[1].casefold()),
        )
        # the organisation's follow-up tasks (Opvolging): a section of the first page
        open_tasks = tasks.open_tasks(db.session, user.organisation_id) if args["cursor"] is None else []
        html = render_template(
            "registry/feedback/inbox.html",
            cards=cards,
            tasks=open_tasks,
            counts=counts,
            plans=plans,
            selection=selection,
            plan=args["plan"],
            cursor=args["cursor"].encode() if args["cursor"] is not None else None,
            next_cursor=page.next_cursor,
            without_plan=WITHOUT_PLAN,
            link=_links(),
        )
    audit.record(
        db.session, "feedback_list", "success", user=user, role=operations.REGISTRANT, object_type="feedback",
        detail={**operations.audit_detail(items), "plans": sorted(str(p) for p in per_plan if p is not None)},
    )  # fmt: skip
    if open_tasks:
        tasks.audit_list(db.session, user, open_tasks, "feedback")
    return html


def _back(position: dict[str, Any], fragment: uuid.UUID | None) -> Any:
    """Back to the inbox where the form was sent from: the same selection and page, scrolled to
    `fragment` (an item's id: no personal data in the URL)."""
    query = {"show": position["show"]} if position["show"] != FeedbackShown.OPEN else {}
    if position["plan"] is not None:
        query["plan"] = str(position["plan"])
    if position["cursor"] is not None:
        query["cursor"] = position["cursor"].encode()
    anchor = f"#item-{fragment}" if fragment is not None else ""
    return redirect(url_for("feedback.inbox", **query) + anchor)


def _position() -> dict[str, Any]:
    """The hidden fields of the inbox's forms; a value the page never writes: 400."""
    fields = {name: request.form.get(name, "") for name in ("show", "plan", "cursor", "next")}
    try:
        position: dict[str, Any] = PositionArgs().load(query_args(fields))
    except ValidationError as exc:
        abort(_invalid(exc))
    return position


@bp.post("/<item_id>/gelezen")
@web.role_required(operations.REGISTRANT)
def acknowledge(item_id: str) -> Any:
    """Gelezen en opgepakt, and back to the same page, at the item that followed this one."""
    position = _position()
    try:
        args = AcknowledgeArgs().load({"note": request.form.get("note", "")})
    except ValidationError:
        flash("De notitie is te lang (hoogstens 4000 tekens).", "error")
        return _back(position, _uuid(item_id))
    try:
        operations.acknowledge(db.session, web.current(), uuid.UUID(item_id), args["note"])
    except (ValueError, operations.NotFound):
        abort(404)
    flash("Gemarkeerd als gelezen en opgepakt.", "success")
    return _back(position, position["next"])


@bp.post("/<item_id>/voorstel/niet-overnemen")
@web.role_required(operations.REGISTRANT)
def decline_proposals(item_id: str) -> Any:
    """Niet overnemen: the proposed agreements stay out of the plan, for a reason that goes back
    to the organisation that proposed them."""
    position = _position()
    try:
        args = DeclineProposalsArgs().load({"reason": request.form.get("reason", "")})
    except ValidationError:
        flash(
            "Vul de reden in waarom u de voorgestelde afspraken niet overneemt (hoogstens 2000 tekens).",
            "error",
        )
        return _back(position, _uuid(item_id))
    try:
        proposals.decline(db.session, web.current(), _uuid(item_id), args["reason"])
    except proposals.ProposalRefused as refused:
        return refused_page(refused)
    flash(
        "De voorgestelde afspraken zijn niet overgenomen; de reden gaat terug naar wie ze voorstelde.",
        "success",
    )
    return _back(position, _uuid(item_id))


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
