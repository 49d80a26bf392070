"""The registrant's pages: the list, create / edit (plain forms), the plan, withdraw, share."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.exceptions import Forbidden

from registry.auth import web
from registry.core import audit
from registry.core.db import db
from registry.core.models import MAX_ID, Plan
from registry.core.vocabulary import PlanStatus
from registry.feedback import proposals
from registry.feedback.views import refused_page
from registry.plans import availability, forms, operations
from registry.plans.schemas import PlanArgs, WithdrawArgs, today

bp = Blueprint("plans", __name__, url_prefix="/plans")

STATUS_TABS = (
    (PlanStatus.ACTIVE, PlanStatus.ACTIVE.label),
    (PlanStatus.EXPIRED, PlanStatus.EXPIRED.label),
    (PlanStatus.WITHDRAWN, PlanStatus.WITHDRAWN.label),
    ("", "Alle"),
)


def _refused_unless_owner(plan: Plan, action: str) -> Any | None:
    """The 403 page for an organisation the plan is shared with: sharing is the owner's (logged)."""
    try:
        operations.require_owner(db.session, web.current(), plan, action)
    except operations.NotOwner as exc:
        return render_template("errors/http.html", error=Forbidden(), reason=str(exc)), 403
    return None


def _plan_or_404(plan_id: str, action: str) -> Plan:
    user = web.current()
    try:
        parsed = uuid.UUID(plan_id)
    except ValueError:
        abort(404)
    plan = operations.get_visible(db.session, user, parsed)
    if plan is None:
        operations.record_refused(db.session, user, action, parsed)
        abort(404)
    return plan


@bp.get("")
@web.role_required(operations.ROLE)
def index() -> Any:
    user = web.current()
    status = request.args.get("status", PlanStatus.ACTIVE)
    if status not in {key for key, _label in STATUS_TABS}:
        status = PlanStatus.ACTIVE
    plans = db.session.scalars(operations.visible_plans(user, status or None)).all()
    shown = [operations.view(db.session, plan) for plan in plans]
    counts = operations.plan_counts(db.session, user.organisation_id, [plan.id for plan in plans])
    audit.record(
        db.session, "plan_list", "success", user=user, role=operations.ROLE, object_type="plan",
        detail={"plans": [str(plan.id) for plan in plans]},
    )  # fmt: skip
    return render_template(
        "registry/plans/index.html",
        plans=shown,
        counts=counts,
        status=status,
        tabs=STATUS_TABS,
        today=today(),
    )


def _render_form(
    form: dict[str, Any],
    errors: dict[str, list[str]],
    plan: Plan | None,
    status: int = 200,
    proposal: proposals.Pending | None = None,
) -> Any:
    return (
        render_template(
            "registry/plans/form.html",
            form=form,
            errors=errors,
            plan=plan,
            max_rows=forms.MAX_FORM_ROWS,
            proposal=proposal,
            presets=availability.PRESETS,
        ),
        status,
    )


def _pending(plan: Plan, report_id: str, action: str) -> proposals.Pending:
    """The undecided proposals of a report on this plan that the user's organisation decides on
    (ProposalRefused otherwise; proposals of a report on another plan are not found)."""
    try:
        parsed: uuid.UUID | None = uuid.UUID(report_id)
    except ValueError:
        parsed = None
    found = proposals.pending(db.session, web.current(), parsed, action)
    if found.plan.id != plan.id:
        raise proposals.ProposalRefused(404, "not_found", proposals.NOT_FOUND)
    return found


def _submitted(
    plan: Plan | None,
) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, list[str]]]:
    """The typed form, the validated args (None if invalid or a row button was pressed), errors."""
    form = forms.from_request(request.form)
    row_action = request.form.get("row_action")
    if row_action:
        forms.apply_row_action(form, row_action)
        return form, None, {}
    data, index_map = forms.to_args(form)
    try:
        return form, PlanArgs().load(data), {}
    except ValidationError as exc:
        return form, None, forms.form_errors(exc.messages, index_map)


def _after_save(shown: operations.PlanView, message: str) -> Any:
    flash(message, "success")
    for warning in shown.warnings:
        flash(warning.message, "warning")
    return redirect(url_for("plans.show", plan_id=shown.plan.id))


@bp.route("/new", methods=["GET", "POST"])
@web.role_required(operations.ROLE)
def create() -> Any:
    if request.method == "GET":
        return _render_form(forms.new_form(), {}, None)
    form, args, errors = _submitted(None)
    if args is None:
        return _render_form(form, errors, None, 422 if errors else 200)
    shown = operations.create_plan(db.session, web.current(), args)
    return _after_save(shown, "Het handelingskader is opgeslagen.")


@bp.route("/<plan_id>/edit", methods=["GET", "POST"])
@web.role_required(operations.ROLE)
def edit(plan_id: str) -> Any:
    plan = _plan_or_404(plan_id, "plan_read")
    if plan.purged_at is not None:
        flash("De gegevens van dit handelingskader zijn verwijderd (bewaartermijn).", "error")
        return redirect(url_for("plans.show", plan_id=plan.id))
    if plan.status == PlanStatus.WITHDRAWN:
        flash("Een ingetrokken handelingskader kan niet meer worden gewijzigd.", "error")
        return redirect(url_for("plans.show", plan_id=plan.id))
    # "Overnemen in het handelingskader": the form with a report's proposals added (?voorstel= on
    # opening, then the form's from_report); saving makes the version and accepts them
    from_report = request.args.get("voorstel") if request.method == "GET" else request.form.get("from_report")
    proposal = None
    if from_report:
        try:
            proposal = _pending(
                plan, from_report, "proposal_read" if request.method == "GET" else "proposal_accept"
            )
        except proposals.ProposalRefused as refused:
            return refused_page(refused)
    if request.method == "GET":
        shown = operations.read_plan(db.session, web.current(), plan)
        form = forms.from_view(shown)
        if proposal is not None:
            proposals.record_opened(db.session, web.current(), proposal)
            forms.with_proposals(form, proposals.proposed_rows(proposal.proposals))
        return _render_form(form, {}, plan, proposal=proposal)
    form, args, errors = _submitted(plan)
    if args is None:
        return _render_form(form, errors, plan, 422 if errors else 200, proposal)
    try:
        expected = int(form["version"])
    except ValueError:
        abort(400)
    try:
        if proposal is not None:
            shown, _decision = proposals.accept(db.session, web.current(), proposal, args, expected)
        else:
            shown = operations.update_plan(db.session, web.current(), plan, args, expected)
    except operations.VersionConflict as exc:
        errors = {
            "_form": [
                f"Iemand anders heeft dit handelingskader intussen opgeslagen (versie {exc.current}). "
                "Uw invoer staat hieronder nog; open het handelingskader opnieuw om de nieuwe versie te zien "
                "en breng uw wijziging daarin aan."
            ]
        }
        return _render_form(form, errors, plan, 409, proposal)
    except proposals.ProposalRefused as refused:  # decided meanwhile, or the plan was withdrawn
        return _render_form(form, {"_form": [refused.message]}, plan, refused.status, proposal)
    if proposal is not None:
        return _after_save(
            shown,
            f"Versie {shown.version.version} is opgeslagen, met de voorgestelde afspraken van "
            f"{proposal.organisation}. Zij zien dat ze zijn overgenomen.",
        )
    return _after_save(shown, f"Versie {shown.version.version} is opgeslagen.")


def _page(value: str | None) -> int:
    """A page number from the query string; anything else is the first page."""
    try:
        return max(1, min(int(value or 1), 100_000))
    except ValueError:
        return 1


@bp.get("/<plan_id>")
@web.role_required(operations.ROLE)
def show(plan_id: str) -> Any:
    plan = _plan_or_404(plan_id, "plan_read")
    user = web.current()
    shown = operations.read_plan(db.session, user, plan)
    counts = operations.plan_counts(db.session, user.organisation_id, [plan.id]).get(plan.id, {})
    access_log = operations.read_access_log(
        db.session,
        user,
        plan,
        page=_page(request.args.get("toegangslog")),
        per_page=operations.ACCESS_LOG_PAGE,
    )
    return render_template(
        "registry/plans/show.html",
        shown=shown,
        plan=plan,
        versions=operations.versions_newest_first(db.session, plan),
        organisations=operations.share_candidates(db.session, plan),
        may_share=operations.may_share(user, plan),
        counts=counts,
        access_log=access_log,
        warnings=operations.version_warnings(shown.version, today()),
    )


@bp.post("/<plan_id>/withdraw")
@web.role_required(operations.ROLE)
def withdraw(plan_id: str) -> Any:
    plan = _plan_or_404(plan_id, "plan_withdraw")
    try:
        args = WithdrawArgs().load({"reason": request.form.get("reason", "")})
    except ValidationError:
        flash("Vul een reden in om het handelingskader in te trekken.", "error")
        return redirect(url_for("plans.show", plan_id=plan.id))
    if request.form.get("bevestigd") != "ja":
        flash("Bevestig dat de meldkamer het handelingskader daarna niet meer vindt.", "error")
        return redirect(url_for("plans.show", plan_id=plan.id))
    operations.withdraw_plan(db.session, web.current(), plan, args["reason"])
    flash("Het handelingskader is ingetrokken; de meldkamer ziet het niet meer.", "success")
    return redirect(url_for("plans.show", plan_id=plan.id))


@bp.post("/<plan_id>/share")
@web.role_required(operations.ROLE)
def share(plan_id: str) -> Any:
    plan = _plan_or_404(plan_id, "plan_share")
    if (refused := _refused_unless_owner(plan, "plan_share")) is not None:
        return refused
    try:
        organisation_id = int(request.form.get("organisation_id", ""))
    except ValueError:
        abort(400)
    organisation = operations.organisation_by_id(db.session, organisation_id)
    if organisation is None:
        abort(400)
    operations.share_plan(db.session, web.current(), plan, organisation)
    flash(
        f"Gedeeld met {organisation.name}: zij kunnen het handelingskader nu zien en wijzigen.",
        "success",
    )
    return redirect(url_for("plans.show", plan_id=plan.id))


@bp.post(f"/<plan_id>/unshare/<int(max={MAX_ID}):organisation_id>")
@web.role_required(operations.ROLE)
def unshare(plan_id: str, organisation_id: int) -> Any:
    plan = _plan_or_404(plan_id, "plan_unshare")
    if (refused := _refused_unless_owner(plan, "plan_unshare")) is not None:
        return refused
    operations.unshare_plan(db.session, web.current(), plan, organisation_id)
    flash("Het delen is beëindigd.", "success")
    return redirect(url_for("plans.show", plan_id=plan.id))
