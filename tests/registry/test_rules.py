"""The rules of registry/core/rules.py: their SQL form (queries over many plans) and their Python form
(one loaded plan) give the same answer for every plan, and the answers are the ones the practice
expects."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.core import rules
from registry.core.models import Lookup, Melding, Organisation, Plan, PlanShare, PlanVersion, Report, User

TODAY = date(2026, 12, 7)


def _plan(session: Session, owner_id: int, status: str, valid_from: date, valid_until: date) -> Plan:
    plan = Plan(
        id=uuid.uuid4(),
        owner_organisation_id=owner_id,
        status=status,
        current_version=2,
        valid_until=valid_until,
    )
    session.add(plan)
    session.flush()
    # version 1 held from long ago; version 2 is current, with the validity under test
    for number, start in ((1, TODAY - timedelta(days=100)), (2, valid_from)):
        session.add(
            PlanVersion(
                plan_id=plan.id, version=number, title=f"v{number}", valid_from=start,
                valid_until=valid_until, owner_name="Synthetisch", owner_phone="0201234567",
            )
        )  # fmt: skip
    session.flush()
    return plan


CASES = {
    # name: (status, valid_from, valid_until, shown today)
    "active, within its validity": ("active", TODAY - timedelta(days=3), TODAY + timedelta(days=30), True),
    "active, its first day": ("active", TODAY, TODAY + timedelta(days=30), True),
    "active, its last day": ("active", TODAY - timedelta(days=3), TODAY, True),
    "active, starts tomorrow": ("active", TODAY + timedelta(days=1), TODAY + timedelta(days=30), False),
    "active, ended yesterday": ("active", TODAY - timedelta(days=30), TODAY - timedelta(days=1), False),
    "withdrawn": ("withdrawn", TODAY - timedelta(days=3), TODAY + timedelta(days=30), False),
    "expired": ("expired", TODAY - timedelta(days=30), TODAY - timedelta(days=1), False),
}


@pytest.fixture
def plans(db: Session, make_org: Any) -> dict[str, Plan]:
    owner = make_org("Wijkteam Regels")
    made = {name: _plan(db, owner.id, *case[:3]) for name, case in CASES.items()}
    db.commit()
    return made


def test_shown_to_responders_in_sql_and_in_python_agree_with_the_practice(db: Session, plans) -> None:
    shown_sql = set(
        db.scalars(
            select(Plan.id)
            .join(PlanVersion, rules.is_current_version())
            .where(rules.shown_to_responders(TODAY))
        )
    )
    for name, plan in plans.items():
        expected = CASES[name][3]
        assert (plan.id in shown_sql) is expected, name
        assert rules.is_shown_to_responders(plan, plan.current, TODAY) is expected, name


def test_a_version_that_is_not_the_current_one_is_never_shown(db: Session, plans) -> None:
    plan = plans["active, within its validity"]
    old = db.scalars(
        select(PlanVersion).where(PlanVersion.plan_id == plan.id, PlanVersion.version == 1)
    ).one()

    assert plan.current.version == 2
    assert rules.is_shown_to_responders(plan, old, TODAY) is False


def test_the_index_holds_every_active_plan_also_before_its_first_day(db: Session, plans) -> None:
    indexed = set(
        db.scalars(
            select(Plan.id)
            .join(PlanVersion, rules.is_current_version())
            .where(rules.indexed_for_responders())
        )
    )
    assert indexed == {plan.id for name, plan in plans.items() if CASES[name][0] == "active"}


def test_visible_to_an_organisation_in_sql_and_in_python_agree(db: Session, plans, make_org: Any) -> None:
    partner = make_org("Jeugdbescherming Regels", kind="youth_protection")
    stranger = make_org("Wijkteam Elders")
    shared = plans["withdrawn"]
    db.add(PlanShare(plan_id=shared.id, organisation_id=partner.id))
    db.commit()
    db.refresh(shared)
    owner_id = shared.owner_organisation_id

    for organisation_id, expected in (
        (owner_id, set(p.id for p in plans.values())),
        (partner.id, {shared.id}),
        (stranger.id, set()),
    ):
        assert set(db.scalars(select(Plan.id).where(rules.visible_to(organisation_id)))) == expected
        among = {
            plan.id
            for plan in plans.values()
            if db.scalars(
                select(Plan.id).where(Plan.id == plan.id, rules.visible_among(organisation_id))
            ).first()
        }
        assert among == expected
        assert {p.id for p in plans.values() if rules.is_visible_to(p, organisation_id)} == expected


# --- counted for a region (the taakgroep's Monitoring) ---------------------------------------------


def _report(session: Session, user: User, plan: Plan | None, ref: str) -> Report:
    moment = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
    melding = Melding(incident_ref=ref, incident_key=rules.melding_key_of(ref), occurred_at=moment)
    session.add(melding)
    session.flush()
    report = Report(
        melding_id=melding.id, plan_id=plan.id if plan else None, incident_ref=ref, occurred_at=moment,
        mode="phone_advice", responders=["police"], feedback_due=TODAY, created_by_id=user.id,
        organisation_id=user.organisation_id,
    )  # fmt: skip
    session.add(report)
    session.flush()
    return report


def test_counted_for_a_region_follows_who_reported_and_who_owns_the_plan(
    db: Session, make_org: Any, make_user: Any
) -> None:
    # Given region Noord (its police and a wijkteam that owns a plan) and region Twente (its
    # police, and a wijkteam there that owns a plan)
    noord_police, noord_team = make_org("Politie R", kind="police"), make_org("Wijkteam R")
    twente_police = make_org("Politie T", kind="police", region="Twente")
    twente_team = make_org("Wijkteam T", region="Twente")
    in_noord, in_twente = make_user(("responder",), noord_police), make_user(("responder",), twente_police)
    plan_noord = _plan(db, noord_team.id, "active", TODAY, TODAY + timedelta(days=30))
    plan_twente = _plan(db, twente_team.id, "active", TODAY, TODAY + timedelta(days=30))
    made = [
        _report(db, in_noord, None, "N-1"),  # recorded by Noord's police
        _report(db, in_noord, plan_twente, "N-2"),  # recorded in Noord, on Twente's plan
        _report(db, in_twente, plan_noord, "T-1"),  # recorded in Twente, on a plan Noord owns
        _report(db, in_twente, None, "T-2"),  # Twente's alone
        _report(db, in_twente, plan_twente, "T-3"),
    ]
    for user, ref in ((in_noord, "N-9"), (in_twente, "T-9")):
        db.add(Lookup(user_id=user.id, organisation_id=user.organisation_id, role="responder",
                      incident_ref=ref, query_kind="address"))  # fmt: skip
    db.commit()
    assert len(made) == 5
    regions = {}
    for name, organisation in (("Noord", noord_police), ("Twente", twente_police)):
        loaded = db.get(Organisation, organisation.id)
        assert loaded is not None
        assert loaded.region_id is not None
        regions[name] = loaded.region_id

    def counted(region: str) -> set[str]:
        condition = rules.report_counts_for_region(regions[region])
        return set(db.scalars(select(Report.incident_ref).where(condition)))

    # Then a region counts what its organisations recorded and what is on a plan one of them
    # owns, whoever recorded it; nothing else
    assert counted("Noord") == {"N-1", "N-2", "T-1"}
    assert counted("Twente") == {"N-2", "T-1", "T-2", "T-3"}
    # and the lookups its organisations made
    for region, ref in (("Noord", "N-9"), ("Twente", "T-9")):
        condition = rules.lookup_counts_for_region(regions[region])
        assert set(db.scalars(select(Lookup.incident_ref).where(condition))) == {ref}
