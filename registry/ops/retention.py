"""`samenop purge`: personal data of plans ended longer ago than the retention, and old audit rows.

What goes (personal data, or text that may hold it): the addresses, persons and contacts of
every version; titles, summaries, the owner's name and phone; the agreements' trigger and
action texts; the reason of a withdrawal; the narrative, agreement notes, amendment notes,
incident number and request fingerprint of reports on the plan; the agreements and contacts
they proposed and the reason a proposal was declined; acknowledgement notes; the
meldingnummer of meldingen past the retention, their answers to the five core questions, the
texts of reports without a plan on them, and the notes of the meldingen's follow-up tasks; the
incident number of lookups that showed only purged plans, and of lookups without a match
older than the retention. The incident number is the police's key to a case file about
identified people, so it counts as personal data.

What stays (the anonymous facts the monitoring tables count): the plan row (owner
organisation, status, dates), its versions' dates, family profile and risk signals, the
agreement rows with position and actor (reports refer to them), every report's categories,
times, responders, mode, actions and agreement outcomes, every lookup's kind, time, match
count and what it showed, acknowledgement times, and the proposed agreements' actors and the
decisions on them (who, when, which version). Accounts are not touched here.

Everything happens in the caller's transaction: the command commits it, or rolls it back
for --dry-run, so a dry run counts exactly what a real run removes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from registry.core import audit
from registry.core.models import (
    Address,
    Agreement,
    AssessmentAddition,
    Contact,
    FeedbackAcknowledgement,
    FollowUpTask,
    Lookup,
    LookupResult,
    Melding,
    Person,
    Plan,
    PlanVersion,
    ProposalDecision,
    ProposedAgreement,
    ProposedContact,
    Report,
    ReportAgreement,
    ReportAmendment,
    Signal,
    SignalResult,
)
from registry.core.signals import mark_plan_purged
from registry.core.vocabulary import PlanStatus

#: the title a purged plan carries everywhere it is shown (web pages, API, e-mails)
PURGED_TITLE = "gegevens verwijderd (bewaartermijn)"


@dataclass
class PurgeResult:
    plans_before: datetime
    audit_before: datetime
    plans: list[uuid.UUID] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    audit_removed: int = 0
    audit_first_entry_id: int = 1

    def lines(self) -> list[str]:
        shown = [
            f"plans ended before {self.plans_before:%Y-%m-%d}: {len(self.plans)} purged",
            *(f"  {name}: {number}" for name, number in self.counts.items()),
            f"audit rows before {self.audit_before:%Y-%m-%d}: {self.audit_removed} removed "
            f"(the chain now starts at row {self.audit_first_entry_id})",
        ]
        return shown


def cutoff(now: datetime, months: int) -> datetime:
    return now - relativedelta(months=months)


def due_plans(session: Session, before: datetime) -> list[uuid.UUID]:
    """Expired or withdrawn plans, not purged yet, that ended before `before`."""
    ended = or_(
        and_(
            Plan.status == PlanStatus.EXPIRED,
            or_(
                Plan.expired_at < before,
                # expired before expiry was time-stamped: the last valid day tells
                and_(Plan.expired_at.is_(None), Plan.valid_until < before.date()),
            ),
        ),
        and_(Plan.status == PlanStatus.WITHDRAWN, Plan.withdrawn_at < before),
    )
    # locked first, as an edit locks the plan row before the write lock: a renewal that races
    # the purge waits for it, then finds the plan purged (a version conflict), never a deadlock
    query = select(Plan.id).where(ended, Plan.purged_at.is_(None)).order_by(Plan.id).with_for_update()
    return list(session.scalars(query))


def _changed(session: Session, statement: Any) -> int:
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _purge_plans(session: Session, plan_ids: list[uuid.UUID], now: datetime) -> dict[str, int]:
    versions = select(PlanVersion.id).where(PlanVersion.plan_id.in_(plan_ids))
    reports = select(Report.id).where(Report.plan_id.in_(plan_ids))
    counts = {
        "addresses": _changed(session, delete(Address).where(Address.plan_version_id.in_(versions))),
        "persons": _changed(session, delete(Person).where(Person.plan_version_id.in_(versions))),
        "contacts": _changed(session, delete(Contact).where(Contact.plan_version_id.in_(versions))),
        "versions": _changed(
            session,
            update(PlanVersion)
            .where(PlanVersion.plan_id.in_(plan_ids))
            .values(title=PURGED_TITLE, summary="", owner_name="", owner_phone=""),
        ),
        "agreements": _changed(
            session,
            update(Agreement).where(Agreement.plan_version_id.in_(versions)).values(trigger="", action=""),
        ),
        "reports": _changed(
            session,
            update(Report)
            .where(Report.id.in_(reports))
            .values(narrative="", incident_ref="", answered_by=None, urgent_reason=None, request_hash=None),
        ),
        "report_agreement_notes": _changed(
            session,
            update(ReportAgreement)
            .where(ReportAgreement.report_id.in_(reports), ReportAgreement.note != "")
            .values(note=""),
        ),
        "report_amendments": _changed(
            session,
            update(ReportAmendment).where(ReportAmendment.report_id.in_(reports)).values(note=""),
        ),
        "proposed_agreements": _changed(
            session,
            update(ProposedAgreement)
            .where(ProposedAgreement.report_id.in_(reports))
            .values(trigger="", action=""),
        ),
        "proposed_contacts": _changed(
            session, delete(ProposedContact).where(ProposedContact.report_id.in_(reports))
        ),
        "proposal_reasons": _changed(
            session,
            update(ProposalDecision)
            .where(ProposalDecision.report_id.in_(reports), ProposalDecision.reason.is_not(None))
            .values(reason=None),
        ),
    }
    _changed(
        session,
        update(Plan).where(Plan.id.in_(plan_ids)).values(purged_at=now, withdrawn_reason=None),
    )
    return counts


def _anonymise_lookups(session: Session, before: datetime) -> dict[str, int]:
    """Incident numbers of lookups that showed only purged plans, or nothing long ago."""
    purged = select(Plan.id).where(Plan.purged_at.is_not(None))
    showed_purged = exists().where(LookupResult.lookup_id == Lookup.id, LookupResult.plan_id.in_(purged))
    showed_other = exists().where(LookupResult.lookup_id == Lookup.id, LookupResult.plan_id.not_in(purged))
    reported_on_purged = exists().where(Report.lookup_id == Lookup.id, Report.plan_id.in_(purged))
    reported_on_other = exists().where(Report.lookup_id == Lookup.id, Report.plan_id.not_in(purged))
    showed_any = exists().where(LookupResult.lookup_id == Lookup.id)
    due = or_(
        and_(or_(showed_purged, reported_on_purged), ~showed_other, ~reported_on_other),
        and_(~showed_any, ~reported_on_other, Lookup.performed_at < before),
    )
    lookups = _changed(session, update(Lookup).where(due, Lookup.incident_ref != "").values(incident_ref=""))
    purged_reports = select(Report.id).where(Report.plan_id.in_(purged))
    anonymous_lookups = select(Lookup.id).where(Lookup.incident_ref == "")
    notes = _changed(
        session,
        update(FeedbackAcknowledgement)
        .where(
            or_(
                FeedbackAcknowledgement.report_id.in_(purged_reports),
                FeedbackAcknowledgement.lookup_id.in_(anonymous_lookups),
            ),
            FeedbackAcknowledgement.note != "",
        )
        .values(note=""),
    )
    # a signal to a control room's system likewise: one that found only purged plans, or nothing
    # long ago (what it found and when stay, for the access log and the audit trail)
    found_purged = exists().where(SignalResult.signal_id == Signal.id, SignalResult.plan_id.in_(purged))
    found_other = exists().where(SignalResult.signal_id == Signal.id, SignalResult.plan_id.not_in(purged))
    found_any = exists().where(SignalResult.signal_id == Signal.id)
    signal_due = or_(and_(found_purged, ~found_other), and_(~found_any, Signal.performed_at < before))
    signals = _changed(
        session, update(Signal).where(signal_due, Signal.incident_ref != "").values(incident_ref="")
    )
    return {"lookups": lookups, "acknowledgement_notes": notes, "signals": signals}


def _purge_meldingen(session: Session, before: datetime) -> dict[str, int]:
    """The meldingnummer and the answers to the five core questions of every melding past the
    retention (about a family without a handelingskader: by the time of the call; on a plan: once
    the plan is purged), and the text of the reports without a plan on them: narrative, incident
    number, amendment and acknowledgement notes. Their categories, times, responders, mode and
    actions stay."""
    purged = select(Plan.id).where(Plan.purged_at.is_not(None))
    due = or_(and_(Melding.plan_id.is_(None), Melding.occurred_at < before), Melding.plan_id.in_(purged))
    meldingen = _changed(
        session,
        update(Melding).where(due, Melding.incident_ref != "").values(incident_ref="", incident_key=""),
    )
    planless = select(Report.id).where(
        Report.plan_id.is_(None), Report.melding_id.in_(select(Melding.id).where(due))
    )
    reports = _changed(
        session,
        update(Report)
        .where(Report.id.in_(planless), or_(Report.narrative != "", Report.incident_ref != ""))
        .values(narrative="", incident_ref="", answered_by=None, urgent_reason=None, request_hash=None),
    )
    amendments = _changed(
        session,
        update(ReportAmendment)
        .where(ReportAmendment.report_id.in_(planless), ReportAmendment.note != "")
        .values(note=""),
    )
    notes = _changed(
        session,
        update(FeedbackAcknowledgement)
        .where(FeedbackAcknowledgement.report_id.in_(planless), FeedbackAcknowledgement.note != "")
        .values(note=""),
    )
    # the five core questions of those meldingen: free text about the family; the rows stay
    # (which organisation added to which question, and when)
    answers = _changed(
        session,
        update(AssessmentAddition)
        .where(
            AssessmentAddition.melding_id.in_(select(Melding.id).where(due)), AssessmentAddition.text != ""
        )
        .values(text=""),
    )
    # a follow-up task's note (what was done with the family) goes with its melding's number
    task_notes = _changed(
        session,
        update(FollowUpTask)
        .where(FollowUpTask.melding_id.in_(select(Melding.id).where(due)), FollowUpTask.done_note != "")
        .values(done_note=""),
    )
    return {
        "meldingen": meldingen,
        "assessment_answers": answers,
        "reports_without_plan": reports,
        "report_without_plan_amendments": amendments,
        "report_without_plan_acknowledgement_notes": notes,
        "follow_up_task_notes": task_notes,
    }


def purge(session: Session, now: datetime, retention_months: int, audit_retention_months: int) -> PurgeResult:
    """Remove what is past its retention, and write one audit row with the counts."""
    result = PurgeResult(
        plans_before=cutoff(now, retention_months), audit_before=cutoff(now, audit_retention_months)
    )
    result.plans = due_plans(session, result.plans_before)
    result.counts = _purge_plans(session, result.plans, now)  # no plans: every count 0
    result.counts.update(_anonymise_lookups(session, result.plans_before))
    result.counts.update(_purge_meldingen(session, result.plans_before))
    for plan_id in result.plans:
        # out of every search index (it already is, being expired or withdrawn: belt and braces),
        # and, after commit, out of the index's files on disk (signals.plans_purged)
        mark_plan_purged(session, plan_id)
    session.flush()
    pruned = audit.prune(
        session,
        result.audit_before,
        detail={
            "plans_before": result.plans_before.isoformat(),
            "audit_before": result.audit_before.isoformat(),
            "plans": len(result.plans),
            **result.counts,
        },
    )
    result.audit_removed = pruned.removed
    result.audit_first_entry_id = pruned.first_entry_id
    return result
