"""Monitoring shows the spoedmeldingen: how many, the share read and picked up before the
deadline, and the median time to that; on the page and in its CSV."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from registry.core.models import User
from tests.feedback.conftest import People, amsterdam, clock_at

FRIDAY_NIGHT = amsterdam(2026, 3, 13, 23, 40)
REPORTED = amsterdam(2026, 3, 13, 23, 55)
PERIOD = {"from": "2026-03-01", "to": "2026-03-31"}


def test_monitoring_shows_the_spoedmeldingen_and_how_fast_they_were_picked_up(
    app: Flask,
    people: People,
    report_on: Callable[..., Any],
    create_plan: Callable[..., dict[str, Any]],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given two arrests: one acknowledged after 1 h 20 min (before its 08.40 deadline), one
    # after 10 hours (late); and an ordinary report
    with clock_at(REPORTED):
        _plan, first = report_on(occurred_at=FRIDAY_NIGHT, actions=["arrest"])
        _other, second = report_on(
            create_plan(title="Gezin Tweede"), occurred_at=FRIDAY_NIGHT, actions=["arrest"],
            incident_ref="P-2026-0002",
        )  # fmt: skip
        report_on(create_plan(title="Gezin Gewoon"), occurred_at=FRIDAY_NIGHT, incident_ref="P-2026-0003")
    for report, moment in ((first, amsterdam(2026, 3, 14, 1, 0)), (second, amsterdam(2026, 3, 14, 9, 40))):
        with clock_at(moment):
            response = client.post(
                f"/api/v1/feedback/{report['id']}/acknowledge",
                json={},
                headers=auth_headers(people.registrant),
            )
            assert response.status_code == 200
    # When the coordinator opens Monitoring for March, and its CSV of the spoedmeldingen
    with clock_at(amsterdam(2026, 3, 20, 12, 0)):
        browser = app.test_client()
        web_login(browser, people.coordinator)
        page = html.unescape(browser.get("/monitoring", query_string=PERIOD).get_data(as_text=True))
        csv = browser.get("/monitoring/spoed.csv", query_string=PERIOD)
    # Then the page has the table, in Dutch
    assert '<section class="card stat-table" id="tabel-spoed">' in page
    section = page[page.index('id="tabel-spoed"') :]
    section = section[: section.index("</section>")]
    assert "<h2>Spoedmeldingen</h2>" in section
    assert '<td>Spoedmeldingen</td><td class="num">2</td>' in section
    assert '<td>Gelezen en opgepakt vóór de termijn</td><td class="num">50%</td>' in section
    # median of 80 and 600 minutes: 340 minutes
    assert (
        '<td>Tijd tot gelezen en opgepakt (mediaan, na de melding)</td><td class="num">5 uur 40 minuten</td>'
        in section
    )
    assert "Totaal" not in section  # the rows do not add up
    # And the CSV holds the same, with Dutch headers
    assert csv.status_code == 200
    assert (
        csv.headers["Content-Disposition"] == 'attachment; filename="samenop-spoed-2026-03-01-2026-03-31.csv"'
    )
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines == [
        "Spoed;Waarde",
        "Spoedmeldingen;2",
        "Gelezen en opgepakt vóór de termijn;50%",
        "Tijd tot gelezen en opgepakt (mediaan, na de melding);5 uur 40 minuten",
    ]


def test_without_spoedmeldingen_the_table_says_none(
    app: Flask, people: People, report_on: Callable[..., Any], web_login: Callable[[FlaskClient, User], Any]
) -> None:
    with clock_at(REPORTED):
        report_on(occurred_at=FRIDAY_NIGHT)
    with clock_at(amsterdam(2026, 3, 20, 12, 0)):
        browser = app.test_client()
        web_login(browser, people.coordinator)
        page = html.unescape(browser.get("/monitoring", query_string=PERIOD).get_data(as_text=True))
    section = page[page.index('id="tabel-spoed"') :]
    section = section[: section.index("</section>")]
    assert '<td>Spoedmeldingen</td><td class="num">0</td>' in section
    assert '<td>Gelezen en opgepakt vóór de termijn</td><td class="num">–</td>' in section
