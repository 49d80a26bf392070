"""The access log on the plan page, as Given/When/Then: the plan's owners see who looked the plan
up, from which organisation, for which incident, when and on what, newest first; a long log is
paged with a count of the older lookups; reading it leaves an audit row."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from registry.core.db import db as database
from registry.core.models import AuditEntry, Lookup, LookupResult, Organisation, Plan, User
from tests.registry.plan_data import API, address, person, plan_body

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _rows(html: str) -> list[list[str]]:
    """The access log's table on the page, as the cells' text."""
    table = re.search(r'<table class="list access-log">(.*?)</table>', html, re.S)
    assert table, "no access log table on the page"
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
        if "<td>" in row
    ]


def test_the_owner_sees_who_looked_the_plan_up_when_and_how(
    app: Flask,
    client: FlaskClient,
    make_org: Callable[..., Organisation],
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given a plan of a wijkteam, found by a control room on its address and later on a name
    owner = make_user(roles=("registrant",), org=make_org("Wijkteam Assen"))
    responder = make_user(roles=("responder",), org=make_org("Meldkamer Drenthe", kind="police"))
    body = plan_body(addresses=[address(postcode="9401 AB", house_number=14)], persons=[person()])
    plan = client.post(API, json=body, headers=auth_headers(owner)).get_json()
    headers = auth_headers(responder)
    for incident_ref, where in (
        ("P-2026-0311", {"address": {"postcode": "9401AB", "house_number": 14}}),
        ("P-2026-0312", {"person": {"name": "Noor van der Testveen", "birth_date": "1990-01-02"}}),
    ):
        found = client.post("/api/v1/lookups", json={"incident_ref": incident_ref, **where}, headers=headers)
        assert [m["plan"]["id"] for m in found.get_json()["matches"]] == [plan["id"]]
    # (on a Tuesday night, and on Thursday morning)
    moments = {
        "P-2026-0311": datetime(2026, 3, 10, 23, 40, tzinfo=AMSTERDAM),
        "P-2026-0312": datetime(2026, 3, 12, 9, 40, tzinfo=AMSTERDAM),
    }
    with app.app_context():
        for incident_ref, moment in moments.items():
            database.session.execute(
                update(Lookup).where(Lookup.incident_ref == incident_ref).values(performed_at=moment)
            )
        database.commit()

    # When the owner opens the plan page
    web_login(client, owner)
    page = client.get(f"/plans/{plan['id']}")

    # Then the page names each lookup, newest first, in the users' words
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Toegangslog" in html
    name = responder.display_name
    assert _rows(html) == [
        ["donderdag 12 maart 2026 09.40 uur", name, "Meldkamer Drenthe", "P-2026-0312", "persoon"],
        [
            "dinsdag 10 maart 2026 23.40 uur",
            name,
            "Meldkamer Drenthe",
            "P-2026-0311",
            "postcode en huisnummer",
        ],  # noqa: E501
    ]
    assert "eerdere raadpleging" not in html
    # and reading the log is itself in the audit log, next to the plan read
    with app.app_context():
        rows = database.session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_id == plan["id"], AuditEntry.username == owner.username
            )
        ).all()
    assert [(row.action, row.detail) for row in rows if row.action == "plan_access_log"] == [
        ("plan_access_log", {"shown": 2, "total": 2, "page": 1})
    ]


def test_a_long_access_log_is_paged_with_a_count_of_the_older_lookups(
    app: Flask,
    client: FlaskClient,
    make_org: Callable[..., Organisation],
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given a plan that the control room found 62 times (one a minute, numbered in order)
    owner = make_user(roles=("registrant",), org=make_org("Wijkteam Emmen"))
    responder = make_user(roles=("responder",), org=make_org("Meldkamer Noord", kind="police"))
    plan = client.post(API, json=plan_body(), headers=auth_headers(owner)).get_json()
    start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    with app.app_context():
        session = database.session
        stored = session.get(Plan, uuid.UUID(plan["id"]))
        assert stored is not None
        for number in range(62):
            lookup = Lookup(
                user_id=responder.id,
                organisation_id=responder.organisation_id,
                role="responder",
                incident_ref=f"P-{number:03d}",
                query_kind="phone",
                performed_at=start + timedelta(minutes=number),
                match_count=1,
            )
            lookup.results.append(
                LookupResult(
                    plan_id=stored.id,
                    plan_version_id=stored.current.id,
                    match_on="person",
                    quality="exact",
                    score=1.0,
                )
            )
            session.add(lookup)
        database.commit()
    web_login(client, owner)

    # When the owner opens the plan page, and then the next two pages of the log
    first = client.get(f"/plans/{plan['id']}").get_data(as_text=True)
    second = client.get(f"/plans/{plan['id']}?toegangslog=2").get_data(as_text=True)
    third = client.get(f"/plans/{plan['id']}?toegangslog=3").get_data(as_text=True)

    # Then the first page shows the newest 25 and counts the rest, and the pages go back in time
    assert [row[3] for row in _rows(first)] == [f"P-{n:03d}" for n in range(61, 36, -1)]
    assert "Nog 37 eerdere raadplegingen" in first
    assert [row[3] for row in _rows(second)] == [f"P-{n:03d}" for n in range(36, 11, -1)]
    assert "Nog 12 eerdere raadplegingen" in second
    assert [row[3] for row in _rows(third)] == [f"P-{n:03d}" for n in range(11, -1, -1)]
    assert "eerdere raadpleging" not in third
    assert all(row[4] == "telefoonnummer" for row in _rows(first))
    # and the API still hands over the whole log, from the same query
    items = client.get(f"{API}/{plan['id']}/access-log", headers=auth_headers(owner)).get_json()["items"]
    assert [item["incident_ref"] for item in items] == [f"P-{n:03d}" for n in range(61, -1, -1)]
