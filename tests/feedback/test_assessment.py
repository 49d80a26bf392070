"""The five core questions as a melding's shared record (issue 22): a partner who reports after
another reads the first one's answers and adds to them, nothing is edited away, nobody outside
the melding reads it (404, audited), and the plan's owners find the whole record in their
feedback item."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from registry.core.db import db as database
from registry.core.models import AssessmentAddition, AuditEntry, Organisation, Report, User
from registry.regions import operations as regions
from tests.conftest import csrf_from
from tests.feedback.conftest import AMSTERDAM, People, report_body
from tests.feedback.test_report_form import filled_form

Headers = Callable[[User], dict[str, str]]

HAPPENED = "Buren hoorden geschreeuw; moeder met blauwe plek, vader dronken. Eerste keer volgens moeder."
SAFE_NOW = "Vader aangehouden. Kinderen (4 en 7) slapen bij de tante; daar is het veilig."
KNOWN = "VT kent het gezin sinds 2025; vader onder behandeling bij de verslavingszorg."
NEEDED_NOW = "Binnen een dag: gesprek met moeder; binnen een week: overleg met het wijkteam."


def audited(app: Flask, action: str, outcome: str) -> list[AuditEntry]:
    with app.app_context():
        return list(
            database.session.scalars(
                select(AuditEntry).where(AuditEntry.action == action, AuditEntry.outcome == outcome)
            )
        )


def additions(app: Flask) -> int:
    with app.app_context():
        return database.session.scalar(select(func.count()).select_from(AssessmentAddition)) or 0


@pytest.fixture
def cit(make_org: Callable[..., Organisation], make_user: Callable[..., User]) -> User:
    """A crisis worker of the region's CIT, the second organisation on the melding."""
    return make_user(roles=("responder",), org=make_org("CIT Noord", kind="cit"))


@pytest.fixture
def melding(
    people: People,
    cit: User,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., dict[str, Any]],
    post_report: Callable[..., Any],
) -> dict[str, Any]:
    """The police report at night with questions 1 and 3; the CIT reports on the same melding with
    question 2. -> {"plan", "police", "cit"}: the plan and both reports."""
    plan = create_plan()
    # an earlier melding on this family, a week before: the registry knows of it
    earlier = post_report(
        report_body(
            look_up(plan, incident_ref="P-2026-0007"),
            datetime.now(AMSTERDAM) - timedelta(days=8),
            incident_ref="P-2026-0007",
        )
    )
    assert earlier.status_code == 201, earlier.get_data(as_text=True)
    police = post_report(
        report_body(look_up(plan), assessment={"happened": HAPPENED, "safe_now": SAFE_NOW, "known": ""})
    )
    assert police.status_code == 201, police.get_data(as_text=True)
    second = post_report(
        report_body(
            look_up(plan, responder=cit), responders=["cit"], assessment={"known": KNOWN}
        ),  # the same meldingnummer, within 7 days: the same melding
        responder=cit,
    )
    assert second.status_code == 201, second.get_data(as_text=True)
    assert second.get_json()["melding_id"] == police.get_json()["melding_id"]
    return {"plan": plan, "police": police.get_json(), "cit": second.get_json()}


def texts(section: list[dict[str, Any]]) -> list[str]:
    return [addition["text"] for addition in section]


def test_a_second_organisation_sees_the_first_ones_answers_and_adds_to_them(
    app: Flask, client: FlaskClient, auth_headers: Headers, people: People, cit: User, melding: dict[str, Any]
) -> None:
    melding_id = melding["police"]["melding_id"]

    # When the CIT worker, who reported second, opens the melding
    response = client.get(f"/api/v1/meldingen/{melding_id}", headers=auth_headers(cit))

    # Then the police's answers are there, with who wrote them and when, beside the CIT's own
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    record = response.get_json()
    assert record["incident_ref"] == "P-2026-0001"
    assert record["organisations"] == ["CIT Noord", "Meldkamer Politie Noord"]
    assessment = record["assessment"]
    assert texts(assessment["happened"]) == [HAPPENED]
    assert assessment["happened"][0]["organisation"] == "Meldkamer Politie Noord"
    assert assessment["happened"][0]["report_id"] == melding["police"]["id"]
    assert texts(assessment["safe_now"]) == [SAFE_NOW]
    assert texts(assessment["known"]) == [KNOWN]  # the police's empty answer added nothing
    assert assessment["known"][0]["organisation"] == "CIT Noord"
    assert assessment["needed_now"] == []
    assert assessment["involved"] == []
    # and question 2 shows what the registry already knows, to confirm rather than ask
    known = record["known"]
    assert known["plan_id"] == melding["plan"]["id"]
    assert known["owner"] == "Wijkteam Oost"
    assert known["risk_signals"] == ["weapons", "threat_to_kill"]
    assert len(known["earlier_meldingen"]) == 1
    assert known["measures"] is None  # lopende maatregelen are not recorded yet
    # the plan's persons by name and role; the one who must not know is marked, never reachable
    assert known["persons"] == [
        {"name": "Noor van der Testveen", "role": "victim", "do_not_inform": False},
        {"name": "Sam Testman", "role": "perpetrator", "do_not_inform": True},
    ]
    assert "06-11223344" not in response.get_data(as_text=True)
    assert "1988-07-15" not in response.get_data(as_text=True)

    # When the CIT worker adds question 4 and corrects the police's question 1
    first = assessment["happened"][0]["id"]
    corrected = HAPPENED.replace("Eerste keer", "Derde keer dit jaar")
    response = client.post(
        f"/api/v1/meldingen/{melding_id}/assessment",
        json={"needed_now": NEEDED_NOW, "happened": corrected, "corrects": {"happened": first}},
        headers=auth_headers(cit),
    )

    # Then both are on the record; the police's answer stays, marked as corrected by the new one
    assert response.status_code == 201, response.get_data(as_text=True)
    after = response.get_json()["assessment"]
    assert texts(after["needed_now"]) == [NEEDED_NOW]
    assert texts(after["happened"]) == [HAPPENED, corrected]
    assert after["happened"][0]["corrected_by"] == after["happened"][1]["id"]
    assert after["happened"][1]["corrects"] == first
    assert after["happened"][1]["organisation"] == "CIT Noord"
    assert after["happened"][1]["report_id"] is None

    # And the police read the same record
    police_view = client.get(f"/api/v1/meldingen/{melding_id}", headers=auth_headers(people.responder))
    assert police_view.status_code == 200
    assert police_view.get_json()["assessment"] == after
    # every read and every addition is audited
    assert len(audited(app, "melding_read", "success")) == 3
    assert len(audited(app, "assessment_add", "success")) == 3  # police's report, CIT's, the addition


def test_the_regions_veilig_thuis_and_the_plans_sharers_read_it_too(
    app: Flask,
    client: FlaskClient,
    auth_headers: Headers,
    people: People,
    make_org: Callable[..., Organisation],
    make_user: Callable[..., User],
    share_plan: Callable[[dict[str, Any], Organisation], None],
    melding: dict[str, Any],
) -> None:
    # Given the region's Veilig Thuis, which did not report, and a partner the plan is shared with
    veilig_thuis = make_org("Veilig Thuis Noord", kind="veilig_thuis")
    with app.app_context():
        regions.set_veilig_thuis(
            database.session, regions.find_or_add(database.session, "Noord"), veilig_thuis.name
        )
        database.commit()
    vt_worker = make_user(roles=("registrant",), org=veilig_thuis)
    share_plan(melding["plan"], people.partner_org)
    melding_id = melding["police"]["melding_id"]

    # Then both read the melding
    for reader in (vt_worker, people.partner_registrant, people.registrant):
        response = client.get(f"/api/v1/meldingen/{melding_id}", headers=auth_headers(reader))
        assert response.status_code == 200, (reader.organisation_id, response.get_data(as_text=True))
        assert texts(response.get_json()["assessment"]["safe_now"]) == [SAFE_NOW]


def test_an_organisation_outside_the_melding_gets_404_audited(
    app: Flask, client: FlaskClient, auth_headers: Headers, people: People, melding: dict[str, Any]
) -> None:
    melding_id = melding["police"]["melding_id"]
    before = additions(app)

    # When a control room that did not report, and a wijkteam that does not see the plan, try it
    for outsider in (people.other_responder, people.stranger_registrant):
        read = client.get(f"/api/v1/meldingen/{melding_id}", headers=auth_headers(outsider))
        added = client.post(
            f"/api/v1/meldingen/{melding_id}/assessment",
            json={"happened": "Iets anders."},
            headers=auth_headers(outsider),
        )
        # Then it is not found, as a melding that does not exist is
        assert read.status_code == 404
        assert added.status_code == 404
        assert read.get_json() == added.get_json()
        assert HAPPENED not in read.get_data(as_text=True)
    unknown = client.get(
        "/api/v1/meldingen/00000000-0000-0000-0000-000000000000", headers=auth_headers(people.other_responder)
    )
    assert unknown.status_code == 404
    assert unknown.get_json() == read.get_json()
    assert client.get("/api/v1/meldingen/x", headers=auth_headers(people.other_responder)).status_code == 404

    # And nothing was added, and every attempt is in the audit log
    assert additions(app) == before
    refused_reads = audited(app, "melding_read", "not_found")
    assert {entry.object_id for entry in refused_reads[:2]} == {melding_id}
    assert len(refused_reads) == 4
    assert len(audited(app, "assessment_add", "not_found")) == 2


def test_the_plans_owners_see_the_whole_record_in_their_feedback_item(
    client: FlaskClient,
    auth_headers: Headers,
    web_login: Callable[[FlaskClient, User], Any],
    people: People,
    cit: User,
    melding: dict[str, Any],
) -> None:
    melding_id = melding["police"]["melding_id"]
    client.post(
        f"/api/v1/meldingen/{melding_id}/assessment",
        json={"needed_now": NEEDED_NOW},
        headers=auth_headers(cit),
    )

    # When the wijkteam reads its feedback
    items = client.get("/api/v1/feedback", headers=auth_headers(people.registrant)).get_json()["items"]

    # Then each report's item carries its melding's whole record
    on_melding = [item for item in items if item["melding"] and item["melding"]["id"] == melding_id]
    assert {item["report"]["id"] for item in on_melding} == {melding["police"]["id"], melding["cit"]["id"]}
    assessment = on_melding[0]["melding"]["assessment"]
    assert texts(assessment["happened"]) == [HAPPENED]
    assert texts(assessment["known"]) == [KNOWN]
    assert texts(assessment["safe_now"]) == [SAFE_NOW]
    assert texts(assessment["needed_now"]) == [NEEDED_NOW]

    # And on the page Terugkoppeling each answer is shown once, though two items are of the melding
    web_login(client, people.registrant)
    page = client.get("/terugkoppeling").get_data(as_text=True)
    for answer in (HAPPENED, KNOWN, SAFE_NOW, NEEDED_NOW):
        assert page.count(answer) == 1, answer
    assert "Niet informeren — deze persoon mag niet van het handelingskader weten" in page

    # And the printable hand-over holds the five answers, and no contact details of the person
    # who must not know
    summary = client.get(f"/meldingen/{melding_id}/overdracht")
    assert summary.status_code == 200
    text = summary.get_data(as_text=True)
    for answer in (HAPPENED, KNOWN, SAFE_NOW, NEEDED_NOW):
        assert text.count(answer) == 1, answer
    assert "Sam Testman" in text
    assert "06-11223344" not in text
    assert "+31611223344" not in text
    assert "Verzonnenstraat" not in text  # no address of the family at all


def test_the_page_refuses_an_outsider_as_not_found(
    app: Flask,
    client: FlaskClient,
    web_login: Callable[[FlaskClient, User], Any],
    people: People,
    melding: dict[str, Any],
) -> None:
    web_login(client, people.stranger_registrant)
    melding_id = melding["police"]["melding_id"]
    assert client.get(f"/meldingen/{melding_id}").status_code == 404
    assert client.get(f"/meldingen/{melding_id}/overdracht").status_code == 404
    assert len(audited(app, "melding_read", "not_found")) == 2


@pytest.mark.parametrize(
    ("assessment", "field"),
    [
        ({"happened": "x" * 2001}, "assessment.happened"),
        ({"safe_now": 7}, "assessment.safe_now"),
        ({"needed_now": "Nu\u202eweg"}, "assessment.needed_now"),
        ({"wat": "iets"}, "assessment.wat"),
        ("alles goed", "assessment._schema"),
    ],
)
def test_a_report_with_a_bad_answer_names_the_field_and_stores_nothing(
    app: Flask,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., dict[str, Any]],
    post_report: Callable[..., Any],
    assessment: Any,
    field: str,
) -> None:
    response = post_report(report_body(look_up(create_plan()), assessment=assessment))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert list(response.get_json()["error"]["fields"]) == [field]
    with app.app_context():
        assert database.session.scalar(select(func.count()).select_from(Report)) == 0
    assert additions(app) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "_schema"),
        ({"happened": "  "}, "_schema"),
        ({"involved": "y" * 2001}, "involved"),
        ({"happened": "Anders.", "corrects": {"happened": "een"}}, "corrects.happened.value"),
        ({"happened": "Anders.", "corrects": {"gebeurd": 1}}, "corrects.gebeurd.key"),
        ({"known": "Ook dit.", "corrects": {"happened": 1}}, "corrects.happened"),
    ],
)
def test_an_addition_with_a_bad_field_names_it(
    app: Flask,
    client: FlaskClient,
    auth_headers: Headers,
    people: People,
    melding: dict[str, Any],
    body: dict[str, Any],
    field: str,
) -> None:
    before = additions(app)
    response = client.post(
        f"/api/v1/meldingen/{melding['police']['melding_id']}/assessment",
        json=body,
        headers=auth_headers(people.responder),
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert list(response.get_json()["error"]["fields"]) == [field]
    assert additions(app) == before


def test_a_correction_must_be_of_the_same_question_of_the_same_melding(
    app: Flask, client: FlaskClient, auth_headers: Headers, people: People, melding: dict[str, Any]
) -> None:
    melding_id = melding["police"]["melding_id"]
    record = client.get(f"/api/v1/meldingen/{melding_id}", headers=auth_headers(people.responder)).get_json()
    safe_now = record["assessment"]["safe_now"][0]["id"]
    before = additions(app)
    response = client.post(
        f"/api/v1/meldingen/{melding_id}/assessment",
        json={"happened": "Anders.", "corrects": {"happened": safe_now}},
        headers=auth_headers(people.responder),
    )
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["corrects.happened"]
    assert additions(app) == before


def test_the_report_form_names_a_bad_answer_under_its_field_and_keeps_the_others(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given the report form after a lookup
    plan = create_plan()
    lookup = look_up(plan)
    browser = app.test_client()
    web_login(browser, people.responder)
    page = browser.get(
        "/raadplegen/inzet", query_string={"lookup_id": lookup["lookup_id"], "plan_id": plan["id"]}
    )
    text = html.unescape(page.get_data(as_text=True))
    data = filled_form(text, plan["agreements"])
    data["occurred_at"] = (datetime.now(AMSTERDAM) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")

    # When question 3 is too long and question 1 is fine
    data["assessment-happened"] = HAPPENED
    data["assessment-safe_now"] = "x" * 2001
    answer = browser.post("/raadplegen/inzet", data=data)

    # Then the form comes back, the error under question 3, question 1 still filled in
    assert answer.status_code == 422
    shown = html.unescape(answer.get_data(as_text=True))
    assert 'id="assessment-safe_now-error">Gebruik hoogstens 2000 tekens.' in shown
    assert f">{HAPPENED}</textarea>" in shown
    with app.app_context():
        assert database.session.scalar(select(func.count()).select_from(Report)) == 0
    assert additions(app) == 0

    # When it is sent right, the answer is on the melding's page
    data["assessment-safe_now"] = SAFE_NOW
    stored_answer = browser.post("/raadplegen/inzet", data=data)
    assert stored_answer.status_code == 302
    done = html.unescape(browser.get(stored_answer.headers["Location"]).get_data(as_text=True))
    link = re.search(r'href="(/meldingen/[0-9a-f-]+)"', done)
    assert link is not None
    melding_page = html.unescape(browser.get(link.group(1)).get_data(as_text=True))
    assert HAPPENED in melding_page
    assert SAFE_NOW in melding_page

    # And adding nothing on that page says what to do
    empty = browser.post(link.group(1), data={"csrf_token": csrf_from(melding_page)})
    assert empty.status_code == 422
    assert "Vul minstens één van de vijf vragen in." in html.unescape(empty.get_data(as_text=True))
