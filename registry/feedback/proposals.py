"""The owners' decision on what a responder proposed with a report: the agreements and contacts
taken into a new version of the plan in one step (accept), or not, with a reason that goes back
to the reporting organisation (decline). Decided once, by an organisation that owns the plan or
shares it (the organisations that may edit it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.core import audit, rules
from registry.core.models import Organisation, Plan, ProposalDecision, Report, User
from registry.core.normalise import phone_display
from registry.core.timeutil import utcnow
from registry.core.vocabulary import PlanStatus, ProposalOutcome, Role
from registry.plans import operations as plans
from registry.plans.schemas import PlanSchema, PlanUpdateArgs
from registry.reports.proposals import ProposalsShown, proposals_of

REGISTRANT = Role.REGISTRANT


class ProposalRefused(Exception):
    """The decision cannot be taken: `status` 404 (no such proposals for the organisation), 403
    (it hears of the report but neither owns nor shares the plan) or 409 (decided already, or the
    plan can no longer change); `message` says so in Dutch."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


NOT_FOUND = "Deze inzet bestaat niet, hoort niet bij uw organisatie of bevat geen voorgestelde afspraken."
NOT_DECIDER = (
    "Alleen de regiehouder, en de organisaties met wie het handelingskader is gedeeld, "
    "beslissen over de voorgestelde afspraken."
)
DECIDED = "Over deze voorgestelde afspraken is al beslist; een besluit wordt niet gewijzigd."
NOT_EDITABLE = (
    "Dit handelingskader is ingetrokken of de gegevens zijn verwijderd: "
    "de voorgestelde afspraken kunnen niet meer worden overgenomen. Geef aan waarom niet."
)


@dataclass(frozen=True)
class Pending:
    """Proposals the user's organisation may decide on: the report, its plan, what was proposed."""

    report: Report
    plan: Plan
    proposals: ProposalsShown
    organisation: str  # the reporting organisation's name


def pending(session: Session, user: User, report_id: uuid.UUID | None, action: str) -> Pending:
    """The undecided proposals of a report on a plan the user's organisation owns or shares;
    ProposalRefused otherwise, after a kept audit row of the attempt."""

    def refuse(status: int, code: str, message: str, outcome: str) -> ProposalRefused:
        audit.record_kept(
            session, action, outcome, user=user, role=REGISTRANT, object_type="report",
            object_id=report_id or "",
        )  # fmt: skip
        return ProposalRefused(status, code, message)

    report = session.get(Report, report_id) if report_id is not None else None
    heard = report is not None and bool(
        session.scalar(select(exists().where(Report.id == report.id, rules.heard_by(user.organisation_id))))
    )
    shown = proposals_of(session, [report.id]).get(report.id) if report is not None and heard else None
    if report is None or shown is None or report.plan_id is None:
        raise refuse(404, "not_found", NOT_FOUND, "not_found")
    plan = plans.get_visible(session, user, report.plan_id)
    if plan is None:
        raise refuse(403, "forbidden", NOT_DECIDER, "refused")
    if shown.decision is not None:
        raise refuse(409, "already_decided", DECIDED, "conflict")
    return Pending(report, plan, shown, report_organisation(session, report))


def report_organisation(session: Session, report: Report) -> str:
    organisation = session.get(Organisation, report.organisation_id)
    return organisation.name if organisation is not None else ""


def record_opened(session: Session, user: User, found: Pending) -> None:
    """The proposals opened in the plan form (a read of what they say about the family)."""
    audit.record(
        session, "proposal_read", "success", user=user, role=REGISTRANT, object_type="report",
        object_id=found.report.id, detail={"plan": str(found.plan.id)},
    )  # fmt: skip


def _decide(session: Session, user: User, report: Report, outcome: str, **values: Any) -> ProposalDecision:
    """The one decision row; a decision taken meanwhile by another request (the unique key on
    the report) is ProposalRefused 409, and the caller's request is rolled back whole."""
    decision = ProposalDecision(
        report_id=report.id,
        outcome=outcome,
        organisation_id=user.organisation_id,
        decided_by_id=user.id,
        decided_at=utcnow(),
        **values,
    )
    try:
        with session.begin_nested():
            session.add(decision)
            session.flush()
    except IntegrityError:
        action = "proposal_accept" if outcome == ProposalOutcome.ACCEPTED else "proposal_decline"
        audit.record_kept(
            session, action, "conflict", user=user, role=REGISTRANT, object_type="report", object_id=report.id
        )
        raise ProposalRefused(409, "already_decided", DECIDED) from None
    return decision


def decline(session: Session, user: User, report_id: uuid.UUID | None, reason: str) -> ProposalDecision:
    """Not taken into the plan, for `reason` (required: it goes back to the reporting
    organisation, and to no other)."""
    found = pending(session, user, report_id, "proposal_decline")
    decision = _decide(session, user, found.report, ProposalOutcome.DECLINED, reason=reason)
    audit.record(
        session, "proposal_decline", "success", user=user, role=REGISTRANT, object_type="report",
        object_id=found.report.id, detail={"plan": str(found.plan.id)},
    )  # fmt: skip
    return decision


def accept(
    session: Session, user: User, found: Pending, args: dict[str, Any], expected: int
) -> tuple[plans.PlanView, ProposalDecision]:
    """The plan as `args` (PlanArgs: the current version with the proposals, as the owner edited
    them) becomes version expected + 1 by the plan's compare-and-set, and the proposals are
    accepted into it, in one transaction: a stale version (plans.VersionConflict), a plan that
    can no longer change (ProposalRefused 409) or a decision taken meanwhile leaves neither."""
    require_editable(session, user, found)
    try:
        shown = plans.update_plan(session, user, found.plan, args, expected)
    except plans.NotEditable:  # withdrawn meanwhile
        raise _not_editable(session, user, found) from None
    decision = _decide(session, user, found.report, ProposalOutcome.ACCEPTED, version=shown.version.version)
    audit.record(
        session, "proposal_accept", "success", user=user, role=REGISTRANT, object_type="report",
        object_id=found.report.id, detail={"plan": str(found.plan.id), "version": shown.version.version},
    )  # fmt: skip
    return shown, decision


def _not_editable(session: Session, user: User, found: Pending) -> ProposalRefused:
    audit.record_kept(
        session, "proposal_accept", "conflict", user=user, role=REGISTRANT, object_type="report",
        object_id=found.report.id,
    )  # fmt: skip
    return ProposalRefused(409, "not_editable", NOT_EDITABLE)


def require_editable(session: Session, user: User, found: Pending) -> None:
    """A withdrawn plan, or one whose data the retention purge removed, takes no proposals
    (ProposalRefused 409); they can still be declined."""
    if found.plan.status == PlanStatus.WITHDRAWN or found.plan.purged_at is not None:
        raise _not_editable(session, user, found)


def proposed_rows(proposals: ProposalsShown) -> dict[str, list[dict[str, Any]]]:
    """The proposals as rows of a plan's input (PlanArgs): agreements and contacts."""
    return {
        "agreements": [
            {"trigger": a.trigger, "action": a.action, "actor": a.actor} for a in proposals.agreements
        ],
        "contacts": [
            {
                "name": c.name,
                "relation": c.relation,
                "phone": phone_display(c.phone),
                "available": c.available,
            }
            for c in proposals.contacts
        ],
    }


def args_with_proposals(session: Session, user: User, found: Pending, expected: int) -> dict[str, Any]:
    """The plan's current version with the proposed agreements and contacts added at the end,
    validated as any update of the plan is (PlanUpdateArgs): ValidationError names the field
    (a plan past its last day must be given a new one first; at most 30 agreements)."""
    require_editable(session, user, found)
    current = PlanSchema().dump(plans.view(session, found.plan).as_dict())
    rows = proposed_rows(found.proposals)
    body = {key: value for key, value in current.items() if key not in ("id", "status")}
    body["version"] = expected
    body["agreements"] = [*current["agreements"], *rows["agreements"]]
    body["contacts"] = [*current["contacts"], *rows["contacts"]]
    loaded: dict[str, Any] = PlanUpdateArgs().load(body)
    loaded.pop("version")
    return loaded
