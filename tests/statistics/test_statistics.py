"""The monitoring tables from a known set of reports, around the day-part boundaries, in winter
and summer time; every table asserted exactly, and the CSV as a spreadsheet reads it."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask.testing import FlaskClient

from registry.core import config
from registry.core.config import ConfigError
from registry.core.models import Organisation, User
from registry.statistics import operations
from tests.registry.plan_data import plan_body

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

# (local time, mode, responders, violence_type, household_type, care, mental health, outcome)
# Wednesday 14 January 2026 is winter time (+01:00); Saturday 11 July 2026 summer time (+02:00)
KNOWN = [
    (datetime(2026, 1, 14, 8, 59), "phone_advice", ["police"], "partner_violence", "minor_children", "none", "adult", "followed"),
    (datetime(2026, 1, 14, 9, 0), "on_site_intervention", ["police", "cit"], "child_abuse", None, "present", None, "followed"),
    (datetime(2026, 1, 14, 16, 59), "on_site_intervention", ["cit", "police"], None, "no_children", None, "not_needed", "not_followed"),
    (datetime(2026, 1, 14, 17, 0), "joint_assessment", ["cit"], "partner_violence", "minor_children", "informed_by_phone", "youth", "not_applicable"),
    (datetime(2026, 1, 14, 21, 59), "remote_intervention", ["police"], "elder_abuse", "adult_children", "none", None, "followed"),
    (datetime(2026, 1, 14, 22, 0), "on_site_intervention", ["police", "cit"], "partner_violence", "minor_children", "present", "adult", "followed"),
    (datetime(2026, 7, 11, 8, 59), "phone_advice", ["police"], None, None, None, None, "not_followed"),
    (datetime(2026, 7, 11, 9, 0), "on_site_intervention", ["police", "cit"], "honour_based", "minor_children", "none", "youth", "followed"),
    (datetime(2026, 7, 11, 17, 0), "on_site_intervention", ["police", "cit"], "partner_violence", "no_children", "present", "adult", "followed"),
    (datetime(2026, 7, 11, 22, 0), "joint_assessment", ["youth_protection"], "child_abuse", "minor_children", None, None, "not_applicable"),
    (datetime(2026, 7, 15, 9, 0), "phone_advice", ["veilig_thuis"], "other_domestic", "adult_children", "informed_by_phone", "not_needed", "followed"),
]  # fmt: skip


def _record(
    client: FlaskClient,
    registrant_headers: dict[str, str],
    responder_headers: dict[str, str],
    row: tuple[Any, ...],
    index: int,
) -> None:
    local, mode, responders, violence, household, care, mental, outcome = row
    occurred = local.replace(tzinfo=AMSTERDAM)
    plan = client.post("/api/v1/plans", json=plan_body(title=f"Gezin {index}"), headers=registrant_headers)
    assert plan.status_code == 201, plan.get_json()
    plan_json = plan.get_json()
    address = plan_json["addresses"][0]
    found = client.post(
        "/api/v1/lookups",
        json={
            "incident_ref": f"S-{index}",
            "address": {"postcode": address["postcode"], "house_number": address["house_number"]},
        },
        headers=responder_headers,
    ).get_json()
    match = next(m for m in found["matches"] if m["plan"]["id"] == plan_json["id"])
    body = {
        "plan_id": plan_json["id"],
        "lookup_id": found["lookup_id"],
        "incident_ref": f"S-{index}",
        # alternately with its local offset and in UTC: the same moment either way
        "occurred_at": occurred.isoformat()
        if index % 2
        else occurred.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "mode": mode,
        "responders": responders,
        "violence_type": violence,
        "household_type": household,
        "care_involvement": care,
        "mental_health_service": mental,
        "agreements": [
            {"agreement_id": a["id"], "outcome": outcome, "note": ""} for a in match["plan"]["agreements"]
        ],
        "actions": [],
        "narrative": "Synthetisch.",
    }
    answer = client.post("/api/v1/reports", json=body, headers=responder_headers)
    assert answer.status_code == 201, answer.get_json()


@pytest.fixture
def known_reports(
    client: FlaskClient,
    make_org: Callable[..., Organisation],
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
) -> dict[str, User]:
    """The KNOWN reports, each recorded half an hour after it happened (the clock moved there)."""
    owner_org = make_org("Wijkteam Statistiek", kind="social_team")
    police_org = make_org("Meldkamer Statistiek", kind="police")
    registrant = make_user(roles=("registrant",), org=owner_org)
    coordinator = make_user(roles=("coordinator",), org=owner_org)
    responder = make_user(roles=("responder",), org=police_org)
    police_coordinator = make_user(roles=("coordinator",), org=police_org)
    stranger = make_user(roles=("coordinator",), org=make_org("Elders", kind="social_team"))
    for index, row in enumerate(KNOWN):
        moment = row[0].replace(tzinfo=AMSTERDAM) + timedelta(minutes=30)
        with time_machine.travel(moment.astimezone(UTC), tick=True):
            _record(client, auth_headers(registrant), auth_headers(responder), row, index)
    return {"coordinator": coordinator, "police_coordinator": police_coordinator, "stranger": stranger}


PERIOD = {"from": "2026-01-01", "to": "2026-07-31"}


def _statistics(client: FlaskClient, headers: dict[str, str], **period: str) -> dict[str, Any]:
    with time_machine.travel(datetime(2026, 8, 3, 10, 0, tzinfo=UTC), tick=True):
        answer = client.get("/api/v1/statistics", query_string=period or PERIOD, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()  # type: ignore[no-any-return]


def test_every_table_of_the_owning_organisation_is_exact(client, known_reports, auth_headers):
    with time_machine.travel(datetime(2026, 8, 3, 10, 0, tzinfo=UTC), tick=True):
        headers = auth_headers(known_reports["coordinator"])
    figures = _statistics(client, headers)

    assert figures["from"] == "2026-01-01"
    assert figures["to"] == "2026-07-31"
    assert figures["reports_by_month"] == {
        "2026-01": 6, "2026-02": 0, "2026-03": 0, "2026-04": 0, "2026-05": 0, "2026-06": 0, "2026-07": 5,
    }  # fmt: skip
    # 08.59 is still night, 09.00 day, 16.59 day, 17.00 evening, 21.59 evening, 22.00 night;
    # a Saturday daytime call is weekend; the UTC-written 07.00Z on 15 July is 09.00 in summer
    assert figures["time_of_day"] == {
        "day_weekday": 3, "day_weekend": 1, "evening": 3, "night": 4, "day": 4, "evening_night": 7,
    }  # fmt: skip
    # every report is a melding of its own here (each its own meldingnummer)
    assert figures["meldingen"] == 11
    assert figures["meldingen_by_month"] == figures["reports_by_month"]
    # police + cit on site is SEZ on site; VT's advice is VT's; the rest has no VT or SEZ type
    # (youth_protection is the jeugdbeschermer, not SEZ)
    assert figures["type_inzet"] == {
        "vt_phone_advice": 1, "vt_on_site_with_police": 0, "vt_remote": 0, "vt_sez_joint_assessment": 0,
        "vt_sez_on_site": 0, "sez_on_site_with_police": 5, "sez_remote": 0, "other": 5,
    }  # fmt: skip
    assert figures["responders_mode"] == [
        {"responders": ["cit", "police"], "mode": "on_site_intervention", "count": 5},
        {"responders": ["police"], "mode": "phone_advice", "count": 2},
        {"responders": ["cit"], "mode": "joint_assessment", "count": 1},
        {"responders": ["police"], "mode": "remote_intervention", "count": 1},
        {"responders": ["veilig_thuis"], "mode": "phone_advice", "count": 1},
        {"responders": ["youth_protection"], "mode": "joint_assessment", "count": 1},
    ]
    assert figures["violence_type"] == {
        "partner_violence": 4, "child_abuse": 2, "parent_abuse": 0, "honour_based": 1, "forced_marriage": 0,
        "elder_abuse": 1, "other_domestic": 1, "unregistered": 2,
    }  # fmt: skip
    assert figures["household_type"] == {
        "minor_children": 5,
        "adult_children": 2,
        "no_children": 2,
        "unregistered": 2,
    }
    assert figures["care_involvement"] == {"none": 3, "informed_by_phone": 2, "present": 3, "unregistered": 3}
    assert figures["mental_health_service"] == {"adult": 3, "youth": 2, "not_needed": 2, "unregistered": 4}
    assert figures["lookups"] == {"total": 11, "with_match": 11, "without_report": 0}
    # each plan_body plan has its agreements; every one got the row's outcome
    per_plan = len(plan_body()["agreements"])
    followed, not_followed, not_applicable = 7 * per_plan, 2 * per_plan, 2 * per_plan
    assert figures["agreements"] == {
        "followed": followed,
        "not_followed": not_followed,
        "not_applicable": not_applicable,
        "share_followed": round(followed / (followed + not_followed), 3),
    }
    assert figures["reports"] == 11


def test_a_period_takes_whole_amsterdam_days(client, known_reports, auth_headers):
    with time_machine.travel(datetime(2026, 8, 3, 10, 0, tzinfo=UTC), tick=True):
        headers = auth_headers(known_reports["coordinator"])
    # 11 July 2026 local: four calls, the first at 08.59 local = 06.59 UTC
    figures = _statistics(client, headers, **{"from": "2026-07-11", "to": "2026-07-11"})
    assert figures["reports"] == 4
    assert figures["reports_by_month"] == {"2026-07": 4}


def test_the_responders_coordinator_sees_what_their_organisation_recorded(
    client, known_reports, auth_headers
):
    with time_machine.travel(datetime(2026, 8, 3, 10, 0, tzinfo=UTC), tick=True):
        police = auth_headers(known_reports["police_coordinator"])
        stranger = auth_headers(known_reports["stranger"])
    assert _statistics(client, police)["reports"] == 11
    nothing = _statistics(client, stranger)
    assert nothing["reports"] == 0
    assert nothing["lookups"] == {"total": 0, "with_match": 0, "without_report": 0}
    assert set(nothing["violence_type"].values()) == {0}


def test_the_statistics_carry_no_names_addresses_or_narratives(client, known_reports, auth_headers):
    with time_machine.travel(datetime(2026, 8, 3, 10, 0, tzinfo=UTC), tick=True):
        headers = auth_headers(known_reports["coordinator"])
    text = str(_statistics(client, headers))
    for personal in ("Gezin", "Testveen", "Noor", "9401", "Verzonnenstraat", "Synthetisch", "S-1"):
        assert personal not in text


def test_only_coordinators_and_a_bad_period_is_named(client, known_reports, auth_headers, make_user):
    registrant = make_user(roles=("registrant", "responder"))
    assert client.get("/api/v1/statistics", headers=auth_headers(registrant)).status_code == 403
    with time_machine.travel(datetime(2026, 8, 3, 10, 0, tzinfo=UTC), tick=True):
        headers = auth_headers(known_reports["coordinator"])
        bad = client.get("/api/v1/statistics", query_string={"from": "2026-13-01"}, headers=headers)
        backwards = client.get(
            "/api/v1/statistics", query_string={"from": "2026-07-01", "to": "2026-01-01"}, headers=headers
        )
    assert bad.status_code == 400
    assert "from" in bad.get_json()["error"]["fields"]
    assert backwards.status_code == 400
    assert "from" in backwards.get_json()["error"]["fields"]


def test_the_csv_opens_in_a_dutch_spreadsheet_with_one_row_per_category(app, known_reports, web_login):
    client = app.test_client()
    with time_machine.travel(datetime(2026, 8, 3, 10, 0, tzinfo=UTC), tick=True):
        web_login(client, known_reports["coordinator"])
        answer = client.get("/monitoring/tijdstip.csv", query_string=PERIOD)
        violence = client.get("/monitoring/geweld.csv", query_string=PERIOD)
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    text = answer.get_data(as_text=True)
    assert text.startswith("\ufeff")  # the BOM makes Excel read UTF-8
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows == [
        ["Tijdstip", "Aantal"],
        ["Overdag 09.00–17.00 uur", "4"],
        ["Maandag t/m vrijdag", "3"],
        ["Zaterdag en zondag", "1"],
        ["Avond en nacht 17.00–09.00 uur", "7"],
        ["Avond 17.00–22.00 uur", "3"],
        ["Nacht 22.00–09.00 uur", "4"],
    ]
    violence_rows = list(
        csv.reader(io.StringIO(violence.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    assert violence_rows[0] == ["Aard van het geweld", "Aantal"]
    assert len(violence_rows) == 1 + 7 + 1  # every category, zeros too, and 'Niet geregistreerd'
    assert violence_rows[-1] == ["Niet geregistreerd", "2"]


# --- the type inzet, from who responded and how -------------------------------------------------


@pytest.mark.parametrize(
    ("responders", "modes", "expected"),
    [
        ({"police", "veilig_thuis"}, ["phone_advice"], "vt_phone_advice"),
        ({"police", "veilig_thuis"}, ["phone_advice", "on_site_intervention"], "vt_on_site_with_police"),
        ({"police", "veilig_thuis"}, ["remote_intervention", "phone_advice"], "vt_remote"),
        ({"police", "veilig_thuis"}, ["joint_assessment"], "other"),
        ({"veilig_thuis", "cit"}, ["phone_advice", "joint_assessment"], "vt_sez_joint_assessment"),
        ({"veilig_thuis", "cit"}, ["remote_intervention"], "vt_sez_joint_assessment"),
        ({"police", "veilig_thuis", "cit"}, ["joint_assessment", "on_site_intervention"], "vt_sez_on_site"),
        ({"police", "cit"}, ["on_site_intervention"], "sez_on_site_with_police"),
        ({"police", "cit"}, ["phone_advice", "remote_intervention"], "sez_remote"),
        ({"police", "cit"}, ["joint_assessment"], "other"),
        # the jeugdbeschermer is not SEZ
        ({"police", "youth_protection"}, ["on_site_intervention"], "other"),
        ({"police"}, ["on_site_intervention"], "other"),
    ],
)
def test_the_type_inzet_of_a_melding(responders: set[str], modes: list[str], expected: str) -> None:
    assert operations.type_inzet(responders, operations.most_intensive(modes)) == expected


def test_the_most_intensive_mode_wins() -> None:
    assert operations.most_intensive(["joint_assessment", "remote_intervention"]) == "joint_assessment"
    assert operations.most_intensive(["remote_intervention", "phone_advice"]) == "remote_intervention"


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("PROJECTION_POPULATION", "veel"),
        ("PROJECTION_POPULATION", "0"),
        ("HOURS_PER_TYPE_INZET", "vt_phone_advice"),
        ("HOURS_PER_TYPE_INZET", "brandweer=2"),
        ("HOURS_PER_TYPE_INZET", "vt_remote=-1"),
    ],
)
def test_a_bad_projection_setting_stops_the_app(app_config: dict[str, Any], setting: str, value: str) -> None:
    with pytest.raises(ConfigError, match=setting):
        config.load({**app_config, setting: value})


def test_the_projection_settings_are_read(app_config: dict[str, Any]) -> None:
    loaded = config.load(
        {
            **app_config,
            "PROJECTION_POPULATION": "842.000",
            "HOURS_PER_TYPE_INZET": "vt_remote=3,sez_remote=2.5",
        }
    )
    assert loaded["PROJECTION_POPULATION"] == 842000
    # the pilot's estimates, where nothing else is said
    assert loaded["HOURS_PER_TYPE_INZET"]["vt_phone_advice"] == 1.5
    assert loaded["HOURS_PER_TYPE_INZET"]["vt_remote"] == 3.0
