"""Pages of the API's lists (?limit=&cursor=, next_cursor), Location on what is made, and the
RateLimit-* headers of a rate-limited operation: what an integrator's client relies on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from registry.core.models import User
from tests.feedback.conftest import People

FEEDBACK = "/api/v1/feedback"


def test_feedback_in_pages_loses_nothing_when_the_first_page_is_acknowledged(
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    people: People,
    report_on: Callable[..., tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    # Given three open reports for the owner
    reports = [report_on()[1]["id"] for _ in range(3)]
    headers = auth_headers(people.registrant)

    # When the owner reads them two at a time, acknowledging each page before asking the next
    first = client.get(FEEDBACK, query_string={"limit": 2}, headers=headers).get_json()
    for item in first["items"]:
        acknowledged = client.post(f"{FEEDBACK}/{item['report']['id']}/acknowledge", json={}, headers=headers)
        assert acknowledged.status_code == 200
    second = client.get(
        FEEDBACK, query_string={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
    ).get_json()

    # Then the second page holds the third report, and says it is the last
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    assert {item["report"]["id"] for item in first["items"] + second["items"]} == set(reports)
    assert second["next_cursor"] is None
    # and without a limit the list is what it was before pages: all of it, on one page
    rest = client.get(FEEDBACK, headers=headers).get_json()
    assert [item["report"]["id"] for item in rest["items"]] == [second["items"][0]["report"]["id"]]
    assert rest["next_cursor"] is None


def test_a_bad_limit_or_cursor_answers_400_naming_it(
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    people: People,
    create_plan: Callable[..., dict[str, Any]],
) -> None:
    create_plan()
    headers = auth_headers(people.registrant)
    for query, field in (
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "tien"}, "limit"),
        ({"cursor": "niet-van-ons"}, "cursor"),
        ({"cursor": "WzEsMiwzXQ"}, "cursor"),  # [1,2,3]: of another list's shape
    ):
        response = client.get("/api/v1/plans", query_string=query, headers=headers)
        assert response.status_code == 400, query
        assert response.get_json()["error"]["code"] == "invalid_input"
        assert list(response.get_json()["error"]["fields"]) == [field]


def test_the_access_log_tasks_and_shares_come_in_pages(
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., dict[str, Any]],
    report_on: Callable[..., tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    plan = create_plan()
    for number in range(3):
        look_up(plan, incident_ref=f"P-2026-000{number}")
    headers = auth_headers(people.registrant)
    log = f"/api/v1/plans/{plan['id']}/access-log"

    pages, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(log, query_string=query, headers=headers).get_json()
        pages.append([entry["incident_ref"] for entry in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    # newest first, across the pages, each once
    assert pages == [["P-2026-0002", "P-2026-0001"], ["P-2026-0000"]]

    # the tasks of a report's clocks, and a plan's shares: the same parameters, the same answer
    report_on()
    tasks = client.get("/api/v1/tasks", query_string={"limit": 1}, headers=headers).get_json()
    assert set(tasks) == {"tasks", "next_cursor"}
    shares = client.get(f"/api/v1/plans/{plan['id']}/shares", query_string={"limit": 1}, headers=headers)
    assert shares.get_json() == {"items": [], "next_cursor": None}


def test_what_is_made_answers_where_it_is_and_a_lookup_its_rate_limit(
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., dict[str, Any]],
    report_on: Callable[..., tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    registrant = auth_headers(people.registrant)
    plan = create_plan()
    made = client.post(
        f"/api/v1/plans/{plan['id']}/shares",
        json={"organisation": people.partner_org.name},
        headers=registrant,
    )
    assert made.status_code == 201
    assert client.get(made.headers["Location"], headers=registrant).status_code == 405  # DELETE only
    assert client.delete(made.headers["Location"], headers=registrant).status_code == 204

    _plan, report = report_on(plan)
    responder = auth_headers(people.responder)
    amended = client.post(
        f"/api/v1/reports/{report['id']}/amendments", json={"note": "Aanvulling."}, headers=responder
    )
    assert amended.headers["Location"] == f"/api/v1/reports/{report['id']}"
    assert client.get(amended.headers["Location"], headers=responder).get_json()["id"] == report["id"]

    # a lookup counts against the user's limit, and says how much is left
    where = plan["addresses"][0]
    body = {
        "incident_ref": "P-2026-0009",
        "address": {"postcode": where["postcode"], "house_number": where["house_number"]},
    }
    first = client.post("/api/v1/lookups", json=body, headers=responder)
    second = client.post("/api/v1/lookups", json=body, headers=responder)
    assert first.headers["RateLimit-Limit"] == "120"
    assert int(second.headers["RateLimit-Remaining"]) == int(first.headers["RateLimit-Remaining"]) - 1
    assert 0 < int(first.headers["RateLimit-Reset"]) <= 60
    # an operation without a rate limit says nothing of one
    assert "RateLimit-Limit" not in client.get("/api/v1/plans", headers=registrant).headers
