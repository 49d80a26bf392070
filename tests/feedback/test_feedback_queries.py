"""The inbox reads its items in a fixed number of queries: one organisation with 2 open items and
one with 25 cost the same number of SQL statements, on the page, in the API and on the
coordinator's late list. (An organisation with 500 open items once waited seconds for its inbox:
several queries per item.) And the audit row of every list names each item it showed.

Counts statements, never time: a slow machine does not fail this, a query per item does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from registry.core.db import db as database
from registry.core.models import AuditEntry, Organisation, User
from tests.feedback.conftest import People, amsterdam, clock_at, report_body

MONDAY_MORNING = amsterdam(2026, 3, 16, 10, 0)
THURSDAY_MORNING = amsterdam(2026, 3, 19, 9, 0)  # everything of Monday is late by then


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app sends while the block runs."""
    statements: list[str] = []
    engine = app.extensions["samenop.engine"]

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.fixture
def open_items_for(
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., dict[str, Any]],
    post_report: Callable[..., Any],
) -> Callable[..., int]:
    """Give the owner's organisation open items of every kind on `plans` plans of its own, on
    Monday morning: per plan `reports` reports (every other one amended, by either control room)
    and one lookup that got no report. -> the number of items."""

    def make(owner: User, plans: int, reports: int) -> int:
        with clock_at(MONDAY_MORNING):
            for number in range(plans):
                plan = create_plan(owner=owner, title=f"Gezin {owner.username} {number}")
                for index in range(reports):
                    responder = people.responder if index % 2 else people.other_responder
                    lookup = look_up(plan, responder=responder, incident_ref=f"P-{number}-{index}")
                    created = post_report(report_body(lookup, incident_ref=f"P-{number}-{index}"), responder)
                    assert created.status_code == 201, created.get_data(as_text=True)
                    if index % 2 == 0:
                        amended = client.post(
                            f"/api/v1/reports/{created.get_json()['id']}/amendments",
                            json={"note": "De tante heeft de kinderen opgehaald."},
                            headers=auth_headers(responder),
                        )
                        assert amended.status_code == 201
                look_up(plan, incident_ref=f"P-{number}-zonder-inzet")
        return plans * (reports + 1)

    return make


def test_the_number_of_queries_does_not_grow_with_the_items(
    app: Flask,
    make_org: Callable[..., Organisation],
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
    web_login: Callable[[FlaskClient, User], Any],
    open_items_for: Callable[..., int],
) -> None:
    # Given a wijkteam with 2 open items (1 plan) and one with 25 (5 plans), each item late
    small = make_user(roles=("registrant", "coordinator"), org=make_org("Wijkteam Klein"))
    large = make_user(roles=("registrant", "coordinator"), org=make_org("Wijkteam Groot"))
    assert open_items_for(small, plans=1, reports=1) == 2
    assert open_items_for(large, plans=5, reports=4) == 25

    # When each reads its inbox, its feedback through the API and its late list, at one
    # instant (a session or token touched "once a minute" would otherwise add a statement)
    counts: dict[str, dict[str, int]] = {}
    with time_machine.travel(THURSDAY_MORNING.astimezone(UTC), tick=False):
        for name, user, items in (("small", small, 2), ("large", large, 25)):
            browser = app.test_client()
            web_login(browser, user)
            headers = auth_headers(user)
            counts[name] = {}
            for path, headers_, marker in (
                ("/terugkoppeling", {}, 'class="card feedback-item'),
                ("/api/v1/feedback", headers, '"kind"'),
                ("/terugkoppeling/te-laat", {}, "<tr><td>Gezin "),
            ):
                with counting(app) as statements:
                    response = browser.get(path, headers=headers_)
                assert response.status_code == 200, path
                assert response.get_data(as_text=True).count(marker) == items, path
                counts[name][path] = len(statements)

    # Then the large inbox costs exactly as many statements as the small one
    assert counts["large"] == counts["small"]


def test_the_audit_row_of_a_list_names_every_item_shown(
    app: Flask,
    people: People,
    auth_headers: Callable[[User], dict[str, str]],
    web_login: Callable[[FlaskClient, User], Any],
    open_items_for: Callable[..., int],
) -> None:
    # Given a wijkteam with 3 open reports and 1 lookup without report
    assert open_items_for(people.registrant, plans=1, reports=3) == 4
    with clock_at(THURSDAY_MORNING):
        shown = [
            (item["report"] or item["lookup"])["id"]
            for item in app.test_client()
            .get("/api/v1/feedback", headers=auth_headers(people.registrant))
            .get_json()["items"]
        ]
        assert len(shown) == 4

        # When the registrant opens the inbox page
        browser = app.test_client()
        web_login(browser, people.registrant)
        assert browser.get("/terugkoppeling").status_code == 200

    # Then one audit row for the API call and one for the page each name all four items, and the
    # page's the plan whose title its choice of a plan showed
    with app.app_context():
        rows = database.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "feedback_list").order_by(AuditEntry.id)
        ).all()
    assert [(row.username, row.outcome, row.object_type) for row in rows] == [
        (people.registrant.username, "success", "feedback")
    ] * 2
    plan_id = app.test_client().get("/api/v1/feedback", headers=auth_headers(people.registrant))
    assert [row.detail for row in rows] == [
        {"items": shown},
        {"items": shown, "plans": [plan_id.get_json()["items"][0]["plan_id"]]},
    ]
