"""The Gelderland pilot, reproduced: 83 meldingen from November 2023 to April 2024 (36 about a
family without a handelingskader, some reported by the police and Veilig Thuis both), recorded
through the real API, give every table of ../shared/PILOT-TABLES.md exactly, its subtotals,
its type inzet and its projection from the gemeenten's configured population.

The pilot's figures are per melding and do not say which melding had which category: the rows
below deal each table's counts out over the meldingen in a fixed shuffled order."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from registry.core.db import db as database
from registry.core.models import Organisation, User
from registry.regions import operations as regions
from registry.regions.cli import region
from tests.registry.plan_data import address, plan_body

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
REGION = "Noord Oost Gelderland"
# the eight participating gemeenten and their inhabitants (301.727 together)
GEMEENTEN = {
    "Bronkhorst": 36118, "Doetinchem": 59613, "Montferland": 36897, "Oude IJsselstreek": 39396,
    "Brummen": 21282, "Lochem": 34292, "Voorst": 25383, "Zutphen": 48746,
}  # fmt: skip
REGION_POPULATION = 842000  # the whole region, 22 gemeenten: the projection's target
HOURS = {
    "vt_phone_advice": 1.5, "vt_on_site_with_police": 4.5, "vt_remote": 2.5, "vt_sez_joint_assessment": 2.5,
    "vt_sez_on_site": 4.5, "sez_on_site_with_police": 4.5, "sez_remote": 2.5,
}  # fmt: skip

# --- the pilot's tables --------------------------------------------------------------------------

MONTHS = {"2023-11": 20, "2023-12": 9, "2024-01": 5, "2024-02": 16, "2024-03": 10, "2024-04": 23}
TIME_OF_DAY = {"day_weekday": 19, "day_weekend": 11, "evening": 33, "night": 20}
TYPE_INZET = {
    "vt_phone_advice": 54, "vt_on_site_with_police": 2, "vt_remote": 5, "vt_sez_joint_assessment": 10,
    "vt_sez_on_site": 3, "sez_on_site_with_police": 5, "sez_remote": 4,
}  # fmt: skip
VIOLENCE = {"partner_violence": 38, "child_abuse": 25, "parent_abuse": 7, "other_domestic": 4, None: 9}
HOUSEHOLD = {"minor_children": 41, "adult_children": 5, "no_children": 28, None: 9}
# "Geen betrokken hulpverlening": the 36 meldingen about a family without a handelingskader
CARE_WITH_PLAN = {"informed_by_phone": 8, "present": 1, None: 38}
MENTAL_HEALTH = {"adult": 1, "youth": 1, "not_needed": 58, None: 23}
WITHOUT_PLAN = 36

# How each type inzet is recorded: the police's report (responders, mode) and, for some, Veilig
# Thuis's own report of the same call (responders, mode) that raises who and how together.
RECORDED: dict[str, tuple[tuple[list[str], str], tuple[list[str], str] | None]] = {
    "vt_phone_advice": ((["police", "veilig_thuis"], "phone_advice"), None),
    "vt_on_site_with_police": ((["police", "veilig_thuis"], "on_site_intervention"), None),
    "vt_remote": ((["police"], "phone_advice"), (["veilig_thuis"], "remote_intervention")),
    "vt_sez_joint_assessment": (
        (["police", "veilig_thuis"], "phone_advice"),
        (["veilig_thuis", "cit"], "joint_assessment"),
    ),
    "vt_sez_on_site": ((["police", "veilig_thuis", "cit"], "on_site_intervention"), None),
    "sez_on_site_with_police": ((["police", "cit"], "on_site_intervention"), None),
    "sez_remote": ((["police", "cit"], "remote_intervention"), None),
}  # fmt: skip
# and VT reports ten of the phone advices too, with the same responders
VT_ALSO_ON_PHONE_ADVICE = 10


def dealt(counts: dict[Any, int], seed: int) -> list[Any]:
    values = [value for value, count in counts.items() for _ in range(count)]
    random.Random(seed).shuffle(values)
    return values


@dataclass
class Call:
    number: int
    occurred_at: datetime
    with_plan: bool
    gemeente: str
    type_inzet: str
    vt_reports: bool
    categories: dict[str, str | None]


def _day_in(month: str, index: int, weekend: bool | None) -> date:
    """A day of the month, spread by index, moved on to a weekday or weekend day when asked."""
    year, number = (int(part) for part in month.split("-"))
    day = date(year, number, 1 + (index * 5) % 27)
    while weekend is not None and (day.weekday() >= 5) != weekend:
        day += timedelta(days=1)
    return day


def _moment(month: str, index: int, part: str) -> datetime:
    weekend = {"day_weekday": False, "day_weekend": True}.get(part)
    day = _day_in(month, index, weekend)
    hour, minute = {"day_weekday": (9, 0), "day_weekend": (16, 59), "evening": (17, 0)}.get(
        part, (23, 30) if index % 2 else (8, 59)
    )
    if part == "evening" and index % 2:
        hour, minute = 21, 59
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMSTERDAM)


def the_calls() -> list[Call]:
    months = [month for month, count in MONTHS.items() for _ in range(count)]
    parts, types = dealt(TIME_OF_DAY, 1), dealt(TYPE_INZET, 2)
    violence, household, mental = dealt(VIOLENCE, 3), dealt(HOUSEHOLD, 4), dealt(MENTAL_HEALTH, 5)
    with_plan = dealt({True: len(months) - WITHOUT_PLAN, False: WITHOUT_PLAN}, 6)
    care_with_plan = iter(dealt(CARE_WITH_PLAN, 7))
    phone_advice_seen = 0
    calls = []
    for number, month in enumerate(months):
        kind = types[number]
        vt_reports = RECORDED[kind][1] is not None
        if kind == "vt_phone_advice":
            phone_advice_seen += 1
            vt_reports = phone_advice_seen <= VT_ALSO_ON_PHONE_ADVICE
        calls.append(
            Call(
                number=number,
                occurred_at=_moment(month, number, parts[number]),
                with_plan=with_plan[number],
                gemeente=list(GEMEENTEN)[number % len(GEMEENTEN)],
                type_inzet=kind,
                vt_reports=vt_reports,
                categories={
                    "violence_type": violence[number],
                    "household_type": household[number],
                    "care_involvement": next(care_with_plan) if with_plan[number] else "none",
                    "mental_health_service": mental[number],
                },
            )
        )
    return calls


CALLS = the_calls()

# --- recording them through the API --------------------------------------------------------------


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The network's settings: the region's inhabitants and the hours per type inzet."""
    return {**app_config, "PROJECTION_POPULATION": str(REGION_POPULATION), "HOURS_PER_TYPE_INZET": HOURS}


@dataclass
class Network:
    police: User
    veilig_thuis: User
    registrant: User
    police_coordinator: User
    vt_coordinator: User
    wijkteam_coordinator: User


def _decoy(name: str, value: str | None) -> str | None:
    """Another value of the category, for a report that a later one corrects."""
    others = {
        "violence_type": ("other_domestic", "partner_violence"),
        "household_type": ("no_children", "minor_children"),
        "care_involvement": ("informed_by_phone", "none"),
        "mental_health_service": ("not_needed", "adult"),
    }[name]
    return others[0] if value != others[0] else others[1]


def _police_body(call: Call) -> dict[str, Any]:
    (responders, mode), _vt = RECORDED[call.type_inzet]
    # a later VT report that fills a category in is the melding's; one that leaves it empty is not
    return {
        "incident_ref": f"NOG-{call.number:04d}",
        "occurred_at": call.occurred_at.isoformat(),
        "mode": mode,
        "responders": responders,
        **{
            name: _decoy(name, value) if _vt_corrects(call) and value is not None else value
            for name, value in call.categories.items()
        },
        "narrative": "Synthetisch.",
    }


def _vt_corrects(call: Call) -> bool:
    return call.vt_reports and call.number % 2 == 1


def _vt_body(call: Call) -> dict[str, Any]:
    responders, mode = RECORDED[call.type_inzet][1] or (["veilig_thuis"], "phone_advice")
    return {
        # the same meldingnummer, typed otherwise
        "incident_ref": f"nog-{call.number:04d}",
        "occurred_at": call.occurred_at.isoformat(),
        "mode": mode,
        "responders": responders,
        **(call.categories if _vt_corrects(call) else {}),
        "narrative": "Synthetisch, VT.",
    }


def _police_reports(
    client: FlaskClient, headers: Callable[[User], dict[str, str]], net: Network, call: Call
) -> None:
    body = _police_body(call)
    police = headers(net.police)
    if call.with_plan:
        # the family's handelingskader, at its residence in the gemeente: the melding's gemeente
        plan = client.post(
            "/api/v1/plans",
            json=plan_body(
                title=f"Gezin {call.number}",
                addresses=[address(house_number=1000 + call.number, city=call.gemeente.upper())],
            ),
            headers=headers(net.registrant),
        ).get_json()
        found = client.post(
            "/api/v1/lookups",
            json={
                "incident_ref": body["incident_ref"],
                "address": {"postcode": "9401 AB", "house_number": 1000 + call.number},
            },
            headers=police,
        ).get_json()
        body |= {"plan_id": plan["id"], "lookup_id": found["lookup_id"]}
    else:
        body["gemeente"] = call.gemeente
    answer = client.post("/api/v1/reports", json=body, headers=police)
    assert answer.status_code == 201, answer.get_json()


def _vt_reports(
    client: FlaskClient, headers: Callable[[User], dict[str, str]], net: Network, call: Call
) -> None:
    answer = client.post("/api/v1/reports", json=_vt_body(call), headers=headers(net.veilig_thuis))
    assert answer.status_code == 201, answer.get_json()


@pytest.fixture
def pilot(
    app: Flask,
    client: FlaskClient,
    make_org: Callable[..., Organisation],
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
    tmp_path: Path,
) -> Network:
    police_org = make_org("Meldkamer Oost-Nederland", kind="police", region=REGION)
    vt_org = make_org("Veilig Thuis Noord- en Oost-Gelderland", kind="veilig_thuis", region=REGION)
    wijkteam = make_org("Sociaal Team Zutphen", kind="social_team", region=REGION)
    # the gemeenten with their inhabitants, from the network's spreadsheet
    table = tmp_path / "gemeenten.csv"
    table.write_text(
        "name;population\n"
        + "".join(f"{name};{count:,}\n".replace(",", ".") for name, count in GEMEENTEN.items()),
        encoding="utf-8",
    )
    imported = app.test_cli_runner().invoke(region, ["gemeente", "import", str(table), "--region", REGION])
    assert imported.exit_code == 0, imported.output
    vt_org, police_org, wijkteam = name_veilig_thuis(app, REGION, vt_org, police_org, wijkteam)
    net = Network(
        police=make_user(roles=("responder",), org=police_org),
        veilig_thuis=make_user(roles=("responder",), org=vt_org),
        registrant=make_user(roles=("registrant",), org=wijkteam),
        police_coordinator=make_user(roles=("coordinator",), org=police_org),
        vt_coordinator=make_user(roles=("coordinator",), org=vt_org),
        wijkteam_coordinator=make_user(roles=("coordinator",), org=wijkteam),
    )
    # in the order of the clock: the police half an hour after the call, VT two hours after it
    steps = [(call.occurred_at + timedelta(minutes=30), 0, call) for call in CALLS]
    steps += [(call.occurred_at + timedelta(hours=2), 1, call) for call in CALLS if call.vt_reports]
    for moment, step, call in sorted(steps, key=lambda item: (item[0], item[1], item[2].number)):
        with time_machine.travel(moment.astimezone(UTC), tick=True):
            (_police_reports, _vt_reports)[step](client, auth_headers, net, call)
    return net


def name_veilig_thuis(app: Flask, region_name: str, *organisations: Organisation) -> list[Organisation]:
    """Name the region's VT (the first organisation); the organisations read again afterwards.
    make_user and auth_headers merge the organisation they are given and, with it, its region as
    that object last saw it: a region read before its VT was named would lose it again."""
    with app.app_context():
        session = database.session
        regions.set_veilig_thuis(session, regions.find_or_add(session, region_name), organisations[0].name)
        database.commit()
        fresh = [session.get(Organisation, organisation.id) for organisation in organisations]
        for organisation in fresh:
            session.expunge(organisation)
        return fresh  # type: ignore[return-value]


PERIOD = {"from": "2023-11-01", "to": "2024-04-30"}
AFTERWARDS = datetime(2024, 5, 2, 10, 0, tzinfo=UTC)


def statistics(client: FlaskClient, auth_headers: Callable[[User], dict[str, str]], user: User) -> Any:
    with time_machine.travel(AFTERWARDS, tick=True):
        answer = client.get("/api/v1/statistics", query_string=PERIOD, headers=auth_headers(user))
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def with_unregistered(counts: dict[Any, int], codes: tuple[str, ...]) -> dict[str, int]:
    return {**{code: counts.get(code, 0) for code in codes}, "unregistered": counts.get(None, 0)}


# --- the tables ----------------------------------------------------------------------------------


def test_the_pilot_tables_come_out_exactly(client, pilot, auth_headers):
    # Given the 83 meldingen, every one reported by the police and 25 by Veilig Thuis too
    assert sum(call.vt_reports for call in CALLS) == 25
    # When the police's coordinator asks for the pilot's half year
    figures = statistics(client, auth_headers, pilot.police_coordinator)

    # Then every melding counts once, however many organisations reported it
    assert figures["meldingen"] == 83
    assert figures["meldingen_by_month"] == MONTHS
    # (the reports the police see are their own: VT's reports without a plan reach VT only, but
    # they count in what the melding was, below)
    assert figures["reports"] == 83
    assert sum(figures["reports_by_month"].values()) == 83
    # Tijdstip van melding, with the pilot's subtotals: 30 by day, 53 in the evening and night
    assert figures["time_of_day"] == {**TIME_OF_DAY, "day": 30, "evening_night": 53}
    # Type inzet: the seven types, from all reports of a melding together, nothing else
    assert figures["type_inzet"] == {**TYPE_INZET, "other": 0}
    # the categories of the most recent report that filled them in
    assert figures["violence_type"] == {
        "partner_violence": 38, "child_abuse": 25, "parent_abuse": 7, "honour_based": 0, "forced_marriage": 0,
        "elder_abuse": 0, "other_domestic": 4, "unregistered": 9,
    }  # fmt: skip
    assert figures["household_type"] == {
        "minor_children": 41,
        "adult_children": 5,
        "no_children": 28,
        "unregistered": 9,
    }
    assert figures["care_involvement"] == {
        "none": 36,
        "informed_by_phone": 8,
        "present": 1,
        "unregistered": 38,
    }
    assert figures["mental_health_service"] == {"adult": 1, "youth": 1, "not_needed": 58, "unregistered": 23}


def test_the_projection_from_the_configured_population(client, pilot, auth_headers):
    figures = statistics(client, auth_headers, pilot.police_coordinator)
    # Each gemeente's meldingen (from the plan's residence, or named by the report), per year
    # per 1.000 inwoners
    per_gemeente = Counter(call.gemeente for call in CALLS)
    assert figures["per_gemeente"] == {
        name: {
            "meldingen": per_gemeente[name],
            "population": population,
            "per_1000": round(per_gemeente[name] * 2 / population * 1000, 2),
        }
        for name, population in sorted(GEMEENTEN.items())
    }
    assert figures["per_gemeente"]["Zutphen"] == {"meldingen": 10, "population": 48746, "per_1000": 0.41}
    assert figures["gemeente_unregistered"] == 0
    # The pilot's projection: 83 in half a year is 166 a year, 0,55 per 1.000 of the 301.727
    # inwoners; for the region's 842.000, 463 a year
    projection = figures["projection"]
    assert {key: projection[key] for key in ("meldingen", "per_year", "population", "per_1000")} == {
        "meldingen": 83, "per_year": 166, "population": 301727, "per_1000": 0.55,
    }  # fmt: skip
    assert (projection["region_population"], projection["region_per_year"]) == (842000, 463)
    # and the capacity: per type inzet, the region's meldingen a year × the hours of one
    scale = 2 * REGION_POPULATION / 301727
    expected = [
        {
            "type_inzet": code,
            "hours_per_melding": HOURS.get(code),
            "meldingen_per_year": round(TYPE_INZET.get(code, 0) * scale),
            "hours_per_year": round(round(TYPE_INZET.get(code, 0) * scale) * HOURS[code], 1)
            if code in HOURS
            else None,
        }
        for code in (*TYPE_INZET, "other")
    ]
    assert projection["capacity"] == expected
    assert projection["capacity"][0] == {
        "type_inzet": "vt_phone_advice", "hours_per_melding": 1.5,
        "meldingen_per_year": 301, "hours_per_year": 451.5,
    }  # fmt: skip
    assert projection["capacity_basis"] == "region"
    assert projection["capacity_hours"] == round(sum(row["hours_per_year"] or 0 for row in expected), 1)


def test_each_organisation_sees_its_share_each_melding_once(client, pilot, auth_headers):
    # Veilig Thuis: it hears of every report of its region's control room, with or without a
    # plan, so it sees every melding, once
    vt = statistics(client, auth_headers, pilot.vt_coordinator)
    assert vt["meldingen"] == 83
    # the police's 83 reports and its own 25
    assert vt["reports"] == 83 + sum(1 for call in CALLS if call.vt_reports)
    # the wijkteam: the meldingen on its plans, counted with VT's report on them
    wijkteam = statistics(client, auth_headers, pilot.wijkteam_coordinator)
    assert wijkteam["meldingen"] == 83 - WITHOUT_PLAN
    assert wijkteam["care_involvement"]["none"] == 0
    with_plan = [call for call in CALLS if call.with_plan]
    assert wijkteam["type_inzet"] == {
        code: sum(1 for call in with_plan if call.type_inzet == code) for code in (*TYPE_INZET, "other")
    }


def test_the_csv_and_page_carry_the_pilots_labels(app, pilot, web_login):
    browser = app.test_client()
    with time_machine.travel(AFTERWARDS, tick=True):
        web_login(browser, pilot.police_coordinator)
        page = browser.get("/monitoring", query_string=PERIOD).get_data(as_text=True)
        inzet = browser.get("/monitoring/inzet.csv", query_string=PERIOD).get_data(as_text=True)
        projectie = browser.get("/monitoring/projectie.csv", query_string=PERIOD).get_data(as_text=True)
        no_chart = browser.get("/monitoring/projectie.svg", query_string=PERIOD)
    assert "83 meldingen · 83 inzetten" in page
    assert "Avond en nacht 17.00–09.00 uur" in page
    assert inzet.lstrip("\ufeff").splitlines() == [
        "Type inzet;Aantal",
        "VT telefonisch advies aan politie;54",
        "VT interventie ter plaatse, samen met politie;2",
        "VT interventie op afstand richting gezin/huishouden;5",
        "Gezamenlijke VT/SEZ afstemming/beoordeling;10",
        "Gezamenlijke VT/SEZ interventie ter plaatse;3",
        "SEZ interventie ter plaatse, samen met politie;5",
        "SEZ interventie op afstand richting gezin;4",
        "Overig;0",
    ]
    assert projectie.lstrip("\ufeff").splitlines() == [
        "Projectie;Waarde",
        "Meldingen in de periode;83",
        "Per jaar bij dit tempo;166",
        "Inwoners van de gemeenten;301.727",
        "Per 1.000 inwoners per jaar;0,55",
        "Inwoners van de regio;842.000",
        "Verwachte meldingen per jaar in de regio;463",
    ]
    assert no_chart.status_code == 404


# --- each melding once ---------------------------------------------------------------------------


def test_a_melding_reported_by_two_organisations_counts_once(app, client, make_org, make_user, auth_headers):
    # Given the police and Veilig Thuis of one region, both reporting one call without a plan
    police_org = make_org("Meldkamer Een", kind="police", region="Een")
    vt_org = make_org("Veilig Thuis Een", kind="veilig_thuis", region="Een")
    vt_org, police_org = name_veilig_thuis(app, "Een", vt_org, police_org)
    police = make_user(roles=("responder",), org=police_org)
    vt = make_user(roles=("responder",), org=vt_org)
    coordinators = [make_user(roles=("coordinator",), org=org) for org in (police_org, vt_org)]
    moment = datetime(2026, 3, 16, 23, 40, tzinfo=AMSTERDAM)
    with time_machine.travel((moment + timedelta(hours=9)).astimezone(UTC), tick=True):
        for who, responders, mode, violence in (
            (police, ["police", "veilig_thuis"], "phone_advice", "partner_violence"),
            (vt, ["veilig_thuis", "cit"], "on_site_intervention", None),
        ):
            answer = client.post(
                "/api/v1/reports",
                json={
                    "incident_ref": "P-2026-0001",
                    "occurred_at": moment.isoformat(),
                    "mode": mode,
                    "responders": responders,
                    "violence_type": violence,
                },  # fmt: skip
                headers=auth_headers(who),
            )
            assert answer.status_code == 201, answer.get_json()
        # When each organisation's coordinator looks at March
        counts = [
            client.get(
                "/api/v1/statistics",
                query_string={"from": "2026-03-01", "to": "2026-03-31"},
                headers=auth_headers(coordinator),
            ).get_json()
            for coordinator in coordinators
        ]
    # Then each sees one melding: a night call (registered the next morning), a joint VT/SEZ
    # intervention on site, partner violence from the police's report; the police count their
    # own report, VT both (it hears of every melding without a plan in its region)
    assert [figures["reports"] for figures in counts] == [1, 2]
    for figures in counts:
        assert figures["meldingen"] == 1
        assert figures["meldingen_by_month"] == {"2026-03": 1}
        assert figures["time_of_day"]["night"] == 1
        assert figures["type_inzet"]["vt_sez_on_site"] == 1
        assert sum(figures["type_inzet"].values()) == 1
        assert figures["violence_type"]["partner_violence"] == 1
        assert figures["responders_mode"] == [
            {"responders": ["cit", "police", "veilig_thuis"], "mode": "on_site_intervention", "count": 1}
        ]
