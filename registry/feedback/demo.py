"""A synthetic half year of lookups, reports and acknowledgements, so monitoring has figures.

Times follow the pilots' pattern: most calls between 17.00 and 09.00.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.core import rules
from registry.core.models import FeedbackAcknowledgement, Lookup, LookupResult, Plan, PlanVersion, User
from registry.core.vocabulary import (
    Action,
    AgreementOutcome,
    CareInvolvement,
    HouseholdType,
    MatchQuality,
    MentalHealthService,
    QueryKind,
    ReportMode,
    Responder,
    Role,
    ViolenceType,
)
from registry.reports import operations as reports

_HOURS = [0, 1, 2, 3, 7, 10, 13, 15, 17, 18, 19, 20, 21, 22, 23, 23, 22, 21, 20, 19, 2, 1]
_NARRATIVES = [
    "Synthetisch: buren belden over geschreeuw. Afspraken gevolgd, kinderen naar tante.",
    "Synthetisch: telefonisch advies gegeven, geen inzet ter plaatse nodig.",
    "Synthetisch: pleger aangehouden, tijdelijk huisverbod gestart.",
]

# the five core questions, as the control room answers some of them at night (registry/meldingen);
# by the report's number, not the random generator, so the rest of the demo stays as it was
_ASSESSMENTS: list[dict[str, str] | None] = [
    {
        "happened": "Synthetisch: buren hoorden geschreeuw; moeder zegt dat het de eerste keer was.",
        "safe_now": "Synthetisch: vader is vertrokken, moeder en kinderen blijven thuis; tante komt.",
    },
    None,
    {"needed_now": "Synthetisch: morgen contact met moeder over een veilige plek."},
]


def create_demo_reports(
    session: Session, responders: list[User], registrant: User, timezone: str, seed: int = 11
) -> int:
    rng = random.Random(seed)
    zone = ZoneInfo(timezone)
    now = datetime.now(zone)
    versions = session.execute(select(Plan, PlanVersion).join(PlanVersion, rules.is_current_version())).all()
    count = 0
    for index in range(60):
        plan, version = rng.choice(versions)
        user = rng.choice(responders)
        day = now - timedelta(days=rng.randint(1, 182))
        occurred = day.replace(hour=rng.choice(_HOURS), minute=rng.randint(0, 59), second=0, microsecond=0)
        lookup = Lookup(
            id=uuid.uuid4(),
            user_id=user.id,
            organisation_id=user.organisation_id,
            role=Role.RESPONDER,
            incident_ref=f"DEMO-{index:04d}",
            query_kind=rng.choice(QueryKind.searched()),
            performed_at=occurred + timedelta(minutes=2),
            match_count=1,
            results=[
                LookupResult(
                    plan_id=plan.id,
                    plan_version_id=version.id,
                    match_on="address",
                    quality=MatchQuality.EXACT,
                    score=1.0,
                )
            ],
        )
        session.add(lookup)
        session.flush()
        if rng.random() < 0.15:
            continue  # a lookup without a report
        args = {
            "plan_id": plan.id,
            "lookup_id": lookup.id,
            "incident_ref": lookup.incident_ref,
            "occurred_at": occurred,
            "mode": rng.choice(ReportMode.codes()),
            "responders": sorted(
                rng.sample(
                    [Responder.POLICE, Responder.CIT, Responder.YOUTH_PROTECTION, Responder.VEILIG_THUIS],
                    rng.randint(1, 2),
                )
            ),
            "violence_type": rng.choice([*ViolenceType.codes()[:3], None]),
            "household_type": rng.choice([*HouseholdType.codes(), None]),
            "care_involvement": rng.choice([*CareInvolvement.codes(), None]),
            "mental_health_service": rng.choice([*MentalHealthService.codes(), None]),
            "agreements": [
                {
                    "agreement_id": a.id,
                    "outcome": rng.choice(
                        3 * [AgreementOutcome.FOLLOWED]
                        + [AgreementOutcome.NOT_FOLLOWED, AgreementOutcome.NOT_APPLICABLE]
                    ),
                    "note": "",
                }
                for a in version.agreements
            ],
            "actions": rng.sample(list(Action.codes()[:5]), rng.randint(0, 2)),
            "narrative": rng.choice(_NARRATIVES),
            "assessment": _ASSESSMENTS[index % len(_ASSESSMENTS)],
        }
        report, _replayed = reports.create_report(session, user, args, None, reports.fingerprint(str(index)))
        count += 1
        if (now - occurred).days > 3:
            acknowledged = occurred + timedelta(hours=rng.randint(10, 60))
            session.add(
                FeedbackAcknowledgement(
                    organisation_id=plan.owner_organisation_id,
                    report_id=report.id,
                    user_id=registrant.id,
                    note="Synthetisch: gebeld met de moeder.",
                    acknowledged_at=acknowledged,
                )
            )
    session.flush()
    return count
