"""Feedback for the plan's owners (and the organisations it is shared with): the API, the inbox
page "Terugkoppeling", lookups that got no report, acknowledgement and the coordinator's list
of late items. Nobody else ever sees a thing.

The clock is set with time_machine: a Friday-night incident (13 March 2026, 23.40) is due on
Monday 16 March and late from Tuesday 17 March 00.00 in Amsterdam.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.core.models import Organisation, User
from tests.conftest import csrf_from
from tests.feedback.conftest import NARRATIVE, People, amsterdam, clock_at, report_body, stored

API = "/api/v1/feedback"
ITEM_FIELDS = {
    "kind", "plan_id", "feedback_due", "overdue", "spoed", "feedback_due_at", "report", "lookup", "melding",
}  # fmt: skip
LOOKUP_FIELDS = {"id", "performed_at", "incident_ref", "query_kind", "organisation", "user"}

FRIDAY_NIGHT = amsterdam(2026, 3, 13, 23, 40)
SATURDAY_MORNING = amsterdam(2026, 3, 14, 9, 0)
DUE = "2026-03-16"  # Monday
LAST_MINUTE_OF_DUE_DAY = amsterdam(2026, 3, 16, 23, 59)
LATE = amsterdam(2026, 3, 17, 0, 0, 30)  # Tuesday, just after Amsterdam midnight


Items = Callable[..., list[dict[str, Any]]]


@pytest.fixture
def feedback_of(client: FlaskClient, auth_headers: Callable[[User], dict[str, str]]) -> Items:
    """GET /feedback as a user (a fresh token each time: the clock moves in these tests)."""

    def items(user: User, due: str | None = None) -> list[dict[str, Any]]:
        response = client.get(API, query_string={"due": due} if due else None, headers=auth_headers(user))
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert set(body) == {"items", "next_cursor"}
        assert body["next_cursor"] is None  # one page: fewer items than the default limit
        return list(body["items"])

    return items


@pytest.fixture
def acknowledge(client: FlaskClient, auth_headers: Callable[[User], dict[str, str]]) -> Callable[..., Any]:
    def ack(user: User, item_id: str, note: str = "Gezin gebeld, afspraak gemaakt.") -> Any:
        return client.post(f"{API}/{item_id}/acknowledge", json={"note": note}, headers=auth_headers(user))

    return ack


@pytest.fixture
def friday_report(
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    share_plan: Callable[[dict[str, Any], Organisation], None],
    report_on: Callable[..., Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A plan of the wijkteam, shared with youth protection, and a report on a Friday-night incident
    recorded on Saturday morning. -> (plan, report)"""
    with clock_at(SATURDAY_MORNING):
        plan = create_plan()
        share_plan(plan, people.partner_org)
        return report_on(plan, occurred_at=FRIDAY_NIGHT)


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [(item["report"] or item["lookup"])["id"] for item in items]


# --- who sees the report ------------------------------------------------------------------------


def test_the_owners_and_the_sharing_organisation_see_the_report(
    people: People, friday_report: tuple[dict[str, Any], dict[str, Any]], feedback_of: Items
) -> None:
    plan, report = friday_report
    with clock_at(SATURDAY_MORNING + timedelta(minutes=5)):
        for user in (people.registrant, people.partner_registrant):
            items = feedback_of(user)
            assert len(items) == 1, user.organisation_id
            item = items[0]
            assert set(item) == ITEM_FIELDS
            assert item["kind"] == "report"
            assert item["plan_id"] == plan["id"]
            assert item["feedback_due"] == DUE
            assert item["overdue"] is False
            assert item["lookup"] is None
            assert item["report"]["id"] == report["id"]
            assert item["report"]["narrative"] == NARRATIVE
            assert [row["outcome"] for row in item["report"]["agreements"]] == [
                "followed", "not_followed", "not_applicable",
            ]  # fmt: skip


def test_owners_of_other_organisations_never_see_it(
    app: Flask,
    people: People,
    friday_report: tuple[dict[str, Any], dict[str, Any]],
    feedback_of: Items,
    acknowledge: Callable[..., Any],
) -> None:
    # Given a report on a plan of the wijkteam, not shared with Wijkteam West
    _plan, report = friday_report
    with clock_at(LATE):
        # When Wijkteam West asks for its feedback, for the due day too, and tries to acknowledge it
        assert feedback_of(people.stranger_registrant) == []
        assert feedback_of(people.stranger_registrant, due=DUE) == []
        before = stored(app)
        refused = acknowledge(people.stranger_registrant, report["id"])

        # Then it does not exist for them, and the owners still have it open
        assert refused.status_code == 404
        assert refused.get_json()["error"]["code"] == "not_found"
        assert stored(app) == before
        assert ids(feedback_of(people.registrant)) == [report["id"]]


def test_acknowledging_an_unknown_or_malformed_id_is_404(
    people: People, acknowledge: Callable[..., Any], friday_report: Any
) -> None:
    assert acknowledge(people.registrant, "00000000-0000-0000-0000-000000000000").status_code == 404
    assert acknowledge(people.registrant, "not-an-id").status_code == 404


def test_only_registrants_read_feedback(
    client: FlaskClient,
    feedback_of: Items,
    auth_headers: Callable[[User], dict[str, str]],
    make_user: Callable[..., User],
    people: People,
    friday_report: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    _plan, report = friday_report
    for role in ("responder", "coordinator", "auditor"):
        # a responder only in a responder organisation (registry/core/roles.py)
        someone = make_user(roles=(role,), org=people.police_org if role == "responder" else people.owner_org)
        assert client.get(API, headers=auth_headers(someone)).status_code == 403, role
        response = client.post(f"{API}/{report['id']}/acknowledge", json={}, headers=auth_headers(someone))
        assert response.status_code == 403, role
    assert client.get(API).status_code == 401
    assert len(feedback_of(people.registrant)) == 1  # still open for the owners


# --- ?due= --------------------------------------------------------------------------------------


def test_due_filters_the_items_of_that_day(
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    people: People,
    friday_report: tuple[dict[str, Any], dict[str, Any]],
    report_on: Callable[..., Any],
    feedback_of: Items,
) -> None:
    plan, friday = friday_report
    # a second incident on Monday morning: due on Tuesday
    with clock_at(amsterdam(2026, 3, 16, 11, 0)):
        _plan, monday = report_on(plan, occurred_at=amsterdam(2026, 3, 16, 8, 15))
        assert monday["feedback_due"] == "2026-03-17"

        assert ids(feedback_of(people.registrant)) == [monday["id"], friday["id"]]  # the newest first
        assert ids(feedback_of(people.registrant, due=DUE)) == [friday["id"]]
        assert ids(feedback_of(people.registrant, due="2026-03-17")) == [monday["id"]]
        assert feedback_of(people.registrant, due="2026-03-18") == []

        refused = client.get(API, query_string={"due": "maandag"}, headers=auth_headers(people.registrant))
    assert refused.status_code == 400
    assert list(refused.get_json()["error"]["fields"]) == ["due"]


# --- acknowledging ------------------------------------------------------------------------------


def test_acknowledging_removes_it_for_that_organisation_only(
    app: Flask,
    people: People,
    friday_report: tuple[dict[str, Any], dict[str, Any]],
    feedback_of: Items,
    acknowledge: Callable[..., Any],
    make_user: Callable[..., User],
) -> None:
    _plan, report = friday_report
    with clock_at(amsterdam(2026, 3, 16, 8, 30)):
        # Given the wijkteam reads and acknowledges the report
        response = acknowledge(people.registrant, report["id"], note="Moeder gebeld om 09.00.")
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert body["id"] == report["id"]
        assert body["note"] == "Moeder gebeld om 09.00."
        assert body["acknowledged_at"]

        # Then it is gone for everyone in the wijkteam
        assert feedback_of(people.registrant) == []
        colleague = make_user(roles=("registrant",), org=people.owner_org)
        assert feedback_of(colleague) == []
        # but youth protection still has it open, until it acknowledges it too
        assert ids(feedback_of(people.partner_registrant)) == [report["id"]]
        assert acknowledge(people.partner_registrant, report["id"]).status_code == 200
        assert feedback_of(people.partner_registrant) == []

        # acknowledging again changes nothing
        before = stored(app)
        assert acknowledge(colleague, report["id"], note="nog eens").status_code == 200
        assert stored(app) == before


def test_an_overlong_acknowledgement_note_is_refused(
    people: People, friday_report: tuple[dict[str, Any], dict[str, Any]], acknowledge: Callable[..., Any],
    feedback_of: Items,
) -> None:  # fmt: skip
    _plan, report = friday_report
    response = acknowledge(people.registrant, report["id"], note="x" * 4001)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["note"]
    assert ids(feedback_of(people.registrant)) == [report["id"]]


# --- a lookup that got no report ----------------------------------------------------------------

MONDAY_MORNING = amsterdam(2026, 3, 16, 10, 0)


def test_a_lookup_without_report_appears_after_12_hours_and_goes_with_the_report(
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    share_plan: Callable[[dict[str, Any], Organisation], None],
    look_up: Callable[..., Any],
    post_report: Callable[..., Any],
    feedback_of: Items,
) -> None:
    # Given a lookup on Monday 10.00 that found the plan, and no report
    with clock_at(MONDAY_MORNING):
        plan = create_plan()
        share_plan(plan, people.partner_org)
        lookup = look_up(plan, incident_ref="P-2026-0042")
        assert feedback_of(people.registrant) == []

    # Then for 12 hours it is nobody's item
    with clock_at(MONDAY_MORNING + timedelta(hours=11, minutes=59)):
        assert feedback_of(people.registrant) == []

    # and after 12 hours the owners and the sharing organisation see it, nobody else
    with clock_at(MONDAY_MORNING + timedelta(hours=12, minutes=1)):
        for user in (people.registrant, people.partner_registrant):
            items = feedback_of(user)
            assert len(items) == 1
            item = items[0]
            assert set(item) == ITEM_FIELDS
            assert item["kind"] == "lookup_without_report"
            assert item["plan_id"] == plan["id"]
            assert item["report"] is None
            assert set(item["lookup"]) == LOOKUP_FIELDS
            assert item["lookup"]["id"] == lookup["lookup_id"]
            assert item["lookup"]["incident_ref"] == "P-2026-0042"
            assert item["lookup"]["organisation"] == people.police_org.name
            assert item["feedback_due"] == "2026-03-17"  # the working day after Monday
            assert item["overdue"] is False
        assert feedback_of(people.stranger_registrant) == []

        # When the control room still records what was done on that lookup
        response = post_report(report_body(lookup, occurred_at=MONDAY_MORNING))
        assert response.status_code == 201

        # Then the lookup item makes way for the report
        items = feedback_of(people.registrant)
        assert [item["kind"] for item in items] == ["report"]
        assert items[0]["report"]["lookup_id"] == lookup["lookup_id"]


def test_a_lookup_without_report_can_be_acknowledged_by_its_lookup_id(
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    share_plan: Callable[[dict[str, Any], Organisation], None],
    look_up: Callable[..., Any],
    feedback_of: Items,
    acknowledge: Callable[..., Any],
) -> None:
    with clock_at(MONDAY_MORNING):
        plan = create_plan()
        share_plan(plan, people.partner_org)
        lookup = look_up(plan)
    with clock_at(MONDAY_MORNING + timedelta(hours=13)):
        assert ids(feedback_of(people.registrant)) == [lookup["lookup_id"]]
        assert acknowledge(people.stranger_registrant, lookup["lookup_id"]).status_code == 404

        assert acknowledge(people.registrant, lookup["lookup_id"]).status_code == 200

        assert feedback_of(people.registrant) == []
        assert ids(feedback_of(people.partner_registrant)) == [lookup["lookup_id"]]


def test_a_lookup_that_found_nothing_is_no_item(
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    feedback_of: Items,
) -> None:
    with clock_at(MONDAY_MORNING):
        create_plan()
        response = client.post(
            "/api/v1/lookups",
            json={"incident_ref": "P-1", "address": {"postcode": "1011 AA", "house_number": 1}},
            headers=auth_headers(people.responder),
        )
        assert response.get_json()["matches"] == []
    with clock_at(MONDAY_MORNING + timedelta(days=1)):
        assert feedback_of(people.registrant) == []


# --- overdue and the coordinator ----------------------------------------------------------------


def late_list(html_text: str) -> str:
    """The table of late items on the coordinator's page ('' when it says nothing is late)."""
    match = re.search(r'<table class="list" id="te-laat">(.*?)</table>', html_text, re.DOTALL)
    return html.unescape(match.group(1)) if match else ""


def test_an_item_not_acknowledged_by_the_end_of_its_due_day_is_late_for_the_coordinator(
    app: Flask,
    people: People,
    friday_report: tuple[dict[str, Any], dict[str, Any]],
    feedback_of: Items,
    acknowledge: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    plan, report = friday_report
    # Given the last minute of the due day: not late yet
    with clock_at(LAST_MINUTE_OF_DUE_DAY):
        assert [item["overdue"] for item in feedback_of(people.registrant)] == [False]
        coordinator = app.test_client()
        web_login(coordinator, people.coordinator)
        page = coordinator.get("/terugkoppeling/te-laat")
        assert page.status_code == 200
        assert plan["title"] not in late_list(page.get_data(as_text=True))

    # When Amsterdam midnight has passed
    with clock_at(LATE):
        # Then the item is late, for the owners and for the sharing organisation
        assert [item["overdue"] for item in feedback_of(people.registrant)] == [True]
        assert [item["overdue"] for item in feedback_of(people.partner_registrant)] == [True]
        # and the coordinator of the owning organisation finds it on the late list
        coordinator = app.test_client()
        web_login(coordinator, people.coordinator)
        late = late_list(coordinator.get("/terugkoppeling/te-laat").get_data(as_text=True))
        assert plan["title"] in late
        assert "Inzet" in late
        assert "maandag 16 maart 2026" in late
        # the coordinator of another organisation does not
        stranger = app.test_client()
        web_login(stranger, people.stranger_coordinator)
        their_page = stranger.get("/terugkoppeling/te-laat").get_data(as_text=True)
        assert late_list(their_page) == ""
        assert plan["title"] not in their_page

        # When the wijkteam acknowledges it, it is off the list
        assert acknowledge(people.registrant, report["id"]).status_code == 200
        page = coordinator.get("/terugkoppeling/te-laat")
        assert plan["title"] not in late_list(page.get_data(as_text=True))


def test_the_late_list_is_for_coordinators(
    app: Flask, people: People, web_login: Callable[[FlaskClient, User], Any]
) -> None:
    registrant = app.test_client()
    web_login(registrant, people.registrant)
    assert registrant.get("/terugkoppeling/te-laat").status_code == 403
    anonymous = app.test_client()
    assert anonymous.get("/terugkoppeling/te-laat").status_code == 302


def test_a_lookup_without_report_is_late_too(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    feedback_of: Items,
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    with clock_at(MONDAY_MORNING):
        plan = create_plan(title="Gezin Zonder Inzet")
        look_up(plan)
    with clock_at(amsterdam(2026, 3, 18, 0, 0, 1)):  # after Tuesday, its due day
        assert [(item["kind"], item["overdue"]) for item in feedback_of(people.registrant)] == [
            ("lookup_without_report", True)
        ]
        coordinator = app.test_client()
        web_login(coordinator, people.coordinator)
        late = late_list(coordinator.get("/terugkoppeling/te-laat").get_data(as_text=True))
        assert "Gezin Zonder Inzet" in late
        assert "Er is gezocht, geen inzet geregistreerd" in late


# --- the inbox page -----------------------------------------------------------------------------


def test_the_inbox_shows_what_was_done_and_lets_the_registrant_acknowledge_it(
    app: Flask,
    people: People,
    friday_report: tuple[dict[str, Any], dict[str, Any]],
    feedback_of: Items,
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    plan, report = friday_report
    with clock_at(amsterdam(2026, 3, 16, 8, 30)):
        # Given the wijkteam worker opens the inbox on Monday morning
        browser = app.test_client()
        web_login(browser, people.registrant)
        page = browser.get("/terugkoppeling")
        assert page.status_code == 200
        text = html.unescape(page.get_data(as_text=True))

        # Then the item shows the plan, when it happened (Amsterdam time), what was done per
        # agreement, the narrative and the button to acknowledge it
        assert plan["title"] in text
        assert "vrijdag 13 maart 2026" in text
        assert "23.40 uur" in text
        for agreement in plan["agreements"]:
            assert agreement["trigger"] in text
        outcomes = re.findall(r'<td class="outcome outcome-[a-z_]+">([^<]+)</td>', text)
        assert outcomes == ["Uitgevoerd", "Niet uitgevoerd", "Niet van toepassing"]
        assert NARRATIVE in text
        assert "Toelichting bij afspraak 2" in text
        assert "Gelezen en opgepakt" in text
        assert "maandag 16 maart 2026" in text  # the due day
        assert people.police_org.name in text  # who to call back

        # When the worker marks it as read
        form = f"/terugkoppeling/{report['id']}/gelezen"
        token = csrf_from(page.get_data(as_text=True))
        done = browser.post(form, data={"note": "Gebeld", "csrf_token": token})
        assert done.status_code == 302

        # Then the inbox is empty for the wijkteam, and youth protection still has it
        after = html.unescape(browser.get("/terugkoppeling").get_data(as_text=True))
        assert NARRATIVE not in after
        assert "Er is geen open terugkoppeling" in after
        assert ids(feedback_of(people.partner_registrant)) == [report["id"]]


def test_the_inbox_acknowledge_form_needs_its_csrf_token(
    app: Flask,
    people: People,
    friday_report: tuple[dict[str, Any], dict[str, Any]],
    feedback_of: Items,
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    _plan, report = friday_report
    browser = app.test_client()
    web_login(browser, people.registrant)
    refused = browser.post(f"/terugkoppeling/{report['id']}/gelezen", data={"note": "zonder token"})
    assert refused.status_code == 400
    assert ids(feedback_of(people.registrant)) == [report["id"]]


def test_the_inbox_of_another_organisation_shows_nothing_of_it(
    app: Flask,
    people: People,
    friday_report: tuple[dict[str, Any], dict[str, Any]],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    plan, report = friday_report
    browser = app.test_client()
    web_login(browser, people.stranger_registrant)
    page = html.unescape(browser.get("/terugkoppeling").get_data(as_text=True))
    assert plan["title"] not in page
    assert NARRATIVE not in page
    # and its form cannot acknowledge the report for the owners either
    token = csrf_from(browser.get("/terugkoppeling").get_data(as_text=True))
    refused = browser.post(f"/terugkoppeling/{report['id']}/gelezen", data={"note": "x", "csrf_token": token})
    assert refused.status_code == 404


def test_the_inbox_shows_a_lookup_without_report(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    with clock_at(MONDAY_MORNING):
        plan = create_plan(title="Gezin Nachtelijk Gezocht")
        look_up(plan, incident_ref="P-2026-0777")
    with clock_at(MONDAY_MORNING + timedelta(hours=22)):
        browser = app.test_client()
        web_login(browser, people.registrant)
        text = html.unescape(browser.get("/terugkoppeling").get_data(as_text=True))
    assert "Gezin Nachtelijk Gezocht" in text
    assert "Er is gezocht, geen inzet geregistreerd" in text
    assert "P-2026-0777" in text
    assert "maandag 16 maart 2026 om 10.00 uur" in text
    assert people.police_org.name in text
    assert "Gelezen en opgepakt" in text
