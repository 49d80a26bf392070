"""The feedback inbox ("Terugkoppeling") of an organisation with exactly 500 (or
`--feedback-items`, e.g. 5 000) open items.

Before the server starts, a fresh organisation takes over synthetic plans that no lookup or
report ever touched (100, or one per 5 items), and the open items on them are inserted with
SQLAlchemy Core (as bench/synthetic.py does): one in 20 a lookup without a report (13 hours to
10 days old, so an item already), one in 40 a spoedmelding (an arrest, its deadline 9 hours
after the incident), the rest ordinary reports, each with the plan's agreements marked. Lookups
the benchmark makes itself only become items after 12 hours, so within one run the inbox holds
exactly these.
Measured: the web page (logged in through the form) and GET /api/v1/feedback, a page of 50 at a
time: before measuring, every page is walked once (following "Volgende pagina" and
next_cursor) and counted, and each measured request then asks for one of those pages at random.
"""

from __future__ import annotations

import html
import random
import re
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
ITEMS_PER_PLAN = 5  # 500 items on 100 plans; 5 000 on 1 000
PAGE_SIZE = 50  # registry.feedback.operations.PAGE_SIZE
LOOKUP_EVERY = 20  # one item in 20 a lookup without report
SPOED_EVERY = 40  # one report in 40 a spoedmelding
SPOED_HOURS = 9
PAGE = "/terugkoppeling"
API = "/api/v1/feedback"
# one per item: the card on the page, the "kind" key in the JSON ("query_kind" does not match)
PAGE_MARKER = b'class="card feedback-item'
API_MARKER = b'"kind"'
# where the next page is: the page's link, the API's next_cursor
_PAGE_NEXT = re.compile(rb'href="(/terugkoppeling\?[^"]*cursor=[^"]+)" id="volgende-pagina"')
_API_NEXT = re.compile(rb'"next_cursor": ?"([^"]+)"')


def seed_open_reports(
    url: str,
    organisation: str,
    reporter: str,
    exclude: Iterable[str],
    avoid: Iterable[str],
    seed: int,
    items: int = OPEN_ITEMS,
    plans: int | None = None,
) -> dict[str, Any]:
    """Give `organisation` `plans` untouched synthetic plans and `items` open items on them
    (reports and lookups without report), by the user `reporter`. Plans in `exclude` are never
    taken (the benchmark reports on them), those in `avoid` (it looks them up) only when there
    are not enough others."""
    from sqlalchemy import exists, insert, select, update

    from registry.core.db import engine_for
    from registry.core.models import (
        Agreement,
        ClosedDay,
        Lookup,
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

    plans = plans or max(FEEDBACK_PLANS, -(-items // ITEMS_PER_PLAN))
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
        lookups: list[dict[str, Any]] = []
        results: list[dict[str, Any]] = []
        for number in range(items):
            plan_id, version_id = chosen[number % len(chosen)]
            if number % LOOKUP_EVERY == LOOKUP_EVERY - 1:
                lookup_id = uuid.uuid4()
                lookups.append(
                    {
                        "id": lookup_id,
                        "user_id": reporter_id,
                        "organisation_id": reporter_org,
                        "role": "responder",
                        "incident_ref": f"BENCH-FB-{number:05d}",
                        "query_kind": "address",
                        "performed_at": now - timedelta(minutes=rng.randint(13 * 60, 10 * 24 * 60)),
                        "match_count": 1,
                    }
                )
                results.append(
                    {
                        "lookup_id": lookup_id,
                        "plan_id": plan_id,
                        "plan_version_id": version_id,
                        "match_on": "address",
                        "quality": "exact",
                        "score": 1.0,
                    }
                )
                continue
            # the last ten days: some items are past their due day, as in a real inbox
            occurred = now - timedelta(minutes=rng.randint(30, 10 * 24 * 60))
            body = report_body(
                rng, str(plan_id), f"BENCH-FB-{number:05d}", occurred, agreements.get(version_id, [])
            )
            spoed = number % SPOED_EVERY == 0
            actions = set(body["actions"]) - {"arrest"}
            body["actions"] = sorted({*actions, "arrest"} if spoed else actions)
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
                    "feedback_due_at": occurred + timedelta(hours=SPOED_HOURS) if spoed else None,
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
        if lookups:
            connection.execute(insert(Lookup), lookups)
            connection.execute(insert(LookupResult), results)
    engine.dispose()
    return {
        "organisation": organisation,
        "plans": len(chosen),
        "open_reports": len(reports),
        "open_lookups": len(lookups),
        "open_items": items,
        "seconds": round(time.perf_counter() - started, 2),
    }


class Inbox(Workload):
    """GET a page of the inbox (web page or JSON), one of the pages walked before measuring, at
    random; an answer with another number of items than that page had is "other"."""

    timeout = 120.0

    def __init__(
        self, path: str, headers: dict[str, str], marker: bytes, next_link: re.Pattern[bytes]
    ) -> None:
        self.path = path
        self.headers = headers
        self.marker = marker
        self.next_link = next_link
        self.pages: list[tuple[str, int]] = [(path, -1)]  # (path, items on it); walk() fills it

    def next_request(self, client: int, rng: random.Random) -> Request:
        path, expected = rng.choice(self.pages)
        return Request("GET", path, None, self.headers, f"GET {self.path}", expected)

    def digest(self, client: int, request: Request, status: int, data: bytes) -> Any:
        return data.count(self.marker) if status == 200 else data[:300]

    def verdict(self, request: Request, status: int, digest: Any) -> str:
        if status != 200:
            return "error"
        return "ok" if digest == request.context else "other"

    def following(self, data: bytes) -> str | None:
        """The path of the next page, from a page's answer."""
        found = self.next_link.search(data)
        if found is None:
            return None
        if self.path == API:
            return f"{API}?cursor={found.group(1).decode()}"
        return html.unescape(found.group(1).decode())

    def walk(self, fetch: Any, limit: int = 1000) -> int:
        """Every page once, first to last (fetch(path) -> (status, body)): the pages to measure,
        each with its number of items. -> the number of items on all pages together."""
        pages: list[tuple[str, int]] = []
        path: str | None = self.path
        while path is not None and len(pages) < limit:
            status, data = fetch(path)
            if status != 200:
                raise click.ClickException(f"{path}: answered {status}")
            pages.append((path, data.count(self.marker)))
            path = self.following(data)
        self.pages = pages
        return sum(count for _path, count in pages)


def page(cookie: str) -> Inbox:
    return Inbox(PAGE, {"Cookie": cookie}, PAGE_MARKER, _PAGE_NEXT)


def api(token: str) -> Inbox:
    return Inbox(API, {"Authorization": f"Bearer {token}"}, API_MARKER, _API_NEXT)
