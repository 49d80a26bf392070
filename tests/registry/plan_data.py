"""Synthetic plan bodies for the plans API: invented families, addresses and phone numbers only."""

from __future__ import annotations

import copy
import uuid
from datetime import date, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from registry.core.db import db as database
from registry.core.models import (
    Address,
    Agreement,
    AuditEntry,
    Contact,
    Measure,
    Person,
    Plan,
    PlanShare,
    PlanVersion,
)
from registry.core.timeutil import local_today

# the app's default SAMENOP_TIMEZONE: "today" for validity is the Dutch calendar day
TIMEZONE = "Europe/Amsterdam"


def today() -> date:
    return local_today(TIMEZONE)


def address(**overrides: Any) -> dict[str, Any]:
    row = {
        "postcode": "9401 AB",
        "house_number": 14,
        "house_number_suffix": "",
        "street": "Verzonnenstraat",
        "city": "Testdorp",
        "role": "residence",
    }
    row.update(overrides)
    return row


def person(**overrides: Any) -> dict[str, Any]:
    row = {
        "first_name": "Noor",
        "surname_prefix": "van der",
        "surname": "Testveen",
        "birth_date": "1990-01-02",
        "role": "victim",
        "phone": "06-12345678",
        "do_not_inform": False,
    }
    if overrides.get("do_not_inform") and "do_not_inform_reason" not in overrides:
        row["do_not_inform_reason"] = "Zoekt het gezin."
    if overrides.get("role") == "perpetrator" and not overrides.get("do_not_inform"):
        row.setdefault("perpetrator_may_know", True)
    row.update(overrides)
    return row


def agreement(**overrides: Any) -> dict[str, Any]:
    row = {
        "trigger": "Melding geluidsoverlast op dit adres",
        "action": "Direct ter plaatse (prio 1)",
        "actor": "police",
    }
    row.update(overrides)
    return row


def contact(**overrides: Any) -> dict[str, Any]:
    row = {
        "name": "Tante Fictief",
        "relation": "tante",
        "phone": "06-87654321",
        "available": "dag en nacht",
        # 24/7: counts for "one is none" (reachable at night)
        "availability": [{"days": [1, 2, 3, 4, 5, 6, 7], "from": "00:00", "to": "24:00"}],
        "knows_plan": True,
        # tested last week (no reminder to test it), as of the day it is made: tests that
        # travel back in time make their plans there
        "tested_on": (today() - timedelta(days=7)).isoformat(),
    }
    row.update(overrides)
    return row


def measure(**overrides: Any) -> dict[str, Any]:
    """A tijdelijk huisverbod of ten days, started yesterday."""
    row = {
        "kind": "temporary_restraining_order",
        "starts_on": (today() - timedelta(days=1)).isoformat(),
        "ends_on": (today() + timedelta(days=9)).isoformat(),
        "note": "",
    }
    row.update(overrides)
    return row


def window(days: list[int], start: str, end: str) -> dict[str, Any]:
    return {"days": days, "from": start, "to": end}


_BASE: dict[str, Any] = {
    "title": "Gezin Voorbeeld",
    "summary": "Synthetisch handelingskader voor tests.",
    "family_profile": "intimate_terror",  # the API's older single field: [intimate_terror]
    "risk_signals": ["weapons", "threat_to_kill"],
    "owner": {"name": "J. Beschermer", "phone": "088-1234567"},
    "addresses": [address()],
    "persons": [
        person(),
        person(
            first_name="Sam",
            surname_prefix="",
            surname="Testman",
            birth_date="1988-07-15",
            role="perpetrator",
            phone="06-11223344",
            do_not_inform=True,
        ),
    ],  # fmt: skip
    "agreements": [
        agreement(),
        agreement(
            trigger="Vermoeden van huiselijk geweld",
            action="Aanhouden en protocol tijdelijk huisverbod starten",
        ),
        agreement(trigger="Kinderen moeten weg", action="Kinderen naar de tante", actor="network"),
    ],
    "contacts": [
        contact(),
        contact(name="Piketdienst Jeugdbescherming", relation="piket", phone="088-7654321"),
    ],
}


def plan_body(**overrides: Any) -> dict[str, Any]:
    """A valid body for POST /api/v1/plans (two contacts, so no "one is none" warning);
    valid for 60 more days. Keyword arguments replace top-level fields."""
    body = copy.deepcopy(_BASE)
    body["valid_until"] = (today() + timedelta(days=60)).isoformat()
    body["contacts"] = [
        contact(),
        contact(name="Piketdienst Jeugdbescherming", relation="piket", phone="088-7654321"),
    ]
    body.update(copy.deepcopy(overrides))
    return body


def editable(plan: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A plan as the API returned it, ready to PUT back (with its version) after changes."""
    body = copy.deepcopy(plan)
    body.pop("warnings", None)
    body.update(copy.deepcopy(overrides))
    return body


# --- what the database holds ------------------------------------------------------------------


def stored_rows(app: Flask) -> dict[str, int]:
    """Row counts of everything a plan write stores, and the audit rows of successful writes
    (one query, as the property tests call this twice per example)."""
    counts = [
        select(func.count()).select_from(model).scalar_subquery().label(model.__name__)
        for model in (Plan, PlanVersion, Address, Person, Agreement, Contact, Measure, PlanShare)
    ]
    audited = (
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action.in_(("plan_create", "plan_update")), AuditEntry.outcome == "success")
        .scalar_subquery()
        .label("audited writes")
    )
    with app.app_context():
        return dict(database.session.execute(select(*counts, audited)).one()._mapping)


def version_snapshot(app: Flask, plan_id: str, version: int) -> dict[str, Any]:
    """One stored PlanVersion with its rows, as plain values (to compare before and after)."""
    with app.app_context():
        row = database.session.scalars(
            select(PlanVersion).where(
                PlanVersion.plan_id == uuid.UUID(plan_id), PlanVersion.version == version
            )
        ).one()
        columns = ("title", "summary", "valid_from", "valid_until", "family_profiles", "risk_signals",
                   "owner_name", "owner_phone", "created_by_id", "created_at")  # fmt: skip

        def plain(item: Any) -> dict[str, Any]:
            return {column.key: getattr(item, column.key) for column in item.__table__.columns}

        return {
            "id": row.id,
            **{name: getattr(row, name) for name in columns},
            "addresses": [plain(item) for item in row.addresses],
            "persons": [plain(item) for item in row.persons],
            "agreements": [plain(item) for item in row.agreements],
            "contacts": [plain(item) for item in row.contacts],
            "measures": [plain(item) for item in row.measures],
        }


# --- every endpoint on one plan ---------------------------------------------------------------

API = "/api/v1/plans"


def requests_on_plan(
    plan_id: str, share_with: str = "Wijkteam Elders", unshare: str | None = None, version: int = 1
) -> dict[str, tuple[str, str, Any]]:
    """Every plans endpoint that names a plan: (method, path, JSON body) by a readable name."""
    return {
        "read": ("GET", f"{API}/{plan_id}", None),
        "update": ("PUT", f"{API}/{plan_id}", {**plan_body(title="Overgenomen"), "version": version}),
        "withdraw": ("POST", f"{API}/{plan_id}/withdraw", {"reason": "Poging tot intrekken"}),
        "list shares": ("GET", f"{API}/{plan_id}/shares", None),
        "share": ("POST", f"{API}/{plan_id}/shares", {"organisation": share_with}),
        "unshare": ("DELETE", f"{API}/{plan_id}/shares/{unshare or share_with}", None),
    }


PLAN_ENDPOINTS = tuple(requests_on_plan("x"))
