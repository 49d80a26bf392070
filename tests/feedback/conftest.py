"""Fixtures for reports and feedback: the organisations around one family, and the steps of the
loop (a plan, a lookup that finds it, a report on it) through the real API."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from registry.core.db import db as database
from registry.core.models import (
    AuditEntry,
    FeedbackAcknowledgement,
    Organisation,
    Report,
    ReportAgreement,
    ReportAmendment,
    User,
)
from tests.registry.plan_data import address, plan_body

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
OUTCOMES = ("followed", "not_followed", "not_applicable")
NARRATIVE = "Vader aangehouden; kinderen opgevangen door de tante. Moeder wil morgen gebeld worden."


def clock_at(moment: datetime) -> time_machine.travel:
    """The clock set to `moment` (and ticking on). Given in UTC on purpose: time_machine would
    otherwise switch the process to the destination's zone, and servers run in UTC."""
    return time_machine.travel(moment.astimezone(UTC), tick=True)


def amsterdam(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A wall-clock moment in Amsterdam, as the users think of it."""
    return datetime(year, month, day, hour, minute, second, tzinfo=AMSTERDAM)


class People:
    """Who is involved: the owning wijkteam (a registrant and a coordinator), a partner it shares
    the plan with, a stranger organisation, and two control rooms. Each is made on first use."""

    def __init__(self, make_org: Callable[..., Organisation], make_user: Callable[..., User]) -> None:
        self._make_org = make_org
        self._make_user = make_user

    @cached_property
    def owner_org(self) -> Organisation:
        return self._make_org("Wijkteam Oost")

    @cached_property
    def partner_org(self) -> Organisation:
        return self._make_org("Jeugdbescherming Gelderland", kind="youth_protection")

    @cached_property
    def stranger_org(self) -> Organisation:
        return self._make_org("Wijkteam West")

    @cached_property
    def police_org(self) -> Organisation:
        return self._make_org("Meldkamer Politie Noord", kind="police")

    @cached_property
    def other_police_org(self) -> Organisation:
        return self._make_org("Meldkamer Politie Zuid", kind="police")

    @cached_property
    def registrant(self) -> User:
        return self._make_user(roles=("registrant",), org=self.owner_org)

    @cached_property
    def coordinator(self) -> User:
        return self._make_user(roles=("coordinator",), org=self.owner_org)

    @cached_property
    def partner_registrant(self) -> User:
        return self._make_user(roles=("registrant",), org=self.partner_org)

    @cached_property
    def stranger_registrant(self) -> User:
        return self._make_user(roles=("registrant",), org=self.stranger_org)

    @cached_property
    def stranger_coordinator(self) -> User:
        return self._make_user(roles=("coordinator",), org=self.stranger_org)

    @cached_property
    def responder(self) -> User:
        return self._make_user(roles=("responder",), org=self.police_org)

    @cached_property
    def other_responder(self) -> User:
        return self._make_user(roles=("responder",), org=self.other_police_org)


@pytest.fixture
def people(make_org: Callable[..., Organisation], make_user: Callable[..., User]) -> People:
    return People(make_org, make_user)


_house_numbers = itertools.count(100)


@pytest.fixture
def create_plan(
    client: FlaskClient, auth_headers: Callable[[User], dict[str, str]], people: People
) -> Callable[..., dict[str, Any]]:
    """POST /plans as the owning registrant, at an address of its own (so a lookup finds only it)."""

    def create(owner: User | None = None, **overrides: Any) -> dict[str, Any]:
        overrides.setdefault("addresses", [address(house_number=next(_house_numbers))])
        response = client.post(
            "/api/v1/plans", json=plan_body(**overrides), headers=auth_headers(owner or people.registrant)
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        return dict(response.get_json())

    return create


@pytest.fixture
def share_plan(
    client: FlaskClient, auth_headers: Callable[[User], dict[str, str]], people: People
) -> Callable[[dict[str, Any], Organisation], None]:
    def share(plan: dict[str, Any], organisation: Organisation) -> None:
        response = client.post(
            f"/api/v1/plans/{plan['id']}/shares",
            json={"organisation": organisation.name},
            headers=auth_headers(people.registrant),
        )
        assert response.status_code == 201, response.get_data(as_text=True)

    return share


@pytest.fixture
def look_up(
    client: FlaskClient, auth_headers: Callable[[User], dict[str, str]], people: People
) -> Callable[..., dict[str, Any]]:
    """POST /lookups on the plan's first address, as the control room does; must find the plan."""

    def find(plan: dict[str, Any], responder: User | None = None, incident_ref: str = "P-2026-0001") -> Any:
        where = plan["addresses"][0]
        response = client.post(
            "/api/v1/lookups",
            json={
                "incident_ref": incident_ref,
                "address": {"postcode": where["postcode"], "house_number": where["house_number"]},
            },
            headers=auth_headers(responder or people.responder),
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert [match["plan"]["id"] for match in body["matches"]] == [plan["id"]]
        return body

    return find


def report_body(
    lookup: dict[str, Any], occurred_at: datetime | str | None = None, **overrides: Any
) -> dict[str, Any]:
    """A complete report on the plan the lookup showed: every agreement judged, one outcome each;
    it happened an hour ago unless `occurred_at` says otherwise (a datetime, or text as sent)."""
    shown = lookup["matches"][0]["plan"]
    moment = occurred_at or datetime.now(AMSTERDAM) - timedelta(hours=1)
    body: dict[str, Any] = {
        "plan_id": shown["id"],
        "lookup_id": lookup["lookup_id"],
        "incident_ref": "P-2026-0001",
        "occurred_at": moment if isinstance(moment, str) else moment.isoformat(),
        "mode": "on_site_intervention",
        "responders": ["police", "cit"],
        "violence_type": "partner_violence",
        "household_type": "minor_children",
        "care_involvement": "informed_by_phone",
        "mental_health_service": "not_needed",
        "agreements": [
            {
                "agreement_id": agreement["id"],
                "outcome": OUTCOMES[index % 3],
                "note": f"Toelichting bij afspraak {agreement['position']}",
            }
            for index, agreement in enumerate(shown["agreements"])
        ],
        # an ordinary report, due on the next working day: an arrest would make it a spoedmelding
        # (tests/feedback/test_spoed.py)
        "actions": ["children_with_network", "vt_report_filed"],
        "narrative": NARRATIVE,
    }
    body.update(overrides)
    return body


@pytest.fixture
def post_report(
    client: FlaskClient, auth_headers: Callable[[User], dict[str, str]], people: People
) -> Callable[..., Any]:
    """POST /reports; returns the response (tests look at its status themselves)."""

    def post(body: dict[str, Any], responder: User | None = None, key: str | None = None) -> Any:
        headers = auth_headers(responder or people.responder)
        if key is not None:
            headers["Idempotency-Key"] = key
        return client.post("/api/v1/reports", json=body, headers=headers)

    return post


@pytest.fixture
def report_on(
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., dict[str, Any]],
    post_report: Callable[..., Any],
) -> Callable[..., tuple[dict[str, Any], dict[str, Any]]]:
    """The whole loop up to the report: a plan (made unless given), a lookup, a report. -> (plan, report)"""

    def make(
        plan: dict[str, Any] | None = None, occurred_at: datetime | None = None, **overrides: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        plan = plan or create_plan()
        response = post_report(report_body(look_up(plan), occurred_at, **overrides))
        assert response.status_code == 201, response.get_data(as_text=True)
        return plan, dict(response.get_json())

    return make


def stored(app: Flask) -> dict[str, int]:
    """Row counts of everything a report, an amendment or an acknowledgement stores."""
    with app.app_context():
        session = database.session
        counts = {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Report, ReportAgreement, ReportAmendment, FeedbackAcknowledgement)
        }
        counts["audited reports"] = (
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                # the row of each report or amendment stored (replays and refusals have their own)
                .where(
                    AuditEntry.action.in_(("report_create", "report_amend")), AuditEntry.outcome == "success"
                )
            )
            or 0
        )
        return counts
