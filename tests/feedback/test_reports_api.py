"""POST /api/v1/reports as the contract states it: fields, enums, the shown plan version, roles,
exactly-once with Idempotency-Key (also under concurrent retries), and appended amendments."""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from registry.core.models import User
from tests.feedback.conftest import AMSTERDAM, NARRATIVE, People, amsterdam, clock_at, report_body, stored
from tests.registry.plan_data import agreement, editable, plan_body

API = "/api/v1/reports"

REPORT_FIELDS = {
    # the request's fields, as stored
    "plan_id", "lookup_id", "incident_ref", "occurred_at", "mode", "responders", "violence_type",
    "household_type", "care_involvement", "mental_health_service", "agreements", "actions", "narrative",
    # the melding sheet's, optional
    "reached_after_minutes", "answered_by", "needed_mode", "hours_spent",
    # a spoedmelding marked by the responder
    "urgent", "urgent_reason",
    # and what the registry adds
    "id", "melding_id", "feedback_due", "spoed", "feedback_due_at", "created_at", "organisation",
    "reported_by", "call_back", "amendments",
    # for the organisation that reported only: what those who heard of it pick up
    "acknowledgements",
    # agreements and contacts proposed for the plan (null: none), with the owners' decision
    "proposals",
}  # fmt: skip
OUTCOME_FIELDS = {"agreement_id", "outcome", "note"}
AMENDMENT_FIELDS = {"note", "created_at", "by"}


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return dict(body["error"])


def instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, text
    return moment


# --- the 201 answer -----------------------------------------------------------------------------


def test_a_report_is_stored_and_answered_with_its_feedback_due_date(
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    post_report: Callable[..., Any],
) -> None:
    # Given a Friday-night incident, reported on Saturday morning
    with clock_at(amsterdam(2026, 3, 14, 9, 0)):
        plan = create_plan()
        lookup = look_up(plan)
        body = report_body(lookup, occurred_at=amsterdam(2026, 3, 13, 23, 40))

        response = post_report(body)

    assert response.status_code == 201, response.get_data(as_text=True)
    assert "Idempotent-Replayed" not in response.headers
    report = response.get_json()
    assert set(report) == REPORT_FIELDS
    uuid.UUID(report["id"])
    # what was sent comes back as sent
    for name in ("plan_id", "lookup_id", "incident_ref", "mode", "violence_type", "household_type",
                 "care_involvement", "mental_health_service", "actions", "narrative"):  # fmt: skip
        assert report[name] == body[name], name
    assert sorted(report["responders"]) == sorted(body["responders"])
    assert instant(report["occurred_at"]) == amsterdam(2026, 3, 13, 23, 40)
    assert [set(row) for row in report["agreements"]] == [OUTCOME_FIELDS] * 3
    assert [(row["agreement_id"], row["outcome"], row["note"]) for row in report["agreements"]] == [
        (row["agreement_id"], row["outcome"], row["note"]) for row in body["agreements"]
    ]
    # due the first working day after Friday 13 March in Amsterdam: Monday 16 March
    assert report["feedback_due"] == "2026-03-16"
    assert report["organisation"] == people.police_org.name
    assert report["amendments"] == []
    assert instant(report["created_at"]) <= datetime.now(UTC)


OFFSETS = [
    ("2026-03-12T23:30:00+00:00", "2026-03-16"),  # Thu 23:30 UTC is Fri 00:30 in Amsterdam
    ("2026-03-12T22:30:00+00:00", "2026-03-13"),  # Thu 23:30 in Amsterdam
    ("2026-03-12T18:30:00-05:00", "2026-03-16"),  # the same instant as the first, from New York
    ("2026-03-13T05:00:00+05:30", "2026-03-16"),  # Fri 00:30 in Amsterdam, written from India
    ("2026-03-12T23:30:00Z", "2026-03-16"),  # the first again, with Z
]


def test_the_due_date_follows_the_amsterdam_calendar_whatever_the_offset(
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    post_report: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    people: People,
) -> None:
    with clock_at(amsterdam(2026, 3, 14, 9, 0)):
        lookup = look_up(create_plan())
        for occurred_at, due in OFFSETS:
            response = post_report(report_body(lookup, occurred_at=occurred_at))
            assert response.status_code == 201, response.get_data(as_text=True)
            shown = client.get(f"{API}/{response.get_json()['id']}", headers=auth_headers(people.responder))
            assert response.get_json()["feedback_due"] == due, occurred_at
            assert shown.get_json()["feedback_due"] == due, occurred_at
            # the instant is kept, whatever offset it came with
            assert instant(response.get_json()["occurred_at"]) == instant(occurred_at)
            assert instant(shown.get_json()["occurred_at"]) == instant(occurred_at)


def test_the_categories_may_be_left_unregistered(
    create_plan: Callable[..., dict[str, Any]], look_up: Callable[..., Any], post_report: Callable[..., Any]
) -> None:
    body = report_body(look_up(create_plan()), agreements=[], actions=[], narrative="")
    for name in ("violence_type", "household_type", "care_involvement", "mental_health_service"):
        body[name] = None
    response = post_report(body)
    assert response.status_code == 201, response.get_data(as_text=True)
    report = response.get_json()
    assert [report[name] for name in ("violence_type", "household_type", "care_involvement",
                                      "mental_health_service")] == [None] * 4  # fmt: skip
    assert report["agreements"] == []


def test_the_report_can_be_read_back_by_its_organisation(
    report_on: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    people: People,
    make_user: Callable[..., User],
) -> None:
    _plan, report = report_on()
    colleague = make_user(roles=("responder",), org=people.police_org)
    response = client.get(f"{API}/{report['id']}", headers=auth_headers(colleague))
    assert response.status_code == 200
    assert response.get_json() == report


# --- refused input ------------------------------------------------------------------------------

REFUSED: list[tuple[str, dict[str, Any], str]] = [
    # (what is wrong, the change to a good body, the one field the answer names)
    ("a mode outside the contract", {"mode": "in_person"}, "mode"),
    ("the vocabulary is exact", {"mode": "ON_SITE_INTERVENTION"}, "mode"),
    ("no mode", {"mode": None}, "mode"),
    ("a responder outside the contract", {"responders": ["police", "ambulance"]}, "responders.1"),
    ("nobody went", {"responders": []}, "responders"),
    ("a responder twice", {"responders": ["police", "police"]}, "responders"),
    ("a violence type outside the contract", {"violence_type": "burglary"}, "violence_type"),
    ("an empty violence type (null is how to leave it out)", {"violence_type": ""}, "violence_type"),
    ("a household type outside the contract", {"household_type": "pets"}, "household_type"),
    ("a care involvement outside the contract", {"care_involvement": "sometimes"}, "care_involvement"),
    ("a mental health service outside the contract", {"mental_health_service": "elderly"},
     "mental_health_service"),
    ("an action outside the contract", {"actions": ["arrest", "fine"]}, "actions.1"),
    ("occurred_at without an offset: which day was it?", {"occurred_at": "2026-03-13T23:40:00"},
     "occurred_at"),
    ("occurred_at as a date", {"occurred_at": "2026-03-13"}, "occurred_at"),
    ("occurred_at as words", {"occurred_at": "gisteravond"}, "occurred_at"),
    ("occurred_at tomorrow", {"occurred_at": (datetime.now(AMSTERDAM) + timedelta(days=1)).isoformat()},
     "occurred_at"),
    ("occurred_at too long ago", {"occurred_at": "2020-01-01T12:00:00+01:00"}, "occurred_at"),
    ("no incident number", {"incident_ref": "  "}, "incident_ref"),
    ("a plan id that is no id", {"plan_id": "not-a-uuid"}, "plan_id"),
    ("a field the contract does not have", {"colour": "red"}, "colour"),
]  # fmt: skip


def test_every_value_outside_the_contract_is_refused_naming_the_field(
    app: Flask,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    post_report: Callable[..., Any],
) -> None:
    lookup = look_up(create_plan())
    before = stored(app)
    for why, change, field in REFUSED:
        response = post_report(report_body(lookup, **change), key=str(uuid.uuid4()))
        error = assert_error(response, 422, "invalid_input")
        assert list(error["fields"]) == [field], why

    body = report_body(lookup)
    body["agreements"][1]["outcome"] = "partly"
    error = assert_error(post_report(body), 422, "invalid_input")
    assert list(error["fields"]) == ["agreements.1.outcome"]

    assert stored(app) == before


def test_a_body_that_is_not_a_json_object_is_refused(
    client: FlaskClient, auth_headers: Callable[[User], dict[str, str]], people: People
) -> None:
    response = client.post(API, data="[1, 2]", headers=auth_headers(people.responder),
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"


def test_an_agreement_of_another_plan_is_refused_and_nothing_is_half_written(
    app: Flask,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    post_report: Callable[..., Any],
) -> None:
    # Given two plans, and a report on the first that names an agreement of the second last
    lookup = look_up(create_plan())
    other = create_plan(title="Gezin Anders")
    body = report_body(lookup)
    body["agreements"].append(
        {"agreement_id": other["agreements"][0]["id"], "outcome": "followed", "note": "verkeerd kader"}
    )
    before = stored(app)

    # When it is posted
    error = assert_error(post_report(body, key="k-bad-agreement"), 422, "invalid_input")

    # Then the field is named, and not one row of the report (nor its good agreements) is stored
    assert list(error["fields"]) == ["agreements.3.agreement_id"]
    assert stored(app) == before
    # and the key is not spent: the corrected report goes through with it
    body["agreements"].pop()
    assert post_report(body, key="k-bad-agreement").status_code == 201


def test_an_agreement_not_in_the_version_the_lookup_showed_is_refused(
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    people: People,
    app: Flask,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    post_report: Callable[..., Any],
) -> None:
    # Given a lookup that showed version 1, after which the registrant added an agreement (version 2)
    plan = create_plan()
    lookup = look_up(plan)
    updated = editable(plan, agreements=[*plan_body()["agreements"], agreement(trigger="Nieuwe afspraak")])
    response = client.put(
        f"/api/v1/plans/{plan['id']}", json=updated, headers=auth_headers(people.registrant)
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    newest = response.get_json()
    assert newest["version"] == 2
    shown_ids = {row["id"] for row in lookup["matches"][0]["plan"]["agreements"]}
    not_shown = next(row["id"] for row in newest["agreements"] if row["id"] not in shown_ids)

    # When the responder reports on an agreement the lookup did not show
    body = report_body(lookup)
    body["agreements"] = [{"agreement_id": not_shown, "outcome": "followed", "note": ""}]
    before = stored(app)
    error = assert_error(post_report(body), 422, "invalid_input")

    # Then it is refused by name; the agreements of the shown version are still accepted
    assert list(error["fields"]) == ["agreements.0.agreement_id"]
    assert stored(app) == before
    assert post_report(report_body(lookup)).status_code == 201


def test_a_lookup_of_another_organisation_is_refused(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    post_report: Callable[..., Any],
) -> None:
    # Given a lookup by the other control room
    theirs = look_up(create_plan(), responder=people.other_responder)
    before = stored(app)

    # When our responder reports on it
    error = assert_error(post_report(report_body(theirs)), 422, "invalid_input")

    # Then it is refused, naming the lookup
    assert list(error["fields"]) == ["lookup_id"]
    assert stored(app) == before


def test_a_lookup_that_did_not_show_the_plan_is_refused(
    create_plan: Callable[..., dict[str, Any]], look_up: Callable[..., Any], post_report: Callable[..., Any]
) -> None:
    lookup = look_up(create_plan())
    other = create_plan(title="Gezin Anders")
    body = report_body(lookup, plan_id=other["id"], agreements=[])
    error = assert_error(post_report(body), 422, "invalid_input")
    # the plan is named, as for a plan that does not exist (test_a_plan_not_shown_is_refused_...)
    assert list(error["fields"]) == ["plan_id"]


def test_an_unknown_plan_is_refused(
    create_plan: Callable[..., dict[str, Any]], look_up: Callable[..., Any], post_report: Callable[..., Any]
) -> None:
    body = report_body(look_up(create_plan()), plan_id=str(uuid.uuid4()))
    error = assert_error(post_report(body), 422, "invalid_input")
    assert list(error["fields"]) == ["plan_id"]


def test_a_plan_not_shown_is_refused_as_if_it_did_not_exist(
    app: Flask,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    post_report: Callable[..., Any],
) -> None:
    # Given an active plan nobody of our control room looked up, and our lookup of another plan
    lookup = look_up(create_plan())
    not_shown = create_plan(title="Gezin Nooit Geraadpleegd")
    nowhere = str(uuid.uuid4())
    before = stored(app)

    for with_lookup in (False, True):
        # When the responder reports on the plan not shown, and on a plan id that exists nowhere
        body = report_body(lookup, plan_id=not_shown["id"], agreements=[])
        if not with_lookup:
            del body["lookup_id"]
        refused = post_report(body)
        missing = post_report({**body, "plan_id": nowhere})

        # Then both are refused naming plan_id, with the very same answer: existence does not leak
        error = assert_error(refused, 422, "invalid_input")
        assert list(error["fields"]) == ["plan_id"], with_lookup
        assert (refused.status_code, refused.get_json()) == (missing.status_code, missing.get_json())
        assert "Gezin Nooit Geraadpleegd" not in refused.get_data(as_text=True)
    # and nothing is stored
    assert stored(app) == before


def test_without_a_lookup_id_the_organisation_must_have_been_shown_the_plan_within_12_hours(
    app: Flask,
    people: People,
    make_user: Callable[..., User],
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    post_report: Callable[..., Any],
) -> None:
    # Given a plan a colleague of our control room looked up at 22.00, and one only the other
    # control room looked up
    looked_up_at = amsterdam(2026, 3, 16, 22, 0)
    with clock_at(looked_up_at):
        ours = create_plan()
        colleague = make_user(roles=("responder",), org=people.police_org)
        lookup = look_up(ours, responder=colleague)
        theirs = create_plan(title="Gezin Anders")
        their_lookup = look_up(theirs, responder=people.other_responder)
        body = report_body(lookup)
        del body["lookup_id"]
        # When our responder reports on the other control room's find, without a lookup id
        foreign = post_report({**report_body(their_lookup), "lookup_id": None})
        # Then it is refused, naming the plan
        assert list(assert_error(foreign, 422, "invalid_input")["fields"]) == ["plan_id"]

    # When our responder reports on our plan without a lookup id, 11 hours 59 minutes later
    with clock_at(looked_up_at + timedelta(hours=11, minutes=59)):
        in_time = post_report(body)
    # Then it is stored, on the version the lookup showed
    assert in_time.status_code == 201, in_time.get_data(as_text=True)
    assert in_time.get_json()["plan_id"] == ours["id"]

    # When they do so again 12 hours 1 minute after the lookup
    with clock_at(looked_up_at + timedelta(hours=12, minutes=1)):
        before = stored(app)
        late = post_report(body)
        # (with the lookup named, a late report stays possible: the owners wait for it)
        named = post_report({**body, "lookup_id": lookup["lookup_id"]})

    # Then it is refused, naming the plan, and nothing more is stored than the named report
    assert list(assert_error(late, 422, "invalid_input")["fields"]) == ["plan_id"]
    assert named.status_code == 201, named.get_data(as_text=True)
    assert stored(app)["Report"] == before["Report"] + 1


def test_only_a_responder_may_report(
    app: Flask,
    people: People,
    make_user: Callable[..., User],
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    post_report: Callable[..., Any],
) -> None:
    body = report_body(look_up(create_plan()))
    before = stored(app)
    for role in ("registrant", "coordinator", "auditor"):
        someone = make_user(roles=(role,), org=people.owner_org)
        assert_error(post_report(body, responder=someone), 403, "forbidden")
    assert stored(app) == before


def test_without_a_token_it_is_401(client: FlaskClient) -> None:
    assert_error(client.post(API, json={}), 401, "unauthenticated")


# --- exactly once -------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_first_report(
    app: Flask,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    post_report: Callable[..., Any],
) -> None:
    body = report_body(look_up(create_plan()))
    before = stored(app)

    first = post_report(body, key="retry-1")
    again = post_report(copy.deepcopy(body), key="retry-1")

    assert first.status_code == again.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    after = stored(app)
    assert after["Report"] == before["Report"] + 1
    assert after["ReportAgreement"] == before["ReportAgreement"] + 3
    assert after["audited reports"] == before["audited reports"] + 1


def test_the_same_key_with_another_body_is_refused_and_nothing_is_stored(
    app: Flask,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    post_report: Callable[..., Any],
) -> None:
    body = report_body(look_up(create_plan()))
    first = post_report(body, key="retry-2")
    assert first.status_code == 201
    before = stored(app)

    changed = copy.deepcopy(body)
    changed["narrative"] = "Een ander verhaal"
    error = assert_error(post_report(changed, key="retry-2"), 422, "idempotency_key_reused")

    assert "Idempotency-Key" in error["fields"]
    assert stored(app) == before


def test_keys_belong_to_the_responder_who_sent_them(
    people: People,
    make_user: Callable[..., User],
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    post_report: Callable[..., Any],
) -> None:
    body = report_body(look_up(create_plan()))
    colleague = make_user(roles=("responder",), org=people.police_org)
    mine = post_report(body, key="shared-key")
    theirs = post_report(body, responder=colleague, key="shared-key")
    assert mine.status_code == theirs.status_code == 201
    assert mine.get_json()["id"] != theirs.get_json()["id"]
    assert "Idempotent-Replayed" not in theirs.headers


def test_without_a_key_two_posts_are_two_reports(
    app: Flask,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    post_report: Callable[..., Any],
) -> None:
    body = report_body(look_up(create_plan()))
    before = stored(app)
    first, second = post_report(body), post_report(body)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] != second.get_json()["id"]
    assert stored(app)["Report"] == before["Report"] + 2


def test_an_overlong_key_is_refused(
    create_plan: Callable[..., dict[str, Any]], look_up: Callable[..., Any], post_report: Callable[..., Any]
) -> None:
    body = report_body(look_up(create_plan()))
    error = assert_error(post_report(body, key="k" * 129), 400, "invalid_input")
    assert list(error["fields"]) == ["Idempotency-Key"]


def test_concurrent_retries_with_the_same_key_store_one_report(
    app: Flask,
    people: People,
    auth_headers: Callable[[User], dict[str, str]],
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
) -> None:
    # Given ten copies of one request, released at the same moment, each over its own connection
    body = report_body(look_up(create_plan()))
    headers = {**auth_headers(people.responder), "Idempotency-Key": "storm-1"}
    before = stored(app)
    barrier = threading.Barrier(10)
    answers: list[tuple[int, dict[str, Any], str | None]] = []
    failures: list[BaseException] = []

    def send() -> None:
        try:
            client = app.test_client()
            barrier.wait(timeout=30)
            response = client.post(API, json=body, headers=headers)
            answers.append(
                (response.status_code, response.get_json(), response.headers.get("Idempotent-Replayed"))
            )
        except BaseException as exc:  # collected and re-raised in the test's own thread
            failures.append(exc)

    # When they all arrive
    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then every one is answered 201 with the same report, and one report is stored
    assert not failures, failures
    assert [status for status, _body, _replayed in answers] == [201] * 10, answers
    assert len({answer["id"] for _status, answer, _replayed in answers}) == 1
    assert sorted(replayed or "" for _status, _body, replayed in answers) == [""] + ["true"] * 9
    after = stored(app)
    assert after["Report"] == before["Report"] + 1
    assert after["ReportAgreement"] == before["ReportAgreement"] + 3
    assert after["audited reports"] == before["audited reports"] + 1


# --- amendments ---------------------------------------------------------------------------------


def test_amendments_are_appended_and_the_report_itself_never_changes(
    app: Flask,
    report_on: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    people: People,
) -> None:
    _plan, report = report_on()
    headers = auth_headers(people.responder)
    amendments = f"{API}/{report['id']}/amendments"

    first = client.post(amendments, json={"note": "De tante heeft de kinderen opgehaald."}, headers=headers)
    second = client.post(amendments, json={"note": "THV is opgelegd door de burgemeester."}, headers=headers)

    assert first.status_code == second.status_code == 201
    shown = client.get(f"{API}/{report['id']}", headers=headers).get_json()
    assert shown == second.get_json()
    assert [set(row) for row in shown["amendments"]] == [AMENDMENT_FIELDS] * 2
    assert [row["note"] for row in shown["amendments"]] == [
        "De tante heeft de kinderen opgehaald.",
        "THV is opgelegd door de burgemeester.",
    ]
    assert instant(shown["amendments"][0]["created_at"]) <= instant(shown["amendments"][1]["created_at"])
    assert {key: value for key, value in shown.items() if key != "amendments"} == {
        key: value for key, value in report.items() if key != "amendments"
    }
    assert shown["narrative"] == NARRATIVE


def test_a_report_has_no_way_to_be_edited(
    report_on: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    people: People,
) -> None:
    _plan, report = report_on()
    headers = auth_headers(people.responder)
    for method in (client.put, client.patch, client.delete):
        response = method(f"{API}/{report['id']}", json={"narrative": "anders"}, headers=headers)
        assert response.status_code == 405
    assert client.get(f"{API}/{report['id']}", headers=headers).get_json() == report


def test_an_empty_or_overlong_amendment_is_refused(
    app: Flask,
    report_on: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    people: People,
) -> None:
    _plan, report = report_on()
    before = stored(app)
    headers = auth_headers(people.responder)
    for note in ("", "   ", None, "x" * 4001):
        response = client.post(f"{API}/{report['id']}/amendments", json={"note": note}, headers=headers)
        error = assert_error(response, 422, "invalid_input")
        assert list(error["fields"]) == ["note"], note
    assert stored(app) == before


def test_another_organisation_cannot_read_or_amend_the_report(
    app: Flask,
    report_on: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    people: People,
) -> None:
    # Given a report by our control room
    _plan, report = report_on()
    before = stored(app)
    headers = auth_headers(people.other_responder)

    # When the other control room reads or amends it
    read = client.get(f"{API}/{report['id']}", headers=headers)
    amend = client.post(f"{API}/{report['id']}/amendments", json={"note": "Van ons"}, headers=headers)

    # Then it does not exist for them (404, as for an id that was never used), and nothing changed
    assert_error(read, 404, "not_found")
    assert_error(amend, 404, "not_found")
    assert_error(client.get(f"{API}/{uuid.uuid4()}", headers=headers), 404, "not_found")
    assert_error(client.get(f"{API}/not-a-uuid", headers=headers), 404, "not_found")
    assert stored(app) == before
    assert client.get(f"{API}/{report['id']}", headers=auth_headers(people.responder)).get_json() == report


def test_a_registrant_cannot_use_the_report_endpoints(
    report_on: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    people: People,
) -> None:
    _plan, report = report_on()
    headers = auth_headers(people.registrant)
    assert_error(client.get(f"{API}/{report['id']}", headers=headers), 403, "forbidden")
    assert_error(
        client.post(f"{API}/{report['id']}/amendments", json={"note": "x"}, headers=headers), 403, "forbidden"
    )


# --- closed days ----------------------------------------------------------------------------------


def test_a_closed_day_configured_by_the_administrator_moves_the_due_date(
    app: Flask,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    post_report: Callable[..., Any],
) -> None:
    cli = app.test_cli_runner()
    added = cli.invoke(args=["closed-days", "add", "2026-03-16", "--reason", "Teamdag"])
    assert added.exit_code == 0, added.output
    with clock_at(amsterdam(2026, 3, 14, 9, 0)):
        lookup = look_up(create_plan())
        closed = post_report(report_body(lookup, occurred_at=amsterdam(2026, 3, 13, 23, 40)))
        assert closed.get_json()["feedback_due"] == "2026-03-17"  # Monday closed: Tuesday

        removed = cli.invoke(args=["closed-days", "remove", "2026-03-16"])
        assert removed.exit_code == 0, removed.output
        reopened = post_report(report_body(lookup, occurred_at=amsterdam(2026, 3, 13, 23, 45)))
        assert reopened.get_json()["feedback_due"] == "2026-03-16"
        # a report already made keeps the day it was given
        assert closed.get_json()["feedback_due"] == "2026-03-17"
    assert cli.invoke(args=["closed-days", "remove", "2026-03-16"]).exit_code != 0


def test_closed_days_are_listed_from_today_in_amsterdam(app: Flask) -> None:
    cli = app.test_cli_runner()
    for day in ("2026-03-15", "2026-03-16", "2026-12-24"):
        assert cli.invoke(args=["closed-days", "add", day, "--reason", "Dicht"]).exit_code == 0
    # 00.30 on Monday in Amsterdam is still Sunday in UTC: Sunday is past
    with clock_at(amsterdam(2026, 3, 16, 0, 30)):
        listed = cli.invoke(args=["closed-days", "list"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines() == ["2026-03-16 Dicht", "2026-12-24 Dicht"]
