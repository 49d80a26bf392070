"""Bulk harvesting by an insider (issue 20, finding 2), as Given/When/Then: a lookup names a
melding in its organisation's format; a name without a birth date lists candidates and opens one
family at a time; each user's budget of the last hour holds across servers; unusual lookups are
flagged for the privacy officer, who closes each flag with a note."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from registry.app import create_app
from registry.core.db import db as database
from registry.core.models import AuditEntry, Lookup, LookupFlag, LookupResult, Organisation, User
from registry.ops.cli import org_meldingnummer
from registry.privacy.cli import scan
from tests.conftest import close_app, csrf_from
from tests.registry.plan_data import address, person, plan_body

LOOKUPS = "/api/v1/lookups"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def owner(make_user: Callable[..., User], make_org: Callable[..., Organisation]) -> User:
    return make_user(roles=("registrant",), org=make_org("Wijkteam Testdorp"))


@pytest.fixture
def control_room(make_org: Callable[..., Organisation]) -> Organisation:
    return make_org("Meldkamer Testland", kind="police")


@pytest.fixture
def responder(make_user: Callable[..., User], control_room: Organisation) -> User:
    return make_user(roles=("responder",), org=control_room)


@pytest.fixture
def headers(responder: User, auth_headers: Callable[[User], dict[str, str]]) -> dict[str, str]:
    return auth_headers(responder)


def families(
    client: FlaskClient, headers: dict[str, str], count: int, surname: str = "Testveen"
) -> list[str]:
    """`count` families with a member of this surname, each at its own address and city."""
    ids = []
    for number in range(count):
        body = plan_body(
            title=f"Gezin {number}",
            addresses=[
                address(postcode=f"94{number:02d} AB", house_number=number + 1, city=f"Stad{number}"),
                address(postcode="9999 ZZ", house_number=1, city="Geheimstad", role="safe_address"),
            ],
            persons=[
                person(first_name=f"Kind{number}", surname=surname, birth_date=f"20{10 + number}-03-04",
                       phone=f"06-1000{number:04d}"),
            ],
        )  # fmt: skip
        response = client.post("/api/v1/plans", json=body, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        ids.append(response.get_json()["id"])
    return ids


def look_up(client: FlaskClient, headers: dict[str, str], incident_ref: str, **query: Any) -> Any:
    return client.post(LOOKUPS, json={"incident_ref": incident_ref, **query}, headers=headers)


def by_name(name: str, born: str | None = None) -> dict[str, Any]:
    return {"person": {"name": name, **({"birth_date": born} if born else {})}}


def refusals(app: Flask, reason: str) -> list[AuditEntry]:
    with app.app_context():
        rows = database.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "lookup", AuditEntry.outcome == "refused")
        )
        return [row for row in rows if row.detail.get("reason") == reason]


# --- the meldingnummer ---------------------------------------------------------------------------


def test_a_meldingnummer_without_a_digit_is_no_purpose_and_is_refused_naming_the_field(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    # Given a control room without a format of its own
    # When the red team's lookup comes in with incident_ref "x"
    response = look_up(client, headers, "x", **by_name("Testveen"))

    # Then it is refused, naming the field, and the refusal is on record
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert "cijfers" in error["fields"]["incident_ref"][0]
    assert len(refusals(app, "incident_ref_format")) == 1
    with app.app_context():
        assert database.session.scalar(select(Lookup.id)) is None
    # and a real number goes through
    assert look_up(client, headers, "P-2026-0001", **by_name("Testveen")).status_code == 200


def test_an_organisations_format_is_set_by_the_administrator_and_every_lookup_must_match_it(
    app: Flask, client: FlaskClient, headers: dict[str, str], control_room: Organisation
) -> None:
    runner = app.test_cli_runner()
    # Given the administrator cannot set a format its own example does not have, nor one that lets "x" through
    bad = runner.invoke(org_meldingnummer, [control_room.name, "--pattern", r"MK-\d{4}", "--example", "P-1"])
    assert bad.exit_code != 0
    assert "does not have the format" in bad.output
    loose = runner.invoke(org_meldingnummer, [control_room.name, "--pattern", ".*", "--example", "MK-1"])
    assert loose.exit_code != 0
    assert "lets 'x' through" in loose.output
    broken = runner.invoke(org_meldingnummer, [control_room.name, "--pattern", "MK-(", "--example", "MK-1"])
    assert broken.exit_code != 0
    assert "regular expression" in broken.output
    # When the control room's format is set
    done = runner.invoke(
        org_meldingnummer, [control_room.name, "--pattern", r"MK-\d{4}-\d{6}", "--example", "MK-2026-000123"]
    )
    assert done.exit_code == 0, done.output

    # Then a number of another format is refused with the example, and one of its own passes (case ignored)
    refused = look_up(client, headers, "P-2026-0001", address={"postcode": "9401AB", "house_number": 1})
    assert refused.status_code == 422
    assert "MK-2026-000123" in refused.get_json()["error"]["fields"]["incident_ref"][0]
    for number in ("MK-2026-000124", "mk-2026-000125"):
        ok = look_up(client, headers, number, address={"postcode": "9401AB", "house_number": 1})
        assert ok.status_code == 200, ok.get_data(as_text=True)
    # and setting it is an audited act of the command line
    with app.app_context():
        entry = database.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "organisation_incident_ref_format")
        ).one()
        assert (entry.username, entry.detail["example"]) == ("cli", "MK-2026-000123")


def test_the_lookup_page_names_the_meldingnummer_field_too(
    app: Flask, client: FlaskClient, responder: User, web_login: Callable[[FlaskClient, User], Any]
) -> None:
    web_login(client, responder)
    page = client.get("/raadplegen")
    answer = client.post(
        "/raadplegen",
        data={"incident_ref": "x", "q": "9401 AB 1", "csrf_token": csrf_from(page.get_data(as_text=True))},
    )
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert 'id="incident_ref-error"' in html
    assert "bevat cijfers" in html


# --- a name alone: candidates, one family at a time -----------------------------------------------


def test_a_surname_alone_lists_candidates_and_shows_no_family(
    app: Flask, client: FlaskClient, headers: dict[str, str], owner: User, auth_headers: Any
) -> None:
    # Given three families named Testveen
    plans = families(client, auth_headers(owner), 3)

    # When a responder searches on the surname alone
    response = look_up(client, headers, "P-2026-0001", **by_name("Testveen"))

    # Then no family is shown: only who could be meant, to choose from
    assert response.status_code == 200
    body = response.get_json()
    assert body["matches"] == []
    assert sorted(c["plan_id"] for c in body["candidates"]) == sorted(plans)
    for candidate in body["candidates"]:
        assert set(candidate) == {"plan_id", "name", "birth_year", "city", "owner_organisation", "match"}
        number = plans.index(candidate["plan_id"])
        assert (
            candidate["name"],
            candidate["birth_year"],
            candidate["city"],
            candidate["owner_organisation"],
        ) == (
            f"Kind{number} van der Testveen",
            2010 + number,
            f"Stad{number}",
            "Wijkteam Testdorp",
        )
    text = response.get_data(as_text=True)
    for never in ("Geheimstad", "06-1000", "Verzonnenstraat", "agreements", "contacts", "Direct ter plaatse"):
        assert never not in text
    # and the lookup showed no plan: nothing to report on, nothing in a plan's access log
    with app.app_context():
        lookup = database.session.get(Lookup, uuid.UUID(body["lookup_id"]))
        assert lookup is not None
        assert lookup.name_only
        assert lookup.match_count == 3
        assert database.session.scalar(select(LookupResult.id)) is None
        entry = database.session.scalars(
            select(AuditEntry).where(AuditEntry.object_id == body["lookup_id"])
        ).one()
        assert sorted(entry.detail["candidates"]) == sorted(plans)
        assert entry.detail["shown"] == []


def test_a_candidate_opens_one_family_for_the_one_who_looked_up(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    owner: User,
    auth_headers: Any,
    make_user: Callable[..., User],
    control_room: Organisation,
) -> None:
    plans = families(client, auth_headers(owner), 2)
    listed = look_up(client, headers, "P-2026-0002", **by_name("Testveen")).get_json()
    chosen = plans[1]

    # When the responder opens one candidate
    opened = client.post(f"{LOOKUPS}/{listed['lookup_id']}/open", json={"plan_id": chosen}, headers=headers)

    # Then that family's plan is shown, as a lookup of its own with the same meldingnummer
    assert opened.status_code == 200, opened.get_data(as_text=True)
    body = opened.get_json()
    assert [m["plan"]["id"] for m in body["matches"]] == [chosen]
    assert body["matches"][0]["plan"]["agreements"]
    assert body["lookup_id"] != listed["lookup_id"]
    with app.app_context():
        lookup = database.session.get(Lookup, uuid.UUID(body["lookup_id"]))
        assert lookup is not None
        assert (lookup.query_kind, lookup.incident_ref, lookup.opened_from) == (
            "candidate",
            "P-2026-0002",
            uuid.UUID(listed["lookup_id"]),
        )
    # and the owner's access log shows it, the other family's does not
    log = client.get(f"/api/v1/plans/{chosen}/access-log", headers=auth_headers(owner)).get_json()["items"]
    assert [(i["incident_ref"], i["query_kind"]) for i in log] == [("P-2026-0002", "candidate")]
    other_log = client.get(f"/api/v1/plans/{plans[0]}/access-log", headers=auth_headers(owner)).get_json()
    assert other_log["items"] == []
    # and the report is filed on the opened lookup
    report = client.post(
        "/api/v1/reports",
        json={
            "plan_id": chosen,
            "lookup_id": body["lookup_id"],
            "incident_ref": "P-2026-0002",
            "occurred_at": datetime.now(UTC).isoformat(),
            "mode": "phone_advice",
            "responders": ["police"],
            "actions": [],
            "agreements": [],
        },
        headers=headers,
    )
    assert report.status_code == 201, report.get_data(as_text=True)
    # and the control room's Monitoring counts the list and its opening as one lookup, reported
    coordinator = auth_headers(make_user(roles=("coordinator",), org=control_room))
    today = datetime.now(AMSTERDAM).date().isoformat()
    figures = client.get("/api/v1/statistics", query_string={"from": today, "to": today}, headers=coordinator)
    assert figures.status_code == 200, figures.get_data(as_text=True)
    assert figures.get_json()["lookups"] == {"total": 1, "with_match": 1, "without_report": 0}

    # When a colleague, a plan that was not listed, or a lookup that listed nothing are tried
    colleague = auth_headers(make_user(roles=("responder",), org=control_room))
    shown = look_up(
        client, headers, "P-2026-0003", address={"postcode": "9400AB", "house_number": 1}
    ).get_json()
    tries = [
        (colleague, listed["lookup_id"], chosen),
        (headers, listed["lookup_id"], str(uuid.uuid4())),
        (headers, shown["lookup_id"], plans[0]),
        (headers, "not-a-uuid", chosen),
    ]
    for who, lookup_id, plan_id in tries:
        refused = client.post(f"{LOOKUPS}/{lookup_id}/open", json={"plan_id": plan_id}, headers=who)
        # Then each is refused alike, and on record
        assert refused.status_code == 404, (lookup_id, plan_id)
        assert refused.get_json()["error"]["code"] == "not_found"
    assert len(refusals(app, "not_own_candidates")) == 3
    assert len(refusals(app, "not_a_candidate")) == 1
    # and a plan id that is no id names the field
    bad = client.post(f"{LOOKUPS}/{listed['lookup_id']}/open", json={"plan_id": "x"}, headers=headers)
    assert bad.status_code == 422
    assert "plan_id" in bad.get_json()["error"]["fields"]


def test_candidates_cannot_be_opened_after_twelve_hours(
    app: Flask, client: FlaskClient, headers: dict[str, str], owner: User, auth_headers: Any
) -> None:
    plans = families(client, auth_headers(owner), 1)
    listed = look_up(client, headers, "P-2026-0004", **by_name("Testveen")).get_json()
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=12, minutes=1), tick=False):
        headers = auth_headers_for_later(app, headers)
        late = client.post(
            f"{LOOKUPS}/{listed['lookup_id']}/open", json={"plan_id": plans[0]}, headers=headers
        )
    assert late.status_code == 404
    assert len(refusals(app, "candidates_closed")) == 1


def auth_headers_for_later(app: Flask, headers: dict[str, str]) -> dict[str, str]:
    """The token was idle for 12 hours: a fresh one for the same user."""
    from registry.auth import accounts
    from registry.core.models import ApiToken

    raw = headers["Authorization"].removeprefix("Bearer ")
    with app.app_context():
        token = database.session.scalars(
            select(ApiToken).where(ApiToken.token_hash == accounts.hash_token(raw))
        ).one()
        fresh, _ = accounts.issue_api_token(database.session, database.session.get(User, token.user_id))
        database.commit()
    return {"Authorization": f"Bearer {fresh}"}


def test_the_page_lists_candidates_and_opens_the_one_chosen(
    app: Flask,
    client: FlaskClient,
    responder: User,
    owner: User,
    auth_headers: Any,
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    plans = families(client, auth_headers(owner), 2)
    web_login(client, responder)
    page = client.get("/raadplegen")
    listed = client.post(
        "/raadplegen",
        data={
            "incident_ref": "P-2026-0005",
            "q": "Testveen",
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    html = listed.get_data(as_text=True)
    assert listed.status_code == 200
    assert "2 mogelijke gezinnen gevonden" in html
    assert "Kind1 van der Testveen" in html
    assert "Stad1" in html
    assert "2011" in html
    assert "Direct ter plaatse" not in html
    assert "Geheimstad" not in html
    lookup_id = re.search(r'name="lookup_id" value="([^"]+)"', html)
    assert lookup_id
    opened = client.post(
        "/raadplegen/kandidaat",
        data={
            "lookup_id": lookup_id.group(1),
            "plan_id": plans[1],
            "incident_ref": "P-2026-0005",
            "csrf_token": csrf_from(html),
        },
    )
    shown = opened.get_data(as_text=True)
    assert opened.status_code == 200, shown
    assert "1 handelingskader gevonden" in shown
    assert "Gezin 1" in shown
    assert "Gezin 0" not in shown
    assert "Direct ter plaatse" in shown
    assert "Inzet registreren" in shown


# --- the budget of the last hour, across servers -----------------------------------------------------


@pytest.fixture
def budgets(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "LOOKUP_HOURLY_LIMIT": 5, "NAME_LOOKUP_HOURLY_LIMIT": 2}


def test_the_hourly_budget_is_one_across_two_servers(
    budgets: dict[str, Any], make_user: Callable[..., User], control_room: Organisation, auth_headers: Any
) -> None:
    # Given two app servers on one database, with a budget of 5 lookups an hour, 2 on a name alone
    first, second = create_app(budgets), create_app(budgets)
    try:
        user = make_user(roles=("responder",), org=control_room)
        headers = auth_headers(user)
        one, two = first.test_client(), second.test_client()
        address = {"address": {"postcode": "9401AB", "house_number": 1}}
        # When the name-only lookups alternate between the servers
        assert look_up(one, headers, "P-1", **by_name("Testveen")).status_code == 200
        assert look_up(two, headers, "P-2", **by_name("Testveen")).status_code == 200
        refused = look_up(one, headers, "P-3", **by_name("Jansen"))
        # Then the third on a name is refused by the first server, with when to try again
        assert refused.status_code == 429
        assert 3000 < int(refused.headers["Retry-After"]) <= 3600
        assert "alleen een naam" in refused.get_json()["error"]["message"]
        # and a name with a birth date and an address still go, until five in all
        assert look_up(two, headers, "P-4", **by_name("Testveen", "2010-03-04")).status_code == 200
        assert look_up(one, headers, "P-5", **address).status_code == 200
        assert look_up(two, headers, "P-6", **address).status_code == 200
        over = look_up(two, headers, "P-7", **address)
        assert over.status_code == 429
        assert "raadplegingen gedaan" in over.get_json()["error"]["message"]
        # and an hour later the budget is there again
        with time_machine.travel(datetime.now(UTC) + timedelta(minutes=61), tick=False):
            later = auth_headers_for_later(first, headers)
            assert look_up(one, later, "P-8", **address).status_code == 200
        # and each refusal is on record, and flagged for the privacy officer
        assert len(refusals(first, "name_lookups_per_hour")) == 1
        assert len(refusals(first, "lookups_per_hour")) == 1
        with first.app_context():
            flags = database.session.scalars(select(LookupFlag)).all()
            assert [(f.rule, f.user_id, f.count) for f in flags] == [("limit_reached", user.id, 5)]
    finally:
        close_app(first)
        close_app(second)


def test_the_red_teams_harvest_gets_no_family_and_stops_at_the_budget(
    app_config: dict[str, Any], make_user: Callable[..., User], control_room: Organisation, auth_headers: Any
) -> None:
    # Given the production budgets (20 lookups on a name alone an hour) and a family named Testveen
    config = {key: value for key, value in app_config.items() if not key.endswith("HOURLY_LIMIT")}
    app = create_app(config)
    try:
        client = app.test_client()
        owner = make_user(roles=("registrant",), org=None)
        families(client, auth_headers(owner), 1)
        headers = auth_headers(make_user(roles=("responder",), org=control_room))
        # When an insider sends 124 surname-only lookups
        answers = [look_up(client, headers, f"P-{n}", **by_name("Testveen")) for n in range(124)]
        # Then none shows a family, and after 20 they are refused
        assert all(a.get_json().get("matches", []) == [] for a in answers)
        assert [a.status_code for a in answers] == [200] * 20 + [429] * 104
    finally:
        close_app(app)


# --- flags for the privacy officer -------------------------------------------------------------------


def at_local(day_offset: int, hour: int, minute: int = 0) -> datetime:
    today = datetime.now(AMSTERDAM).date()
    return datetime.combine(
        today + timedelta(days=day_offset), datetime.min.time(), tzinfo=AMSTERDAM
    ).replace(hour=hour, minute=minute)


def move_lookups(app: Flask, moments: list[datetime]) -> None:
    """The user's lookups, oldest first, set to these moments (the last ones made)."""
    with app.app_context():
        ids = database.session.scalars(select(Lookup.id).order_by(Lookup.performed_at)).all()
        for lookup_id, moment in zip(ids[-len(moments) :], moments, strict=True):
            database.session.execute(update(Lookup).where(Lookup.id == lookup_id).values(performed_at=moment))
        database.commit()


@pytest.fixture
def flag_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {
        **app_config,
        "FLAG_LOOKUPS_PER_HOUR": 4,
        "FLAG_NAME_ONLY_PER_DAY": 3,
        "FLAG_WITHOUT_REPORT_PER_DAY": 2,
        "FLAG_HISTORY_MINIMUM": 5,
    }


# a Wednesday afternoon: yesterday's lookups are all more than 12 hours old (at 00:30 those of
# yesterday afternoon were not, and a lookup without a report was not flagged yet)
@time_machine.travel(datetime(2026, 3, 11, 13, 0, tzinfo=AMSTERDAM), tick=True)
def test_unusual_lookups_are_flagged_and_the_privacy_officer_closes_each_with_a_note(
    flag_config: dict[str, Any],
    make_user: Callable[..., User],
    make_org: Callable[..., Organisation],
    control_room: Organisation,
    auth_headers: Any,
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    app = create_app(flag_config)
    try:
        client = app.test_client()
        owner = make_user(roles=("registrant",), org=make_org("Wijkteam Noord"))
        families(client, auth_headers(owner), 1)
        busy = make_user(roles=("responder",), org=control_room, username="drukke.centralist")
        night = make_user(roles=("responder",), org=control_room, username="nacht.centralist")
        quiet = make_user(roles=("responder",), org=control_room, username="rustige.centralist")
        address = {"address": {"postcode": "9400AB", "house_number": 1}}  # shows the family
        # Given yesterday: 'busy' did 4 lookups within the hour from 14:00, 3 on a name alone,
        # and 2 that showed the family without a report since
        h = auth_headers(busy)
        for n in range(2):
            look_up(client, h, f"P-{n}", **address)
        for n in range(3):
            look_up(client, h, f"P-{n + 2}", **by_name("Testveen"))
        move_lookups(app, [at_local(-1, 14, 5 * n) for n in range(5)])
        # and 'night', who always works days, looked up twice at 3 in the night
        h = auth_headers(night)
        for n in range(7):
            look_up(client, h, f"N-{n}", address={"postcode": "1234AB", "house_number": n + 1})
        move_lookups(app, [at_local(-8 + n, 10) for n in range(5)] + [at_local(-1, 3), at_local(-1, 3, 30)])
        # and 'quiet' did one ordinary lookup
        look_up(client, auth_headers(quiet), "Q-1", **address)

        # When the hourly scan runs
        result = app.test_cli_runner().invoke(scan, [])
        assert result.exit_code == 0, result.output

        # Then the flags name the user, the day and what was unusual
        yesterday = at_local(-1, 12).date()
        with app.app_context():
            found = {
                (f.user.username, f.rule, f.day, f.count)
                for f in database.session.scalars(select(LookupFlag))
            }
        assert found == {
            ("drukke.centralist", "many_lookups", yesterday, 5),
            ("drukke.centralist", "many_name_only", yesterday, 3),
            ("drukke.centralist", "without_report", yesterday, 2),
            ("nacht.centralist", "off_hours", yesterday, 2),
        }
        # and a second scan adds none
        assert "0 new flag(s)" in app.test_cli_runner().invoke(scan, []).output

        # When someone without the auditor role asks for the page
        web_login(client, quiet)
        assert client.get("/logboek/signaleringen").status_code == 403
        client.get("/logout")
        # When the privacy officer opens it
        auditor = make_user(roles=("auditor",), org=make_org("Gemeente Noord"))
        client = app.test_client()
        web_login(client, auditor)
        page = client.get("/logboek/signaleringen")
        html = page.get_data(as_text=True)
        # Then the four open flags are there, in Dutch, with a way into the Logboek
        assert page.status_code == 200
        assert page.headers["Cache-Control"] == "no-store"
        assert html.count('<tr id="flag-') == 4
        assert "Raadplegingen buiten de gebruikelijke uren" in html
        assert "03:00" in html
        assert "Veel zoekvragen op alleen een naam" in html
        assert f"username=drukke.centralist&amp;from={yesterday.isoformat()}" in html
        with app.app_context():
            flag = database.session.scalars(select(LookupFlag).where(LookupFlag.rule == "off_hours")).one()
        # When they close it without a note
        empty = client.post(
            f"/logboek/signaleringen/{flag.id}/sluiten", data={"note": "  ", "csrf_token": csrf_from(html)}
        )
        # Then it stays open, and the note field says why
        assert empty.status_code == 422
        assert f'id="note-{flag.id}-error"' in empty.get_data(as_text=True)
        # When they close it with a note
        note = "Nagegaan bij teamleider: ingevallen voor nachtdienst, melding P-2026-0099."
        closed = client.post(
            f"/logboek/signaleringen/{flag.id}/sluiten", data={"note": note, "csrf_token": csrf_from(html)}
        )
        assert closed.status_code == 302
        after = client.get("/logboek/signaleringen").get_data(as_text=True)
        # Then it is among the closed ones, with the note, who and when
        closed_part = after.split('id="closed-flags"')[1]
        assert note in closed_part
        assert auditor.display_name in closed_part
        assert after.split('id="closed-flags"')[0].count('<tr id="flag-') == 3
        # and a closed flag cannot be closed again, nor can one that does not exist
        again = client.post(
            f"/logboek/signaleringen/{flag.id}/sluiten",
            data={"note": "nog eens", "csrf_token": csrf_from(after)},
        )
        assert again.status_code == 404
        huge = client.post(
            "/logboek/signaleringen/99999999999999999999/sluiten",
            data={"note": "x", "csrf_token": csrf_from(after)},
        )
        assert huge.status_code == 404
        # and the closing and the page views are on record
        with app.app_context():
            actions = [
                e.action
                for e in database.session.scalars(select(AuditEntry).where(AuditEntry.user_id == auditor.id))
            ]
        assert actions.count("lookup_flag_close") == 1
        assert "lookup_flags" in actions
    finally:
        close_app(app)
