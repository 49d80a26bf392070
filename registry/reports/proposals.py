"""A report's proposals: the agreements and contacts a responder made with the family, stored
with the report and never edited, and read back (with the owners' decision) as ProposalsShown."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from registry.core.models import (
    Organisation,
    ProposalDecision,
    ProposedAgreement,
    ProposedContact,
    Report,
)

# Core statements built once, as the rest of the feedback read path (docs/performance.md)
_AGREEMENT = ProposedAgreement.__table__.c
_CONTACT = ProposedContact.__table__.c
_DECISION = ProposalDecision.__table__.c
_ORGANISATION = Organisation.__table__.c

_AGREEMENTS = (
    select(_AGREEMENT.report_id, _AGREEMENT.position, _AGREEMENT.trigger, _AGREEMENT.action, _AGREEMENT.actor)
    .where(_AGREEMENT.report_id.in_(bindparam("ids", expanding=True)))
    .order_by(_AGREEMENT.report_id, _AGREEMENT.position)
)
_CONTACTS = (
    select(
        _CONTACT.report_id,
        _CONTACT.position,
        _CONTACT.name,
        _CONTACT.relation,
        _CONTACT.phone,
        _CONTACT.available,
    )
    .where(_CONTACT.report_id.in_(bindparam("ids", expanding=True)))
    .order_by(_CONTACT.report_id, _CONTACT.position)
)
_DECISIONS = (
    select(
        _DECISION.report_id,
        _DECISION.outcome,
        _DECISION.version,
        _DECISION.reason,
        _ORGANISATION.name,
        _DECISION.decided_at,
    )
    .select_from(ProposalDecision.__table__)
    .outerjoin(Organisation.__table__, _ORGANISATION.id == _DECISION.organisation_id)
    .where(_DECISION.report_id.in_(bindparam("ids", expanding=True)))
)


def store(session: Session, report: Report, proposals: dict[str, Any] | None) -> None:
    """The proposals (ProposalsArgs, validated) of a report just flushed, in its transaction."""
    if not proposals:
        return
    session.add_all(
        [
            *(
                ProposedAgreement(report_id=report.id, position=position, **row)
                for position, row in enumerate(proposals.get("agreements") or [], start=1)
            ),
            *(
                ProposedContact(report_id=report.id, position=position, **row)
                for position, row in enumerate(proposals.get("contacts") or [], start=1)
            ),
        ]
    )
    session.flush()


@dataclass(frozen=True, slots=True)
class ProposedAgreementShown:
    position: int
    trigger: str
    action: str
    actor: str


@dataclass(frozen=True, slots=True)
class ProposedContactShown:
    position: int
    name: str
    relation: str
    phone: str
    available: str


@dataclass(frozen=True, slots=True)
class DecisionShown:
    """Who decided on the proposals and when; accepted into `version`, or declined (version None)
    for `reason`, which only the reporting organisation is shown (None for everyone else)."""

    outcome: str
    version: int | None
    organisation: str
    decided_at: datetime
    reason: str | None = None

    @property
    def accepted(self) -> bool:
        return self.version is not None


@dataclass(frozen=True, slots=True)
class ProposalsShown:
    agreements: list[ProposedAgreementShown]
    contacts: list[ProposedContactShown]
    decision: DecisionShown | None


def proposals_of(
    session: Session, report_ids: list[uuid.UUID], with_reason: bool = False
) -> dict[uuid.UUID, ProposalsShown]:
    """The proposals of the reports that have any, by report id: three queries however many
    reports (the callers pass a chunk). A decline's reason only `with_reason`: for the
    organisation that reported, never for the others who heard of the report."""
    if not report_ids:
        return {}
    agreements: dict[uuid.UUID, list[ProposedAgreementShown]] = {}
    for report_id, *row in session.execute(_AGREEMENTS, {"ids": report_ids}):
        agreements.setdefault(report_id, []).append(ProposedAgreementShown(*row))
    contacts: dict[uuid.UUID, list[ProposedContactShown]] = {}
    for report_id, *row in session.execute(_CONTACTS, {"ids": report_ids}):
        contacts.setdefault(report_id, []).append(ProposedContactShown(*row))
    if not agreements and not contacts:
        return {}
    decisions = {
        report_id: DecisionShown(
            outcome, version, organisation or "", decided_at, reason if with_reason else None
        )
        for report_id, outcome, version, reason, organisation, decided_at in session.execute(
            _DECISIONS, {"ids": report_ids}
        )
    }
    return {
        report_id: ProposalsShown(
            agreements.get(report_id, []), contacts.get(report_id, []), decisions.get(report_id)
        )
        for report_id in set(agreements) | set(contacts)
    }
