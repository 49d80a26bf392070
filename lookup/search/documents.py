"""What the index holds, read from the database: one document per address and per person of
every active plan's current version (registry.core.rules says which), folded by lookup.normalise, and
the change feed (registry.core.models.PlanChange) that says which plans to index again."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.orm import Session

from lookup import normalise
from registry.core import rules
from registry.core.models import Address, Person, Plan, PlanChange, PlanVersion

# the stored birth date of a person registered without one
NO_DATE = "none"

# --- the change feed ----------------------------------------------------------------------------

# the position of the change feed, asked before every search: prebuilt, run on the connection
_LATEST_CHANGE = select(func.max(cast(Table, PlanChange.__table__).c.id))


def latest_change(session: Session) -> int:
    """The id of the newest row in the change feed (0 for none)."""
    return session.connection().execute(_LATEST_CHANGE).scalar() or 0


def unapplied(session: Session, applied: int) -> tuple[int, datetime | None]:
    """The changes after the one applied: how many, and when the oldest was committed."""
    count, oldest = session.execute(
        select(func.count(), func.min(PlanChange.changed_at)).where(PlanChange.id > applied)
    ).one()
    return int(count), oldest


def changes_after(session: Session, applied: int, limit: int) -> Sequence[tuple[int, uuid.UUID]]:
    """The next `limit` changes after the one applied, in order: (change id, plan id)."""
    return session.execute(
        select(PlanChange.id, PlanChange.plan_id)
        .where(PlanChange.id > applied)
        .order_by(PlanChange.id)
        .limit(limit)
    ).all()


# --- the documents, read with two lean statements -----------------------------------------------


def _indexed(statement: Any) -> Any:
    return statement.join(PlanVersion, rules.is_current_version()).where(rules.indexed_for_responders())


_ADDRESSES = _indexed(
    select(
        Plan.id, Address.id, Address.house_number, Address.house_number_suffix, Address.street, Address.city
    ).select_from(Plan)
).join(Address, Address.plan_version_id == PlanVersion.id)
_PERSONS = _indexed(
    select(
        Plan.id, Person.id, Person.first_name, Person.surname_prefix, Person.surname, Person.birth_date
    ).select_from(Plan)
).join(Person, Person.plan_version_id == PlanVersion.id)
_SOME_PLANS = Plan.id.in_(bindparam("plan_ids", expanding=True))


def address_document(
    plan_id: uuid.UUID, row_id: int, number: int, suffix: str, street: str, city: str
) -> dict[str, Any]:
    folded = normalise.street(street)
    return {
        "plan_id": str(plan_id),
        "kind": "address",
        "row_id": row_id,
        "suffix": suffix,
        "street": folded,
        "street_number": " ".join(f"{word}:{number}" for word in folded.split()),
        "city": normalise.city(city),
    }


def person_document(
    plan_id: uuid.UUID, row_id: int, first: str, prefix: str, surname: str, born: date | None
) -> dict[str, Any]:
    name = normalise.stored_name(first, prefix, surname)
    return {
        "plan_id": str(plan_id),
        "kind": "person",
        "row_id": row_id,
        "surname": name.core,
        "prefix": name.prefix,
        "first_name": name.first,
        "name_pair": " ".join(
            f"{given}:{word}" for given in name.first.split() for word in name.core.split()
        ),
        "undated": "" if born else name.core,
        "birth_date": born.isoformat() if born else NO_DATE,
    }


def documents(session: Session, plan_ids: Iterable[uuid.UUID] | None = None) -> Iterator[dict[str, Any]]:
    """The documents of every active plan's current version (or only of these plans)."""
    params: dict[str, Any] = {}
    addresses, persons = _ADDRESSES, _PERSONS
    if plan_ids is not None:
        params = {"plan_ids": list(plan_ids)}
        addresses, persons = addresses.where(_SOME_PLANS), persons.where(_SOME_PLANS)
    stream = {"yield_per": 5000}
    for row in session.execute(addresses.execution_options(**stream), params):
        yield address_document(*row)
    for row in session.execute(persons.execution_options(**stream), params):
        yield person_document(*row)


def document_count(session: Session) -> int:
    """How many documents a rebuild writes: the length of its progress bar."""
    return sum(
        session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        for statement in (_ADDRESSES, _PERSONS)
    )
