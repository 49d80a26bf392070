"""The network's view, as Given/When/Then: the taakgroep (role region_monitor) sees the counts of
every organisation of its region, each melding once, never a name; a coordinator keeps seeing
the own organisation's share; the region is refused to whoever lacks the role."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from registry.core.db import db as database
from registry.core.models import AuditEntry, Organisation, User
from tests.statistics import test_pilot
from tests.statistics.test_pilot import (
    AFTERWARDS,
    CALLS,
    MONTHS,
    PERIOD,
    REGION,
    TYPE_INZET,
    name_veilig_thuis,
)

# the pilot's network, with its settings (tests/statistics/test_pilot.py)
pilot = test_pilot.pilot
app_config = test_pilot.app_config

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
CALL = datetime(2026, 3, 16, 23, 40, tzinfo=AMSTERDAM)
NARRATIVE = "Vader sloeg moeder, buurvrouw Fictief belde."
# what must never leave Monitoring: meldingnummers, narratives, plan and person names, the
# organisations' and people's names
NEVER_SHOWN = ("NOORD-0001", "TWENTE-0001", "Fictief", "Vader sloeg", "Testveen", "Synthetisch")


def audit_rows(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(
            database.session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


def report(client: FlaskClient, headers: dict[str, str], ref: str, responders: list[str], mode: str) -> None:
    with time_machine.travel((CALL + timedelta(hours=9)).astimezone(UTC), tick=True):
        answer = client.post(
            "/api/v1/reports",
            json={
                "incident_ref": ref,
                "occurred_at": CALL.isoformat(),
                "mode": mode,
                "responders": responders,
                "violence_type": "partner_violence",
                "narrative": NARRATIVE,
            },
            headers=headers,
        )
    assert answer.status_code == 201, answer.get_json()


class Noord:
    """Region Noord: its police and Veilig Thuis both report one night call; a wijkteam of the
    region has a taakgroep member; the police of region Twente report a call of their own."""

    def __init__(self, app: Flask, client: FlaskClient, make_org: Any, make_user: Any, headers: Any) -> None:
        police_org = make_org("Politie Noord", kind="police", region="Noord")
        vt_org = make_org("Veilig Thuis Noord", kind="veilig_thuis", region="Noord")
        wijkteam = make_org("Wijkteam Noord-Oost", kind="social_team", region="Noord")
        twente = make_org("Politie Twente", kind="police", region="Twente")
        vt_org, police_org, wijkteam = name_veilig_thuis(app, "Noord", vt_org, police_org, wijkteam)
        self.wijkteam = wijkteam
        self.taakgroep = make_user(roles=("region_monitor",), org=wijkteam, username="taakgroep.noord")
        self.police_coordinator = make_user(roles=("coordinator",), org=police_org, username="coord.politie")
        self.both = make_user(roles=("coordinator", "region_monitor"), org=wijkteam, username="coord.wijk")
        police = make_user(roles=("responder",), org=police_org, username="agent.noord")
        vt = make_user(roles=("responder",), org=vt_org, username="vt.noord")
        # one melding, reported by the police and by VT (the same meldingnummer, typed otherwise)
        report(client, headers(police), "NOORD-0001", ["police", "veilig_thuis"], "phone_advice")
        report(client, headers(vt), "noord-0001", ["veilig_thuis", "cit"], "on_site_intervention")
        # and one in another region
        twente_police = make_user(roles=("responder",), org=twente)
        report(client, headers(twente_police), "TWENTE-0001", ["police"], "phone_advice")


@pytest.fixture
def noord(app, client, make_org, make_user, auth_headers) -> Noord:
    return Noord(app, client, make_org, make_user, auth_headers)


def statistics(client: FlaskClient, headers: dict[str, str], **query: str) -> Any:
    with time_machine.travel(datetime(2026, 4, 2, 10, 0, tzinfo=UTC), tick=True):
        return client.get("/api/v1/statistics", query_string={**MARCH, **query}, headers=headers)


# --- the API ---------------------------------------------------------------------------------------


def test_the_taakgroep_sees_the_regions_meldingen_each_once_and_no_name(app, client, noord, auth_headers):
    # Given a taakgroep member of a wijkteam in region Noord, which reported nothing itself
    # When they ask for the region's figures of March
    answer = statistics(client, auth_headers(noord.taakgroep), scope="region")

    # Then they see the melding of the region's police and VT, once, with what both did
    assert answer.status_code == 200, answer.get_json()
    figures = answer.get_json()
    assert (figures["scope"], figures["region"]) == ("region", "Noord")
    assert figures["meldingen"] == 1
    assert figures["reports"] == 2
    assert figures["meldingen_by_month"] == {"2026-03": 1}
    assert figures["time_of_day"]["night"] == 1
    assert figures["type_inzet"]["vt_sez_on_site"] == 1
    assert sum(figures["type_inzet"].values()) == 1
    assert figures["violence_type"]["partner_violence"] == 1
    # and not Twente's: another region
    # and nowhere in the answer a meldingnummer, a narrative, an organisation's or a person's name
    text = json.dumps(figures)
    for secret in (*NEVER_SHOWN, "Politie", "Veilig Thuis Noord", "Wijkteam", "agent.noord", "vt.noord"):
        assert secret not in text
    # and the read is in the audit log, with its scope
    (row,) = audit_rows(app, "statistics")
    assert (row.outcome, row.user_id, row.role) == ("success", noord.taakgroep.id, "region_monitor")
    assert row.detail["scope"] == "region"
    assert row.detail["region_id"] is not None


def test_a_coordinator_keeps_seeing_the_organisations_share(client, noord, auth_headers):
    # Given the police coordinator of region Noord, without the taakgroep role
    headers = auth_headers(noord.police_coordinator)
    # When they ask for the statistics as before (no scope)
    figures = statistics(client, headers).get_json()
    # Then they see their share: the melding, and their own report only (VT's is VT's)
    assert (figures["scope"], figures["region"]) == ("organisation", None)
    assert (figures["meldingen"], figures["reports"]) == (1, 1)
    # and the wijkteam's coordinator with both roles sees nothing of the organisation's own ...
    both = auth_headers(noord.both)
    own = statistics(client, both, scope="organisation").get_json()
    assert (own["scope"], own["meldingen"], own["reports"]) == ("organisation", 0, 0)
    # ... and the region's whole when they ask for it
    region = statistics(client, both, scope="region").get_json()
    assert (region["scope"], region["meldingen"], region["reports"]) == ("region", 1, 2)


def test_the_region_is_refused_without_the_role_and_the_refusal_is_logged(app, client, noord, auth_headers):
    # Given the police coordinator, without the taakgroep role
    # When they ask for the region's figures
    answer = statistics(client, auth_headers(noord.police_coordinator), scope="region")
    # Then the answer is 403, with no figures, and the refusal is in the audit log with its scope
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "forbidden"
    assert "meldingen" not in answer.get_json()
    (refused,) = [row for row in audit_rows(app, "api_request") if row.outcome == "forbidden"]
    assert refused.user_id == noord.police_coordinator.id
    assert refused.detail == {
        "method": "GET", "route": "/api/v1/statistics", "roles": ["region_monitor"], "scope": "region",
    }  # fmt: skip
    assert audit_rows(app, "statistics") == []


def test_the_taakgroep_alone_has_no_organisation_share(app, client, noord, auth_headers):
    # Given a taakgroep member who is no coordinator
    # When they ask for the default scope, their organisation's share
    answer = statistics(client, auth_headers(noord.taakgroep))
    # Then it is refused, saying what they may ask
    assert answer.status_code == 403
    assert "scope=region" in answer.get_json()["error"]["message"]


@pytest.mark.parametrize("bad", ["regio", "REGION", "all", "organisation,region"])
def test_a_bad_scope_is_named(client, noord, auth_headers, bad):
    answer = statistics(client, auth_headers(noord.both), scope=bad)
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "invalid_input"
    assert list(error["fields"]) == ["scope"]
    # with a bad period as well, both are named at once
    both = statistics(client, auth_headers(noord.both), scope=bad, **{"from": "gisteren"}).get_json()
    assert set(both["error"]["fields"]) == {"scope", "from"}


def test_an_organisation_without_a_region_gets_a_clear_answer(app, client, noord, auth_headers):
    # Given a taakgroep member whose organisation left its region
    headers = auth_headers(noord.taakgroep)  # (it merges the organisation as it was: first)
    with app.app_context():
        database.session.execute(
            update(Organisation).where(Organisation.id == noord.wijkteam.id).values(region_id=None)
        )
        database.commit()
    # When they ask for the region's figures
    answer = statistics(client, headers, scope="region")
    # Then the answer says so, naming the scope, and nothing is counted
    assert answer.status_code == 409
    error = answer.get_json()["error"]
    assert error["code"] == "no_region"
    assert "hoort bij geen regio" in error["fields"]["scope"][0]
    assert audit_rows(app, "statistics") == []


# --- the Monitoring page ---------------------------------------------------------------------------


LATER = datetime(2026, 4, 2, 10, 0, tzinfo=UTC)


def signed_in(app: Flask, web_login: Callable[[FlaskClient, User], Any], user: User) -> Callable[..., Any]:
    """A browser signed in as the user (once: each login spends an authenticator step): GET a
    path of March with more query parameters."""
    browser = app.test_client()
    with time_machine.travel(LATER, tick=True):
        web_login(browser, user)

    def get(path: str, **query: str) -> Any:
        with time_machine.travel(LATER, tick=True):
            return browser.get(path, query_string={**MARCH, **query})

    return get


def test_the_taakgroep_alone_sees_the_page_in_region_scope_only(app, noord, web_login):
    # Given a taakgroep member who is no coordinator
    # When they open Monitoring
    get = signed_in(app, web_login, noord.taakgroep)
    answer = get("/monitoring")
    # Then the menu offers Monitoring (not the accounts), the page counts the region, once
    assert answer.status_code == 200
    text = html.unescape(answer.get_data(as_text=True))
    assert ">Monitoring</a>" in text
    assert "Accounts" not in text
    assert "Te laat" not in text
    assert "1 melding · 2 inzetten · Regio Noord" in text
    # and offers no choice: the region is all they have
    assert 'name="scope"' not in text
    # and the CSV links carry the scope: the region's table downloads as the page shows it
    assert "scope=region" in text
    csv = get("/monitoring/inzet.csv", scope="region")
    assert csv.status_code == 200
    assert "Gezamenlijke VT/SEZ interventie ter plaatse;1" in csv.get_data(as_text=True)
    assert "-regio-" in csv.headers["Content-Disposition"]
    for secret in NEVER_SHOWN:
        assert secret not in text
    # When they ask for an organisation's share
    refused = get("/monitoring", scope="organisation")
    # Then it is refused, and logged with the scope
    assert refused.status_code == 403
    (row,) = [row for row in audit_rows(app, "page_request") if row.outcome == "forbidden"]
    assert row.detail["scope"] == "organisation"


def test_a_coordinator_of_the_taakgroep_chooses_organisation_or_region(app, noord, web_login):
    get = signed_in(app, web_login, noord.both)
    own = html.unescape(get("/monitoring").get_data(as_text=True))
    assert 'value="organisation" checked' in own
    assert "Mijn organisatie" in own
    assert "Regio Noord" in own
    assert "0 meldingen · 0 inzetten · Wijkteam Noord-Oost" in own
    region = get("/monitoring", scope="region")
    text = html.unescape(region.get_data(as_text=True))
    assert 'value="region" checked' in text
    assert "1 melding · 2 inzetten · Regio Noord" in text
    csv = get("/monitoring/maand.csv", scope="region").get_data(as_text=True)
    assert "mrt 2026;1" in csv
    # a bad scope is named next to the choice
    bad = get("/monitoring", scope="alles")
    assert bad.status_code == 400
    assert 'id="scope-error"' in bad.get_data(as_text=True)


def test_a_coordinator_without_the_role_sees_no_choice_and_is_refused_the_region(app, noord, web_login):
    get = signed_in(app, web_login, noord.police_coordinator)
    own = get("/monitoring")
    text = html.unescape(own.get_data(as_text=True))
    assert 'name="scope"' not in text
    assert "1 melding · 1 inzet · Politie Noord" in text
    assert get("/monitoring", scope="region").status_code == 403
    assert get("/monitoring/inzet.csv", scope="region").status_code == 403


# --- the pilot, seen by the taakgroep ---------------------------------------------------------------


def test_the_taakgroep_sees_the_pilots_83_meldingen(app, client, pilot, make_org, make_user, auth_headers):
    # Given the pilot's 83 meldingen, reported by the region's police and (25) by its VT, and a
    # taakgroep member of a wijkteam of the region that reported none of them
    member = make_user(roles=("region_monitor",), org=make_org("Wijkteam Lochem", region=REGION))
    # When they ask for the region's half year
    with time_machine.travel(AFTERWARDS, tick=True):
        answer = client.get(
            "/api/v1/statistics", query_string={**PERIOD, "scope": "region"}, headers=auth_headers(member)
        )
    figures = answer.get_json()
    # Then every melding counts, once, and every report of the region's organisations
    assert figures["meldingen"] == 83
    assert figures["reports"] == 83 + sum(call.vt_reports for call in CALLS)
    assert figures["meldingen_by_month"] == MONTHS
    assert figures["type_inzet"] == {**TYPE_INZET, "other": 0}
    assert figures["care_involvement"]["none"] == 36
    assert figures["lookups"]["total"] == sum(call.with_plan for call in CALLS)
    # the same tables as the police, who reported every melding, see of them
    police = test_pilot.statistics(client, auth_headers, pilot.police_coordinator)
    for table in ("meldingen_by_month", "time_of_day", "type_inzet", "violence_type", "household_type",
                  "care_involvement", "mental_health_service", "per_gemeente", "projection"):  # fmt: skip
        assert figures[table] == police[table], table
    # and not a name in it
    text = json.dumps(figures)
    for secret in ("NOG-", "Gezin", "Synthetisch", "Testveen", "Meldkamer", "Sociaal Team"):
        assert secret not in text
