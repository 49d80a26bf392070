"""Every read of personal data and every refused attempt leaves an audit row (NEN 7513): reading a
report back, a retry answered with the first report, the report page, the accounts page, and the
requests refused with 401 or 403."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from registry.core.db import db as database
from registry.core.models import AuditEntry, User
from tests.feedback.conftest import People, report_body


def audit_rows(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(
            database.session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


def test_reading_a_report_back_is_audited_and_so_is_asking_for_another_organisations(
    app: Flask,
    client: FlaskClient,
    people: People,
    auth_headers: Callable[[User], dict[str, str]],
    report_on: Callable[..., tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    # Given a report of the control room
    _plan, report = report_on()

    # When an officer of that control room reads it back, and one of another control room asks for it
    mine = client.get(f"/api/v1/reports/{report['id']}", headers=auth_headers(people.responder))
    theirs = client.get(f"/api/v1/reports/{report['id']}", headers=auth_headers(people.other_responder))

    # Then the read and the refused attempt each leave a row naming who and which report
    assert (mine.status_code, theirs.status_code) == (200, 404)
    rows = [(row.username, row.outcome, row.object_id) for row in audit_rows(app, "report_read")]
    assert rows == [
        (people.responder.username, "success", report["id"]),
        (people.other_responder.username, "not_found", report["id"]),
    ]


def test_a_retry_answered_with_the_first_report_is_audited(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    post_report: Callable[..., Any],
) -> None:
    # Given a report stored with an Idempotency-Key
    body = report_body(look_up(create_plan()))
    first = post_report(body, key="retry-1")

    # When the same request comes again (a lost answer on a bad connection)
    again = post_report(body, key="retry-1")

    # Then the answer shows the stored report, and that showing is in the log
    assert again.headers.get("Idempotent-Replayed") == "true"
    replayed = [row for row in audit_rows(app, "report_create") if row.outcome == "replayed"]
    assert [(row.username, row.object_id) for row in replayed] == [
        (people.responder.username, first.get_json()["id"])
    ]


def test_the_report_page_is_audited(
    app: Flask,
    client: FlaskClient,
    people: People,
    web_login: Callable[[FlaskClient, User], Any],
    report_on: Callable[..., tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    _plan, report = report_on()
    web_login(client, people.responder)

    page = client.get(f"/raadplegen/inzet/{report['id']}")
    missing = client.get(f"/raadplegen/inzet/{uuid.uuid4()}")

    assert (page.status_code, missing.status_code) == (200, 404)
    assert [row.outcome for row in audit_rows(app, "report_read")] == ["success", "not_found"]


def test_the_accounts_page_is_audited(
    app: Flask, client: FlaskClient, people: People, web_login: Callable[[FlaskClient, User], Any]
) -> None:
    # Given a coordinator and a colleague in the same wijkteam
    colleague = people.registrant
    web_login(client, people.coordinator)

    # When the coordinator opens the accounts page (names and e-mail addresses of colleagues)
    assert client.get("/accounts").status_code == 200

    # Then the read is in the log, naming the accounts shown
    rows = audit_rows(app, "user_list")
    assert [row.username for row in rows] == [people.coordinator.username]
    assert colleague.id in rows[0].detail["users"]


def test_requests_refused_with_401_or_403_are_audited(
    app: Flask,
    client: FlaskClient,
    people: People,
    auth_headers: Callable[[User], dict[str, str]],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given no token, a registrant's token on the lookup API, and a registrant on the lookup page
    no_token = client.post("/api/v1/lookups", json={"incident_ref": "P-1", "phone": "0612345678"})
    bad_token = client.get("/api/v1/plans", headers={"Authorization": "Bearer not-a-token"})
    wrong_role = client.post(
        "/api/v1/lookups",
        json={"incident_ref": "P-1", "phone": "0612345678"},
        headers=auth_headers(people.registrant),
    )
    web_login(client, people.registrant)
    wrong_page = client.get("/raadplegen")

    # Then each refusal left a row: who (when known), and which route was asked for
    assert (no_token.status_code, bad_token.status_code, wrong_role.status_code) == (401, 401, 403)
    assert wrong_page.status_code == 403
    api = [(row.outcome, row.username, row.detail["route"]) for row in audit_rows(app, "api_request")]
    assert api == [
        ("unauthenticated", "", "/api/v1/lookups"),
        ("unauthenticated", "", "/api/v1/plans"),
        ("forbidden", people.registrant.username, "/api/v1/lookups"),
    ]
    pages = [(row.outcome, row.username, row.detail["route"]) for row in audit_rows(app, "page_request")]
    assert pages == [("forbidden", people.registrant.username, "/raadplegen")]
    # no token, no personal data: the rows hold the route, never the body or the token
    assert all("not-a-token" not in str(row.detail) for row in audit_rows(app, "api_request"))
