"""The control room's report form after a lookup: the shown plan's agreements as a checklist,
the time as the officer types it (Amsterdam), exactly once on a double submit."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.datastructures import MultiDict

from registry.core.db import db as database
from registry.core.models import AuditEntry, Plan, User
from tests.conftest import csrf_from
from tests.feedback.conftest import People, amsterdam, clock_at, stored
from tests.registry.plan_data import editable, today

FORM = "/raadplegen/inzet"
REFUSED = "Inzetformulier niet beschikbaar"


def filled_form(page_html: str, agreements: list[dict[str, Any]]) -> MultiDict[str, str]:
    """What an officer submits: the prefilled fields of the page (hidden ones and the incident
    number), and the choices made."""
    prefilled = []
    for tag in re.findall(r"<input [^>]*>", page_html):
        attributes = dict(re.findall(r'([a-z_-]+)="([^"]*)"', tag))
        if attributes.get("type") in ("hidden", "text") and "value" in attributes:
            prefilled.append((attributes["name"], attributes["value"]))
    assert {name for name, _value in prefilled} >= {"csrf_token", "idempotency_key", "lookup_id", "plan_id",
                                                     "incident_ref"}  # fmt: skip
    data = MultiDict(
        [
            *prefilled,
            ("occurred_at", "2026-03-13T23:40"),  # datetime-local: Amsterdam wall-clock time
            ("mode", "on_site_intervention"),
            ("responders", "police"),
            ("responders", "cit"),
            ("actions", "arrest"),
            ("household_type", "minor_children"),
            ("narrative", "Vader aangehouden."),
        ]
    )
    for agreement, outcome in zip(agreements, ("followed", "not_followed", "not_applicable"), strict=True):
        data[f"outcome-{agreement['id']}"] = outcome
        data[f"note-{agreement['id']}"] = f"Notitie {agreement['position']}"
    return data


def test_the_form_lists_the_agreements_and_records_the_report_once(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    with clock_at(amsterdam(2026, 3, 14, 0, 30)):
        # Given a lookup that found the plan
        plan = create_plan()
        lookup = look_up(plan)
        browser = app.test_client()
        web_login(browser, people.responder)

        # When the officer opens the report form
        page = browser.get(FORM, query_string={"lookup_id": lookup["lookup_id"], "plan_id": plan["id"]})
        assert page.status_code == 200
        text = html.unescape(page.get_data(as_text=True))

        # Then every agreement of the shown plan is there to tick, with the outcomes in Dutch
        for agreement in plan["agreements"]:
            assert agreement["trigger"] in text
            assert f'name="outcome-{agreement["id"]}"' in text
        for label in ("Uitgevoerd", "Niet uitgevoerd", "Niet van toepassing"):
            assert text.count(label) == len(plan["agreements"])

        # When it is submitted, and submitted again (a double click)
        before = stored(app)
        data = filled_form(text, plan["agreements"])
        first = browser.post(FORM, data=data)
        second = browser.post(FORM, data=data)

        # Then one report is stored, and both answers lead to it, the second saying it was stored
        # already: with an arrest a spoedmelding, due on Saturday at 08.40 (Friday 23.40 in
        # Amsterdam + 9 hours), not on Monday
        assert first.status_code == second.status_code == 302
        assert second.headers["Location"] == first.headers["Location"] + "?al=1"
        assert stored(app)["Report"] == before["Report"] + 1
        again = html.unescape(browser.get(second.headers["Location"]).get_data(as_text=True))
        assert again.count("is al geregistreerd") == 1
        done = html.unescape(browser.get(first.headers["Location"]).get_data(as_text=True))
        assert "al geregistreerd" not in done
        assert "vrijdag 13 maart 2026 om 23.40 uur" in done
        assert 'id="terugkoppelen-voor">zaterdag 14 maart 2026 08.40 uur</strong>' in done

        report_id = first.headers["Location"].rsplit("/", 1)[1]
        report = client.get(f"/api/v1/reports/{report_id}", headers=auth_headers(people.responder)).get_json()
    assert datetime.fromisoformat(report["occurred_at"]) == amsterdam(2026, 3, 13, 23, 40)
    assert report["feedback_due"] == "2026-03-16"  # the terugkoppeldag, for the date views
    assert report["feedback_due_at"] == amsterdam(2026, 3, 14, 8, 40).astimezone(UTC).isoformat()
    assert [(row["outcome"], row["note"]) for row in report["agreements"]] == [
        ("followed", "Notitie 1"),
        ("not_followed", "Notitie 2"),
        ("not_applicable", "Notitie 3"),
    ]
    assert sorted(report["responders"]) == ["cit", "police"]


def test_a_form_without_the_type_of_response_is_shown_again_and_nothing_is_stored(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    with clock_at(amsterdam(2026, 3, 14, 0, 30)):
        plan = create_plan()
        lookup = look_up(plan)
        browser = app.test_client()
        web_login(browser, people.responder)
        page = browser.get(FORM, query_string={"lookup_id": lookup["lookup_id"], "plan_id": plan["id"]})
        data = filled_form(html.unescape(page.get_data(as_text=True)), plan["agreements"])
        del data["mode"]
        before = stored(app)

        refused = browser.post(FORM, data=data)

    assert refused.status_code == 422
    text = html.unescape(refused.get_data(as_text=True))
    assert 'id="mode-error"' in text
    assert "Vader aangehouden." in text  # what was typed is kept
    assert stored(app) == before


def test_the_form_of_another_organisations_lookup_does_not_exist(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    plan = create_plan()
    theirs = look_up(plan, responder=people.other_responder)
    browser = app.test_client()
    web_login(browser, people.responder)
    page = browser.get(FORM, query_string={"lookup_id": theirs["lookup_id"], "plan_id": plan["id"]})
    assert page.status_code == 404
    assert plan["title"] not in page.get_data(as_text=True)


# --- who may open the form, and how long: the form shows the plan again -------------------------


def open_form(browser: FlaskClient, lookup: dict[str, Any], plan_id: str | None = None) -> Any:
    return browser.get(
        FORM, query_string={"lookup_id": lookup["lookup_id"], "plan_id": plan_id or lookup_plan(lookup)}
    )


def lookup_plan(lookup: dict[str, Any]) -> str:
    return str(lookup["matches"][0]["plan"]["id"])


def without_csrf(page: Any) -> tuple[int, str]:
    """The answer as a person sees it; the CSRF token of the logout button differs per request."""
    return page.status_code, re.sub(r'value="[^"]*"', 'value=""', page.get_data(as_text=True))


def assert_refused(page: Any, plan: dict[str, Any]) -> None:
    """The Dutch refusal, and nothing of the plan: not its title, agreements or people."""
    assert page.status_code == 404, page.get_data(as_text=True)
    text = html.unescape(page.get_data(as_text=True))
    assert REFUSED in text
    assert "nieuwe raadpleging" in text
    for secret in (
        plan["title"],
        plan["agreements"][0]["trigger"],
        plan["persons"][0]["surname"],
        plan["id"],
    ):
        assert secret not in text


def form_audit(app: Flask, user: User) -> list[tuple[str, str, dict[str, Any]]]:
    """(outcome, plan id, detail) of each audit row of the report form opened by `user`."""
    with app.app_context():
        rows = database.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "report_form", AuditEntry.user_id == user.id)
            .order_by(AuditEntry.id)
        )
        return [(row.outcome, row.object_id, row.detail) for row in rows]


def test_a_colleague_in_the_same_control_room_cannot_open_the_form_of_my_lookup(
    app: Flask,
    people: People,
    make_user: Callable[..., User],
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given an officer's lookup that showed the plan
    plan = create_plan()
    lookup = look_up(plan)
    colleague = make_user(roles=("responder",), org=people.police_org)
    browser = app.test_client()
    web_login(browser, colleague)

    # When a colleague of the same control room opens the report form of that lookup
    page = open_form(browser, lookup)

    # Then it is refused, in Dutch and without a word of the plan, as a form that never existed is
    assert_refused(page, plan)
    missing = browser.get(FORM, query_string={"lookup_id": str(uuid.uuid4()), "plan_id": str(uuid.uuid4())})
    assert without_csrf(page) == without_csrf(missing)
    # and the attempt is in the audit log, refused
    assert [(outcome, plan_id) for outcome, plan_id, _detail in form_audit(app, colleague)][0] == (
        "refused",
        plan["id"],
    )


def test_the_form_closes_12_hours_after_the_lookup(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given a lookup at 22.00 that showed the plan
    looked_up_at = amsterdam(2026, 3, 16, 22, 0)
    with clock_at(looked_up_at):
        plan = create_plan()
        lookup = look_up(plan)

    # When the officer opens the form 11 hours 59 minutes later
    with clock_at(looked_up_at + timedelta(hours=11, minutes=59)):
        browser = app.test_client()
        web_login(browser, people.responder)
        page = open_form(browser, lookup)
        # Then it opens
        assert page.status_code == 200
        data = filled_form(html.unescape(page.get_data(as_text=True)), plan["agreements"])

    # When they open it, or send it, 12 hours 1 minute after the lookup
    with clock_at(looked_up_at + timedelta(hours=12, minutes=1)):
        browser = app.test_client()
        web_login(browser, people.responder)
        before = stored(app)
        late = open_form(browser, lookup)
        data["csrf_token"] = csrf_from(browser.get("/").get_data(as_text=True))
        sent = browser.post(FORM, data=data)

    # Then both are refused without showing the plan, nothing is stored, and both are logged
    assert_refused(late, plan)
    assert_refused(sent, plan)
    assert stored(app) == before
    assert [outcome for outcome, _plan, _detail in form_audit(app, people.responder)] == [
        "success",
        "refused",
        "refused",
    ]


def _withdraw(client: FlaskClient, headers: dict[str, str], plan: dict[str, Any], app: Flask) -> None:
    response = client.post(
        f"/api/v1/plans/{plan['id']}/withdraw", json={"reason": "Gezin verhuisd"}, headers=headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def _new_version(client: FlaskClient, headers: dict[str, str], plan: dict[str, Any], app: Flask) -> None:
    body = editable(plan, title="Gezin Voorbeeld, nieuwe afspraken")
    response = client.put(f"/api/v1/plans/{plan['id']}", json=body, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)


def _past_its_last_day(
    client: FlaskClient, headers: dict[str, str], plan: dict[str, Any], app: Flask
) -> None:
    # its last valid day was yesterday; the nightly `samenop plans expire` has not run yet
    with app.app_context():
        database.session.execute(
            update(Plan)
            .where(Plan.id == uuid.UUID(plan["id"]))
            .values(valid_until=today() - timedelta(days=1))
        )
        database.commit()


@pytest.mark.parametrize(
    "change", [_withdraw, _new_version, _past_its_last_day], ids=lambda f: f.__name__[1:]
)
def test_the_form_is_gone_once_the_control_room_would_no_longer_see_the_plan(
    app: Flask,
    client: FlaskClient,
    people: People,
    auth_headers: Callable[[User], dict[str, str]],
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
    change: Callable[..., None],
) -> None:
    # Given the officer's lookup that showed the plan, a moment ago
    plan = create_plan()
    lookup = look_up(plan)
    browser = app.test_client()
    web_login(browser, people.responder)
    assert open_form(browser, lookup).status_code == 200

    # When the owners withdraw it, replace it by a new version, or its last valid day passed
    change(client, auth_headers(people.registrant), plan, app)

    # Then the form of that lookup shows it no longer, and says to look up again
    assert_refused(open_form(browser, lookup), plan)
    assert [outcome for outcome, _plan, _detail in form_audit(app, people.responder)] == [
        "success",
        "refused",
    ]


def test_every_opening_of_the_form_is_audited(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given the officer's lookup that showed the plan, and another plan it did not show
    plan = create_plan()
    other = create_plan(title="Gezin Anders")
    lookup = look_up(plan)
    browser = app.test_client()
    web_login(browser, people.responder)

    # When the officer opens the form twice, sends it incomplete (it comes back), and aims it at the
    # other plan
    first = open_form(browser, lookup)
    open_form(browser, lookup)
    data = filled_form(html.unescape(first.get_data(as_text=True)), plan["agreements"])
    del data["mode"]
    assert browser.post(FORM, data=data).status_code == 422
    assert_refused(open_form(browser, lookup, plan_id=other["id"]), other)

    # Then each showing is an audit row naming the plan, the lookup and the version shown, and the
    # refusal one of its own
    shown = {"lookup": lookup["lookup_id"], "version": 1}
    assert form_audit(app, people.responder) == [
        ("success", plan["id"], shown),
        ("success", plan["id"], shown),
        ("success", plan["id"], shown),
        ("refused", other["id"], {"lookup": lookup["lookup_id"], "reason": "not_shown"}),
    ]


def test_an_urgent_mark_needs_a_reason_and_makes_a_spoedmelding(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    with clock_at(amsterdam(2026, 3, 14, 0, 30)):
        plan = create_plan()
        lookup = look_up(plan)
        browser = app.test_client()
        web_login(browser, people.responder)
        page = browser.get(FORM, query_string={"lookup_id": lookup["lookup_id"], "plan_id": plan["id"]})
        text = html.unescape(page.get_data(as_text=True))
        assert "Ook zonder aanhouding of huisverbod spoed" in text
        data = filled_form(text, plan["agreements"])
        data.setlist("actions", ["children_with_network"])
        data["urgent"] = "1"
        before = stored(app)

        # When the officer marks it urgent without saying why
        refused = browser.post(FORM, data=data)

        # Then the form is shown again with what to do, and nothing is stored
        assert refused.status_code == 422
        assert "Zeg waarom deze inzet spoed is" in html.unescape(refused.get_data(as_text=True))
        assert stored(app) == before

        # When the reason is given
        data["urgent_reason"] = "Kinderen onveilig thuis"
        saved = browser.post(FORM, data=data)
        assert saved.status_code == 302
        done = html.unescape(browser.get(saved.headers["Location"]).get_data(as_text=True))
    # Then it is a spoedmelding, due nine hours after the call
    assert 'id="terugkoppelen-voor">zaterdag 14 maart 2026 08.40 uur</strong>' in done
