"""The rules of registry/core/rules.py: their SQL form (queries over many plans) and their Python form
(one loaded plan) give the same answer for every plan, and the answers are the ones the practice
expects."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.core import rules
from registry.core.models import Plan, PlanShare, PlanVersion

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
