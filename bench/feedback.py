"""The feedback inbox ("Terugkoppeling") of an organisation with exactly 500 open items.

Before the server starts, a fresh organisation takes over 100 synthetic plans that no lookup or
report ever touched, and 500 unacknowledged reports on them are inserted with SQLAlchemy Core
(as bench/synthetic.py does): 5 per plan, each with the plan's agreements marked. Lookups
without a report only become items after 12 hours, so within one run the inbox holds exactly
the 500 reports. Measured: the web page (logged in through the form) and GET /api/v1/feedback.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from bench import synthetic
from bench.load import Request, Workload
from bench.writes import report_body

OPEN_ITEMS = 500
FEEDBACK_PLANS = 100
PAGE = "/terugkoppeling"
API = "/api/v1/feedback"
# one per item: the card on the page, the "kind" key in the JSON ("query_kind" does not match)
PAGE_MARKER = b'class="card feedback-item'
API_MARKER = b'"kind"'


def seed_open_reports(
    url: str,
    organisation: str,
    reporter: str,
    exclude: Iterable[str],
    avoid: Iterable[str],
    seed: int,
    items: int = OPEN_ITEMS,
    plans: int = FEEDBACK_PLANS,
) -> dict[str, Any]:
    """Give `organisation` `plans` untouched synthetic plans and `items` open reports on them,
    recorded by the user `reporter`. Plans in `exclude` are never taken (the benchmark reports
    on them), those in `avoid` (it looks them up) only when there are not enough others."""
    from sqlalchemy import exists, insert, select, update

    from registry.core.db import engine_for
    from registry.core.models import (
        Agreement,
        ClosedDay,
        LookupResult,
        Melding,
        Organisation,
        Plan,
        PlanShare,
        PlanVersion,
        Report,
        ReportAgreement,
        User,
    )
    from registry.core.rules import melding_key_of
    from registry.core.vocabulary import PlanStatus
    from registry.feedback.working_days import feedback_due

    started = time.perf_counter()
    rng = random.Random(seed)
    skip = {uuid.UUID(plan_id) for plan_id in exclude}
    later = {uuid.UUID(plan_id) for plan_id in avoid}
    engine = engine_for(url)
    with engine.begin() as connection:
        organisation_id = connection.scalar(select(Organisation.id).where(Organisation.name == organisation))
        reporter_id, reporter_org = connection.execute(
            select(User.id, User.organisation_id).where(User.username == reporter)
        ).one()
        synthetic_org = (
            select(Organisation.id).where(Organisation.name == synthetic.ORGANISATION_NAME).scalar_subquery()
        )
        candidates = connection.execute(
            select(Plan.id, PlanVersion.id)
            .join(
                PlanVersion, (PlanVersion.plan_id == Plan.id) & (PlanVersion.version == Plan.current_version)
            )
            .where(Plan.owner_organisation_id == synthetic_org, Plan.status == PlanStatus.ACTIVE)
            .where(~exists().where(LookupResult.plan_id == Plan.id))
            .where(~exists().where(Report.plan_id == Plan.id))
            .where(~exists().where(PlanShare.plan_id == Plan.id))
            .order_by(Plan.id)  # random uuids: a random choice, and the next run takes the next ones
            .limit(plans + len(skip) + len(later))
        ).all()
        chosen = sorted((row for row in candidates if row[0] not in skip), key=lambda row: row[0] in later)[
            :plans
        ]
        if len(chosen) < plans:
            raise click.ClickException(
                f"only {len(chosen)} untouched synthetic plans left for the feedback inbox: "
                "generate more households, or use a fresh --dir"
            )
        connection.execute(
            update(Plan)
            .where(Plan.id.in_([plan_id for plan_id, _version in chosen]))
            .values(owner_organisation_id=organisation_id)
        )
        agreements: dict[int, list[int]] = {}
        for agreement_id, version_id in connection.execute(
            select(Agreement.id, Agreement.plan_version_id)
            .where(Agreement.plan_version_id.in_([version_id for _plan, version_id in chosen]))
            .order_by(Agreement.position)
        ):
            agreements.setdefault(version_id, []).append(agreement_id)
        closed = set(connection.scalars(select(ClosedDay.day_on)))
        now = datetime.now(UTC)
        reports: list[dict[str, Any]] = []
        meldingen: list[dict[str, Any]] = []
        outcomes: list[dict[str, Any]] = []
        for number in range(items):
            plan_id, version_id = chosen[number % len(chosen)]
            # the last ten days: some items are past their due day, as in a real inbox
            occurred = now - timedelta(minutes=rng.randint(30, 10 * 24 * 60))
            body = report_body(
                rng, str(plan_id), f"BENCH-FB-{number:05d}", occurred, agreements.get(version_id, [])
            )
            report_id = uuid.uuid4()  # new on every run, also on a reused database
            melding_id = uuid.uuid4()  # each report its own melding (its own meldingnummer)
            meldingen.append(
                {
                    "id": melding_id,
                    "incident_ref": body["incident_ref"],
                    "incident_key": melding_key_of(body["incident_ref"]),
                    "occurred_at": occurred,
                    "plan_id": plan_id,
                    "created_at": occurred + timedelta(minutes=20),
                }
            )
            reports.append(
                {
                    "id": report_id,
                    "melding_id": melding_id,
                    "plan_id": plan_id,
                    "plan_version_id": version_id,
                    "lookup_id": None,
                    "incident_ref": body["incident_ref"],
                    "occurred_at": occurred,
                    "mode": body["mode"],
                    "responders": body["responders"],
                    "violence_type": body["violence_type"],
                    "household_type": body["household_type"],
                    "care_involvement": body["care_involvement"],
                    "mental_health_service": body["mental_health_service"],
                    "actions": body["actions"],
                    "narrative": body["narrative"],
                    "feedback_due": feedback_due(occurred, closed),
                    "created_by_id": reporter_id,
                    "organisation_id": reporter_org,
                    "created_at": occurred + timedelta(minutes=20),
                    "idempotency_key": None,
                    "request_hash": None,
                }
            )
            outcomes.extend({"report_id": report_id, **row} for row in body["agreements"])
        connection.execute(insert(Melding), meldingen)
        connection.execute(insert(Report), reports)
        if outcomes:
            connection.execute(insert(ReportAgreement), outcomes)
    engine.dispose()
    return {
        "organisation": organisation,
        "plans": len(chosen),
        "open_reports": items,
        "seconds": round(time.perf_counter() - started, 2),
    }


class Inbox(Workload):
    """GET the inbox (web page or JSON); an answer with another number of items is "other"."""

    timeout = 120.0  # 500 items are a heavy page

    def __init__(self, path: str, headers: dict[str, str], marker: bytes, expected: int) -> None:
        self.path = path
        self.headers = headers
        self.marker = marker
        self.expected = expected

    def next_request(self, client: int, rng: random.Random) -> Request:
        return Request("GET", self.path, None, self.headers, f"GET {self.path}")

    def digest(self, client: int, request: Request, status: int, data: bytes) -> Any:
        return data.count(self.marker) if status == 200 else data[:300]

    def verdict(self, request: Request, status: int, digest: Any) -> str:
        if status != 200:
            return "error"
        return "ok" if digest == self.expected else "other"


def page(cookie: str, expected: int = OPEN_ITEMS) -> Inbox:
    return Inbox(PAGE, {"Cookie": cookie}, PAGE_MARKER, expected)


def api(token: str, expected: int = OPEN_ITEMS) -> Inbox:
    return Inbox(API, {"Authorization": f"Bearer {token}"}, API_MARKER, expected)
