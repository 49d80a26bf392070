"""From crisis to structure: a report may carry agreements and contacts the responder made with
the family; the plan's owners take them into a new version of the plan in one step, or decline
them with a reason that goes back to the reporting organisation, and to no other. Decided once."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from registry.core.db import db as database
from registry.core.models import (
    AuditEntry,
    Organisation,
    ProposalDecision,
    ProposedAgreement,
    ProposedContact,
    User,
)
from registry.regions import operations as regions
from tests.conftest import csrf_from
from tests.feedback.conftest import People, report_body, stored

PROPOSED_AGREEMENT = {
    "trigger": "Vader komt naar het huis tijdens het huisverbod",
    "action": "Moeder belt 112; politie rijdt met prio 1",
    "actor": "police",
}
PROPOSED_CONTACT = {
    "name": "Buurvrouw Verzonnen",
    "relation": "buurvrouw",
    "phone": "06-11223344",
    "available": "avond en nacht",
}
PROPOSALS = {"agreements": [PROPOSED_AGREEMENT], "contacts": [PROPOSED_CONTACT]}
REASON = "De familie wil de buurvrouw er niet bij; wij bespreken een andere achtervang."


def feedback_of(client: FlaskClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/api/v1/feedback", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(response.get_json()["items"])


def decide(
    client: FlaskClient, headers: dict[str, str], report_id: str, how: str, body: dict[str, Any]
) -> Any:
    return client.post(f"/api/v1/feedback/{report_id}/proposals/{how}", json=body, headers=headers)


def rest_of(plan: dict[str, Any]) -> dict[str, Any]:
    """A plan without its version, agreements and contacts, and its rows without their ids."""
    return {
        key: [{k: v for k, v in row.items() if k != "id"} for row in value]
        if isinstance(value, list) and value and isinstance(value[0], dict)
        else value
        for key, value in plan.items()
        if key not in ("version", "agreements", "contacts", "warnings")
    }


def proposal_rows(app: Flask) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(  # type: ignore[return-value]
            database.session.scalar(select(func.count()).select_from(model)) or 0
            for model in (ProposedAgreement, ProposedContact, ProposalDecision)
        )


@pytest.fixture
def veilig_thuis(app: Flask, make_org: Callable[..., Organisation], make_user: Callable[..., User]) -> User:
    """A registrant of the Veilig Thuis of region Noord: it hears of every report of the police
    there, but neither owns nor shares the wijkteam's plan."""
    organisation = make_org("Veilig Thuis Noord", kind="veilig_thuis", region="Noord")
    with app.app_context():
        regions.set_veilig_thuis(
            database.session, regions.find_or_add(database.session, "Noord"), organisation.name
        )
        database.commit()
    return make_user(roles=("registrant",), org=organisation)


# --- proposing ----------------------------------------------------------------------------------


def test_a_report_carries_proposals_the_owner_reads_in_the_feedback(
    people: People,
    report_on: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    # When the police report with an agreement and a contact they made with the family
    _plan, report = report_on(proposals=PROPOSALS)

    # Then the answer carries them, as sent, in order, not decided yet
    assert report["proposals"] == {
        "agreements": [{"position": 1, **PROPOSED_AGREEMENT}],
        "contacts": [{"position": 1, **PROPOSED_CONTACT}],
        "decision": None,
    }
    # And the plan's owner reads them in its feedback item
    [item] = feedback_of(client, auth_headers(people.registrant))
    assert item["report"]["proposals"] == report["proposals"]


def test_a_report_without_proposals_says_null(report_on: Callable[..., Any]) -> None:
    _plan, report = report_on()
    assert report["proposals"] is None
    _plan, report = report_on(proposals={"agreements": [], "contacts": []})
    assert report["proposals"] is None


@pytest.mark.parametrize(
    ("proposals", "field"),
    [
        ({"agreements": [{**PROPOSED_AGREEMENT, "trigger": ""}]}, "proposals.agreements.0.trigger"),
        (
            {"agreements": [PROPOSED_AGREEMENT, {**PROPOSED_AGREEMENT, "actor": "brandweer"}]},
            "proposals.agreements.1.actor",
        ),
        ({"agreements": [{"trigger": "Bij ruzie", "actor": "police"}]}, "proposals.agreements.0.action"),
        ({"contacts": [{**PROPOSED_CONTACT, "phone": "geen nummer"}]}, "proposals.contacts.0.phone"),
        ({"contacts": [{**PROPOSED_CONTACT, "name": " "}]}, "proposals.contacts.0.name"),
        ({"agreements": [PROPOSED_AGREEMENT] * 11}, "proposals.agreements"),
        ({"agenda": []}, "proposals.agenda"),
        ("afspraken", "proposals._schema"),
    ],
)
def test_a_bad_proposal_is_refused_naming_its_field_and_nothing_is_stored(
    app: Flask,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., dict[str, Any]],
    post_report: Callable[..., Any],
    proposals: Any,
    field: str,
) -> None:
    lookup = look_up(create_plan())
    before = stored(app), proposal_rows(app)
    response = post_report(report_body(lookup, proposals=proposals))
    assert response.status_code == 422, response.get_data(as_text=True)
    fields = response.get_json()["error"]["fields"]
    assert field in fields, fields
    assert (stored(app), proposal_rows(app)) == before


def test_proposals_need_a_plan_to_go_to(
    app: Flask, post_report: Callable[..., Any], create_plan: Callable[..., dict[str, Any]], look_up: Any
) -> None:
    body = report_body(look_up(create_plan()), proposals=PROPOSALS)
    body.update(plan_id=None, agreements=[])
    response = post_report(body)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["proposals"]
    assert proposal_rows(app) == (0, 0, 0)


# --- accepting ----------------------------------------------------------------------------------


def test_accepted_proposals_become_a_new_version_of_the_plan_with_an_audit_row_naming_the_report(
    app: Flask,
    people: People,
    report_on: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    # Given a report on version 1 of the wijkteam's plan, with a proposed agreement and contact
    plan, report = report_on(proposals=PROPOSALS)
    owner = auth_headers(people.registrant)

    # When the wijkteam takes them into the plan
    response = decide(client, owner, report["id"], "accept", {"version": 1})

    # Then the plan has a new version: its own agreements and contacts, then the proposed ones
    assert response.status_code == 200, response.get_data(as_text=True)
    decision = response.get_json()
    assert (decision["outcome"], decision["version"], decision["organisation"]) == (
        "accepted",
        2,
        "Wijkteam Oost",
    )
    current = client.get(f"/api/v1/plans/{plan['id']}", headers=owner).get_json()
    assert current["version"] == 2
    strip = lambda rows, keys: [{key: row[key] for key in keys} for row in rows]  # noqa: E731
    agreement_keys, contact_keys = ("trigger", "action", "actor"), ("name", "relation", "phone", "available")
    assert strip(current["agreements"], agreement_keys) == [
        *strip(plan["agreements"], agreement_keys), PROPOSED_AGREEMENT,
    ]  # fmt: skip
    assert strip(current["contacts"], contact_keys) == [
        *strip(plan["contacts"], contact_keys),
        PROPOSED_CONTACT,
    ]
    # and the rest of the plan is as it was (its rows are new rows of the new version)
    assert rest_of(current) == rest_of(plan)

    # And an audit row names the report the version came from
    with app.app_context():
        row = database.session.scalars(select(AuditEntry).where(AuditEntry.action == "proposal_accept")).one()
        assert (row.outcome, row.object_type, row.object_id) == ("success", "report", report["id"])
        assert row.detail == {"plan": plan["id"], "version": 2}
        assert row.username == people.registrant.username

    # And the police read that their proposals were taken into version 2
    mine = client.get(f"/api/v1/reports/{report['id']}", headers=auth_headers(people.responder)).get_json()
    decided = mine["proposals"]["decision"]
    assert decided.pop("decided_at")
    assert decided == {"outcome": "accepted", "version": 2, "organisation": "Wijkteam Oost", "reason": None}


def test_accepting_from_a_stale_version_writes_nothing(
    app: Flask,
    people: People,
    report_on: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    # Given the plan changed (version 2) after the owner read version 1
    plan, report = report_on(proposals=PROPOSALS)
    owner = auth_headers(people.registrant)
    body = {k: v for k, v in plan.items() if k not in ("id", "status", "warnings")}
    assert client.put(f"/api/v1/plans/{plan['id']}", json=body, headers=owner).status_code == 200

    # When the owner accepts from version 1
    response = decide(client, owner, report["id"], "accept", {"version": 1})

    # Then 409, in Dutch, naming the current version; no version 3, and nothing decided
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "version_conflict"
    assert "versie 2" in error["message"]
    assert client.get(f"/api/v1/plans/{plan['id']}", headers=owner).get_json()["version"] == 2
    assert proposal_rows(app)[2] == 0
    # and from the current version it works
    assert decide(client, owner, report["id"], "accept", {"version": 2}).get_json()["version"] == 3


@pytest.mark.parametrize(
    ("how", "body", "field"),
    [
        ("accept", {}, "version"),
        ("accept", {"version": "twee"}, "version"),
        ("decline", {}, "reason"),
        ("decline", {"reason": "   "}, "reason"),
        ("decline", {"reason": "x" * 2001}, "reason"),
    ],
)
def test_a_bad_decision_names_its_field(
    app: Flask,
    people: People,
    report_on: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    how: str,
    body: dict[str, Any],
    field: str,
) -> None:
    _plan, report = report_on(proposals=PROPOSALS)
    response = decide(client, auth_headers(people.registrant), report["id"], how, body)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == [field]
    assert proposal_rows(app)[2] == 0


# --- declining ----------------------------------------------------------------------------------


def test_a_declined_proposals_reason_reaches_the_reporting_organisation_and_no_other(
    app: Flask,
    people: People,
    veilig_thuis: User,
    create_plan: Callable[..., dict[str, Any]],
    share_plan: Callable[..., None],
    report_on: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given the police proposed agreements on the wijkteam's plan, shared with youth protection
    plan = create_plan()
    share_plan(plan, people.partner_org)
    _plan, report = report_on(plan, proposals=PROPOSALS)

    # When the wijkteam declines them, saying why
    response = decide(client, auth_headers(people.registrant), report["id"], "decline", {"reason": REASON})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert (response.get_json()["outcome"], response.get_json()["version"]) == ("declined", None)

    # Then the police read the reason with their report, and on the page Teruggekoppeld
    mine = client.get(f"/api/v1/reports/{report['id']}", headers=auth_headers(people.responder)).get_json()
    assert mine["proposals"]["decision"]["outcome"] == "declined"
    assert mine["proposals"]["decision"]["reason"] == REASON
    assert mine["proposals"]["decision"]["organisation"] == "Wijkteam Oost"
    police = app.test_client()
    web_login(police, people.responder)
    page = html.unescape(police.get("/raadplegen/teruggekoppeld").get_data(as_text=True))
    assert "Niet overgenomen" in page
    assert REASON in page

    # And no other organisation is shown the reason: not the other control room, not youth
    # protection or Veilig Thuis who hear of the report, neither through the API nor on a page
    other = client.get(f"/api/v1/reports/{report['id']}", headers=auth_headers(people.other_responder))
    assert other.status_code == 404
    for registrant in (people.partner_registrant, veilig_thuis):
        [item] = feedback_of(client, auth_headers(registrant))
        assert item["report"]["proposals"]["decision"]["outcome"] == "declined"
        assert "reason" not in item["report"]["proposals"]["decision"]
        assert REASON not in str(item)
        browser = app.test_client()
        web_login(browser, registrant)
        assert REASON not in html.unescape(browser.get("/terugkoppeling").get_data(as_text=True))
    other_police = app.test_client()
    web_login(other_police, people.other_responder)
    assert REASON not in html.unescape(other_police.get("/raadplegen/teruggekoppeld").get_data(as_text=True))


# --- who decides, and once ----------------------------------------------------------------------


def test_proposals_are_decided_once(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    share_plan: Callable[..., None],
    report_on: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    # Given youth protection, with whom the plan is shared, declined the proposals
    plan = create_plan()
    share_plan(plan, people.partner_org)
    _plan, report = report_on(plan, proposals=PROPOSALS)
    partner = auth_headers(people.partner_registrant)
    assert decide(client, partner, report["id"], "decline", {"reason": REASON}).status_code == 200

    # When anyone decides again, either way
    owner = auth_headers(people.registrant)
    again = [
        decide(client, owner, report["id"], "accept", {"version": 1}),
        decide(client, owner, report["id"], "decline", {"reason": "Toch niet."}),
        decide(client, partner, report["id"], "decline", {"reason": "Nogmaals."}),
    ]

    # Then 409, saying in Dutch it was decided; the plan keeps version 1, the first decision stands
    for response in again:
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "already_decided"
        assert response.get_json()["error"]["message"].startswith(
            "Over deze voorgestelde afspraken is al beslist"
        )
    assert client.get(f"/api/v1/plans/{plan['id']}", headers=owner).get_json()["version"] == 1
    with app.app_context():
        decision = database.session.scalars(select(ProposalDecision)).one()
        assert (decision.outcome, decision.reason) == ("declined", REASON)
        conflicts = database.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.action.in_(("proposal_accept", "proposal_decline")),
                AuditEntry.outcome == "conflict",
            )
        )
        assert conflicts == 3


def test_of_two_decisions_at_once_one_stands(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    share_plan: Callable[..., None],
    report_on: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    # Given the wijkteam and youth protection both have the proposals in front of them
    plan = create_plan()
    share_plan(plan, people.partner_org)
    _plan, report = report_on(plan, proposals=PROPOSALS)
    sends = [
        (auth_headers(people.registrant), "accept", {"version": 1}),
        (auth_headers(people.partner_registrant), "decline", {"reason": REASON}),
    ]
    barrier = threading.Barrier(len(sends))
    answers: dict[str, int] = {}
    failures: list[BaseException] = []

    def send(headers: dict[str, str], how: str, body: dict[str, Any]) -> None:
        try:
            own = app.test_client()
            barrier.wait(timeout=30)
            answers[how] = decide(own, headers, report["id"], how, body).status_code
        except BaseException as exc:  # re-raised in the test's own thread
            failures.append(exc)

    # When one accepts and the other declines at the same moment
    threads = [threading.Thread(target=send, args=sent) for sent in sends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then one is answered 200 and the other 409, and what is stored is the one that stood
    assert not failures, failures
    assert sorted(answers.values()) == [200, 409], answers
    version = client.get(f"/api/v1/plans/{plan['id']}", headers=auth_headers(people.registrant)).get_json()[
        "version"
    ]
    with app.app_context():
        decision = database.session.scalars(select(ProposalDecision)).one()
    if answers["accept"] == 200:
        assert (decision.outcome, decision.version, version) == ("accepted", 2, 2)
    else:
        assert (decision.outcome, decision.reason, version) == ("declined", REASON, 1)


def test_only_the_plans_owners_and_shares_decide(
    app: Flask,
    people: People,
    veilig_thuis: User,
    report_on: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    _plan, report = report_on(proposals=PROPOSALS)
    # Veilig Thuis hears of the report, but the plan is not its own: 403, saying who decides
    refused = decide(client, auth_headers(veilig_thuis), report["id"], "decline", {"reason": REASON})
    assert refused.status_code == 403
    assert "regiehouder" in refused.get_json()["error"]["message"]
    # a wijkteam that does not hear of it is told nothing about it: 404
    stranger = decide(
        client, auth_headers(people.stranger_registrant), report["id"], "accept", {"version": 1}
    )
    assert stranger.status_code == 404
    # the police that proposed them do not decide: the registrant's role is needed
    assert (
        decide(
            client, auth_headers(people.responder), report["id"], "decline", {"reason": REASON}
        ).status_code
        == 403
    )
    # a report without proposals has nothing to decide
    _plan, plain = report_on()
    assert (
        decide(
            client, auth_headers(people.registrant), plain["id"], "decline", {"reason": REASON}
        ).status_code
        == 404
    )
    assert proposal_rows(app)[2] == 0


# --- the pages ----------------------------------------------------------------------------------


class _Form(HTMLParser):
    """The fields a page's form sends as it stands: inputs, checked boxes, textareas, selects."""

    def __init__(self, form_class: str) -> None:
        super().__init__()
        self.form_class = form_class
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._first_option: str | None = None
        self._chosen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.inside = self.form_class in a.get("class", "").split()
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "checkbox", "radio"):
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "input" and a.get("type") in ("checkbox", "radio") and "checked" in a:
            self.fields.append((a["name"], a.get("value", "on")))
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields.append((a["name"], ""))
        elif tag == "select":
            self._select, self._first_option, self._chosen = a["name"], None, False
        elif tag == "option" and self._select is not None:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self.fields.append((self._select, a.get("value", "")))
                self._chosen = True

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select is not None:
            if not self._chosen:
                self.fields.append((self._select, self._first_option or ""))
            self._select = None
        elif tag == "form":
            self.inside = False


def text_of(response: Any) -> str:
    """What a page says, without its tags."""
    return html.unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))


def form_of(page: str, form_class: str) -> dict[str, str]:
    parser = _Form(form_class)
    parser.feed(page)
    return dict(parser.fields)


def test_the_report_form_proposes_agreements_and_names_a_bad_row(
    app: Flask,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., dict[str, Any]],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given the control room found the plan and opens the report form
    plan = create_plan()
    lookup = look_up(plan)
    police = app.test_client()
    web_login(police, people.responder)
    path = f"/raadplegen/inzet?lookup_id={lookup['lookup_id']}&plan_id={plan['id']}"
    page = police.get(path).get_data(as_text=True)
    assert "Nieuwe afspraken met de familie (voorstel)" in page
    fields = form_of(page, "report-form")
    fields.update({"mode": "on_site_intervention", "responders": "police", "actions": "arrest"})

    # When they ask for a second agreement row, then fill in only the second, without who does it
    more = police.post(path, data={**fields, "row_action": "add:agreements"})
    assert more.status_code == 200
    assert "Voorgestelde afspraak 2" in more.get_data(as_text=True)
    fields.update(
        {
            "proposed-agreements-1-trigger": PROPOSED_AGREEMENT["trigger"],
            "proposed-agreements-1-action": PROPOSED_AGREEMENT["action"],
            "proposed-contacts-0-name": PROPOSED_CONTACT["name"],
            "proposed-contacts-0-phone": PROPOSED_CONTACT["phone"],
        }
    )
    refused = police.post(path, data=fields)

    # Then the form comes back naming that row's field, and nothing is stored
    assert refused.status_code == 422
    text = html.unescape(refused.get_data(as_text=True))
    assert 'id="proposals-agreements-1-actor-error"' in text
    assert PROPOSED_AGREEMENT["trigger"] in text  # what was typed stays
    assert proposal_rows(app) == (0, 0, 0)

    # When they choose who, and send it
    fields["proposed-agreements-1-actor"] = "police"
    done = police.post(path, data=fields)

    # Then the report is stored with one proposed agreement and one contact
    assert done.status_code == 302, done.get_data(as_text=True)
    assert proposal_rows(app) == (1, 1, 0)


def test_the_owner_takes_the_proposals_into_the_plan_through_the_plan_form(
    app: Flask,
    people: People,
    report_on: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # Given a report with proposals in the wijkteam's Terugkoppeling
    plan, report = report_on(proposals=PROPOSALS)
    owner = app.test_client()
    web_login(owner, people.registrant)
    inbox = html.unescape(owner.get("/terugkoppeling").get_data(as_text=True))
    assert "Voorgestelde afspraken" in inbox
    assert PROPOSED_AGREEMENT["trigger"] in inbox
    edit = f"/plans/{plan['id']}/edit?voorstel={report['id']}"
    assert edit.replace("&", "&amp;") in owner.get("/terugkoppeling").get_data(as_text=True)

    # When the owner opens "Overnemen in het handelingskader"
    page = owner.get(edit)
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    # Then the plan form holds the plan's agreements and, marked as proposals, the proposed ones
    assert "Voorgestelde afspraken van Meldkamer Politie Noord" in text
    fields = form_of(text, "plan-form")
    position = len(plan["agreements"])
    assert fields[f"agreements-{position}-trigger"] == PROPOSED_AGREEMENT["trigger"]
    assert fields[f"agreements-{position}-proposed"] == "1"
    assert f"agreements-{position - 1}-proposed" not in fields
    assert fields["from_report"] == report["id"]

    # When they save it
    saved = owner.post(f"/plans/{plan['id']}/edit", data=fields)

    # Then version 2 holds the proposals, and they are accepted into it
    assert saved.status_code == 302, saved.get_data(as_text=True)
    current = client.get(f"/api/v1/plans/{plan['id']}", headers=auth_headers(people.registrant)).get_json()
    assert current["version"] == 2
    assert current["agreements"][-1]["trigger"] == PROPOSED_AGREEMENT["trigger"]
    assert current["contacts"][-1]["name"] == PROPOSED_CONTACT["name"]
    with app.app_context():
        decision = database.session.scalars(select(ProposalDecision)).one()
        assert (decision.outcome, decision.version) == ("accepted", 2)
    assert "Overgenomen in het handelingskader (versie 2) door Wijkteam Oost" in text_of(
        owner.get("/terugkoppeling")
    )

    # And the same form sent again is refused, in Dutch, with no version 3
    again = owner.post(f"/plans/{plan['id']}/edit", data={**fields, "version": "2"})
    assert again.status_code == 409
    assert "Over deze voorgestelde afspraken is al beslist" in html.unescape(again.get_data(as_text=True))
    assert (
        client.get(f"/api/v1/plans/{plan['id']}", headers=auth_headers(people.registrant)).get_json()[
            "version"
        ]
        == 2
    )


def test_the_owner_declines_on_the_feedback_page_with_a_reason(
    app: Flask, people: People, report_on: Callable[..., Any], web_login: Callable[[FlaskClient, User], Any]
) -> None:
    _plan, report = report_on(proposals=PROPOSALS)
    owner = app.test_client()
    web_login(owner, people.registrant)
    path = f"/terugkoppeling/{report['id']}/voorstel/niet-overnemen"
    token = csrf_from(owner.get("/terugkoppeling").get_data(as_text=True))

    # Without a reason: told to give one, nothing decided
    empty = owner.post(path, data={"csrf_token": token, "reason": "  "}, follow_redirects=True)
    assert "Vul de reden in" in html.unescape(empty.get_data(as_text=True))
    assert proposal_rows(app)[2] == 0

    # With one: declined, and the page says so (the reason itself is for the police)
    done = owner.post(path, data={"csrf_token": token, "reason": REASON}, follow_redirects=True)
    assert "Niet overgenomen door Wijkteam Oost" in text_of(done)
    assert proposal_rows(app)[2] == 1

    # Twice: 409, in Dutch
    twice = owner.post(path, data={"csrf_token": token, "reason": REASON})
    assert twice.status_code == 409
    assert "Over deze voorgestelde afspraken is al beslist" in html.unescape(twice.get_data(as_text=True))
