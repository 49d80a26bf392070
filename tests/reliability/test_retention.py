"""Retention: `samenop purge` removes the personal data of plans that ended longer ago than the
retention (12 months by default) and keeps what the monitoring counts; audit rows go after their
own, longer period, and the chain still verifies from its checkpoint and still shows tampering."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from registry.core import audit
from registry.core.db import db as database
from registry.core.models import (
    Address,
    Agreement,
    AssessmentAddition,
    AuditEntry,
    AuditHead,
    Contact,
    FeedbackAcknowledgement,
    Lookup,
    LookupResult,
    Person,
    Plan,
    PlanVersion,
    ProposalDecision,
    ProposedAgreement,
    ProposedContact,
    Report,
    ReportAgreement,
    ReportAmendment,
)
from registry.core.timeutil import local_today, utcnow
from registry.ops.cli import audit_verify, purge
from registry.ops.retention import PURGED_TITLE
from registry.statistics.operations import Period, compute
from registry.statistics.scope import Scope
from tests.conftest import close_app
from tests.lookups import found_plan_ids
from tests.registry.plan_data import address, contact, person, plan_body
from tests.reliability.dba import tamper

TIMEZONE = "Europe/Amsterdam"
NARRATIVE = "Vader aangehouden; kinderen bij de tante. Moeder wil morgen gebeld worden."


@dataclass(frozen=True)
class Family:
    """Everything that identifies one invented family."""

    key: str
    postcode: str
    house_number: int
    street: str
    first_name: str
    surname: str
    phone: str
    contact_name: str
    contact_phone: str

    def body(self) -> dict[str, Any]:
        return plan_body(
            title=f"Gezin {self.surname}",
            summary=f"Samenvatting over {self.first_name} {self.surname}.",
            addresses=[address(postcode=self.postcode, house_number=self.house_number, street=self.street)],
            persons=[
                person(first_name=self.first_name, surname_prefix="", surname=self.surname, phone=self.phone)
            ],
            contacts=[
                contact(name=self.contact_name, phone=self.contact_phone),
                contact(name="Piketdienst Fictief", relation="piket", phone="088-7654321"),
            ],
        )

    def secrets(self) -> list[str]:
        return [self.street, self.first_name, self.surname, self.contact_name, f"P-{self.key}"]


OLD = Family(
    "OUD", "9404 GH", 21, "Oudeweg", "Bea", "Vergeetmij", "06-24681357", "Oom Verleden", "06-13572468"
)
RECENT = Family(
    "RECENT", "9405 JK", 8, "Nieuwlaan", "Cor", "Blijfbewaard", "06-31415926", "Tante Nu", "06-35792468"
)
WITHDRAWN = Family(
    "WEG", "9406 LM", 2, "Intrekpad", "Dirk", "Teruggetrokken", "06-27182818", "Buur Weg", "06-16180339"
)


@dataclass
class Story:
    plan_id: str
    lookup_id: str
    report_id: str


class World:
    """An owning wijkteam (registrant, coordinator), a control room (responder), and three
    families whose plans had a lookup, a report, an amendment and (but one) an acknowledgement."""

    def __init__(self, app: Flask, client: FlaskClient, make_org: Any, make_user: Any, auth_headers: Any):
        self.app = app
        self.client = client
        self.owner_org = make_org("Wijkteam Bewaartermijn")
        self.police_org = make_org("Meldkamer Bewaartermijn", kind="police")
        self.registrant = make_user(roles=("registrant",), org=self.owner_org)
        self.coordinator = make_user(roles=("coordinator",), org=self.owner_org)
        self.responder = make_user(roles=("responder",), org=self.police_org)
        self.registrant_headers = auth_headers(self.registrant)
        self.coordinator_headers = auth_headers(self.coordinator)
        self.responder_headers = auth_headers(self.responder)
        self.stories = {family.key: self.story(family) for family in (OLD, RECENT, WITHDRAWN)}

    def post(self, path: str, body: dict[str, Any], headers: dict[str, str], status: int = 201) -> Any:
        response = self.client.post(path, json=body, headers=headers)
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    def story(self, family: Family) -> Story:
        plan = self.post("/api/v1/plans", family.body(), self.registrant_headers)
        found = self.post(
            "/api/v1/lookups",
            {
                "incident_ref": f"P-{family.key}-1",
                "address": {"postcode": family.postcode, "house_number": family.house_number},
            },
            self.responder_headers,
            status=200,
        )
        assert [match["plan"]["id"] for match in found["matches"]] == [plan["id"]]
        report = self.post(
            "/api/v1/reports",
            {
                "plan_id": plan["id"],
                "lookup_id": found["lookup_id"],
                "incident_ref": f"P-{family.key}-1",
                "occurred_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
                "mode": "on_site_intervention",
                "responders": ["police", "cit"],
                "violence_type": "partner_violence",
                "household_type": "minor_children",
                "care_involvement": "present",
                "mental_health_service": "not_needed",
                "agreements": [
                    {
                        "agreement_id": row["id"],
                        "outcome": "followed",
                        "note": f"{family.first_name} opgevangen",
                    }
                    for row in plan["agreements"]
                ],
                "actions": ["arrest"],
                "narrative": f"{NARRATIVE} ({family.first_name} {family.surname})",
                "urgent": True,
                "urgent_reason": f"{family.first_name} bang voor terugkeer",
                "proposals": {
                    "agreements": [
                        {"trigger": f"{family.first_name} belt", "action": "Politie rijdt", "actor": "police"}
                    ],
                    "contacts": [{"name": family.contact_name, "phone": family.contact_phone}],
                },
                "assessment": {
                    "happened": f"{family.first_name} geslagen door {family.contact_name}.",
                    "safe_now": f"{family.first_name} slaapt bij de buren.",
                },
            },
            self.responder_headers,
        )
        self.post(
            f"/api/v1/feedback/{report['id']}/proposals/decline",
            {"reason": f"{family.first_name} wil {family.contact_name} er niet bij."},
            self.registrant_headers,
            status=200,
        )
        self.post(
            f"/api/v1/reports/{report['id']}/amendments",
            {"note": f"Later gebeld met {family.contact_name}."},
            self.responder_headers,
        )
        if family is not WITHDRAWN:  # that one stays open in the feedback inbox
            self.post(
                f"/api/v1/feedback/{report['id']}/acknowledge",
                {"note": f"Besproken met {family.first_name}."},
                self.registrant_headers,
                status=200,
            )
        return Story(plan["id"], found["lookup_id"], report["id"])

    def plan_id(self, family: Family) -> uuid.UUID:
        return uuid.UUID(self.stories[family.key].plan_id)


def months_ago(months: int) -> datetime:
    return utcnow() - relativedelta(months=months)


@pytest.fixture
def world(app: Flask, client: FlaskClient, make_org: Any, make_user: Any, auth_headers: Any) -> World:
    """OLD expired 13 months ago, RECENT expired 11 months ago, WITHDRAWN withdrawn 13 months ago;
    and two lookups without a match, one 13 months old and one of today."""
    made = World(app, client, make_org, make_user, auth_headers)
    withdrawn = made.stories[WITHDRAWN.key].plan_id
    made.post(
        f"/api/v1/plans/{withdrawn}/withdraw",
        {"reason": f"{WITHDRAWN.first_name} verhuisd"},
        made.registrant_headers,
        status=200,
    )
    for ref in ("P-NIETS-OUD-1", "P-NIETS-NU-1"):
        made.post(
            "/api/v1/lookups",
            {"incident_ref": ref, "address": {"postcode": "9999 ZZ", "house_number": 1}},
            made.responder_headers,
            status=200,
        )
    with app.app_context():
        session = database.session
        for family, months in ((OLD, 13), (RECENT, 11)):
            session.execute(
                update(Plan)
                .where(Plan.id == made.plan_id(family))
                .values(status="expired", expired_at=months_ago(months))
            )
        session.execute(
            update(Plan).where(Plan.id == made.plan_id(WITHDRAWN)).values(withdrawn_at=months_ago(13))
        )
        session.execute(
            update(Lookup).where(Lookup.incident_ref == "P-NIETS-OUD-1").values(performed_at=months_ago(13))
        )
        database.commit()
    return made


def run_purge(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(purge, list(args))
    assert result.exit_code == 0, result.output
    return str(result.output)


def cli_verify(app: Flask) -> Any:
    return app.test_cli_runner().invoke(audit_verify, [])


def plan_rows(app: Flask, plan_id: uuid.UUID) -> dict[str, Any]:
    """Every stored value that belongs to one plan, as plain data (to compare before and after)."""

    def plain(item: Any) -> dict[str, Any]:
        return {column.key: getattr(item, column.key) for column in item.__table__.columns}

    with app.app_context():
        session = database.session
        versions = select(PlanVersion.id).where(PlanVersion.plan_id == plan_id)
        reports = select(Report.id).where(Report.plan_id == plan_id)
        lookups = select(LookupResult.lookup_id).where(LookupResult.plan_id == plan_id)
        return {
            "plan": plain(session.get(Plan, plan_id)),
            "versions": [
                plain(v) for v in session.scalars(select(PlanVersion).where(PlanVersion.id.in_(versions)))
            ],
            **{
                model.__name__: [
                    plain(row)
                    for row in session.scalars(
                        select(model).where(model.plan_version_id.in_(versions)).order_by(model.id)
                    )
                ]
                for model in (Address, Person, Contact, Agreement)
            },
            "reports": [plain(r) for r in session.scalars(select(Report).where(Report.id.in_(reports)))],
            "assessment": [
                plain(r)
                for r in session.scalars(
                    select(AssessmentAddition)
                    .where(
                        AssessmentAddition.melding_id.in_(
                            select(Report.melding_id).where(Report.id.in_(reports))
                        )
                    )
                    .order_by(AssessmentAddition.id)
                )
            ],
            "outcomes": [
                plain(r)
                for r in session.scalars(
                    select(ReportAgreement).where(ReportAgreement.report_id.in_(reports))
                )
            ],
            "amendments": [
                plain(r)
                for r in session.scalars(
                    select(ReportAmendment).where(ReportAmendment.report_id.in_(reports))
                )
            ],
            "acknowledgements": [
                plain(r)
                for r in session.scalars(
                    select(FeedbackAcknowledgement).where(FeedbackAcknowledgement.report_id.in_(reports))
                )
            ],
            "lookups": [plain(r) for r in session.scalars(select(Lookup).where(Lookup.id.in_(lookups)))],
            **{
                model.__name__: [
                    plain(row)
                    for row in session.scalars(
                        select(model).where(model.report_id.in_(reports)).order_by(model.id)
                    )
                ]
                for model in (ProposedAgreement, ProposedContact, ProposalDecision)
            },
        }


def figures(app: Flask, organisation_id: int) -> dict[str, Any]:
    today = local_today(TIMEZONE)
    with app.app_context():
        return compute(
            database.session,
            Scope.of_organisation(organisation_id),
            Period(today - timedelta(days=40), today),
            TIMEZONE,
        )


# --- plans ----------------------------------------------------------------------------------


def test_plan_ended_13_months_ago_loses_its_personal_data(app, world):
    # Given a plan that expired 13 months ago, with a lookup, a report, an amendment and an
    # acknowledgement
    plan_id = world.plan_id(OLD)
    before = plan_rows(app, plan_id)
    assert before["Address"]
    assert before["Person"]
    assert before["Contact"]
    # When the purge runs
    output = run_purge(app)
    # Then its addresses, persons and contacts are gone, from every version
    after = plan_rows(app, plan_id)
    assert after["Address"] == []
    assert after["Person"] == []
    assert after["Contact"] == []
    # and the texts are blank; the plan says why
    for version in after["versions"]:
        assert (version["title"], version["summary"], version["owner_name"], version["owner_phone"]) == (
            PURGED_TITLE,
            "",
            "",
            "",
        )
    assert after["plan"]["purged_at"] is not None
    assert after["plan"]["status"] == before["plan"]["status"] == "expired"
    # the agreements stay (reports refer to them) with their position and actor, without text
    assert [(a["id"], a["position"], a["actor"]) for a in after["Agreement"]] == [
        (a["id"], a["position"], a["actor"]) for a in before["Agreement"]
    ]
    assert {(a["trigger"], a["action"]) for a in after["Agreement"]} == {("", "")}
    # reports keep what the monitoring counts and lose the narrative, notes and incident number
    kept = ("occurred_at", "mode", "responders", "violence_type", "household_type", "care_involvement",
            "mental_health_service", "actions", "feedback_due", "organisation_id", "lookup_id",
            "urgent", "feedback_due_at")  # fmt: skip
    for old, new in zip(before["reports"], after["reports"], strict=True):
        assert {k: new[k] for k in kept} == {k: old[k] for k in kept}
        assert (new["narrative"], new["incident_ref"], new["request_hash"]) == ("", "", None)
        assert old["urgent_reason"] is not None
        assert new["urgent_reason"] is None
    assert [(o["agreement_id"], o["outcome"]) for o in after["outcomes"]] == [
        (o["agreement_id"], o["outcome"]) for o in before["outcomes"]
    ]
    assert {o["note"] for o in after["outcomes"]} == {""}
    assert [a["note"] for a in after["amendments"]] == [""]
    # the answers to the five core questions lose their text; who added to which question stays
    assert [(a["section"], a["organisation_id"]) for a in after["assessment"]] == [
        (a["section"], a["organisation_id"]) for a in before["assessment"]
    ]
    assert len(before["assessment"]) == 2
    assert {a["text"] for a in after["assessment"]} == {""}
    assert [(a["note"], a["acknowledged_at"]) for a in after["acknowledgements"]] == [
        ("", before["acknowledgements"][0]["acknowledged_at"])
    ]
    # the proposals keep their actor and the decision (who, when), not their texts or the reason
    assert [(p["position"], p["actor"], p["trigger"], p["action"]) for p in after["ProposedAgreement"]] == [
        (p["position"], p["actor"], "", "") for p in before["ProposedAgreement"]
    ]
    assert before["ProposedContact"]
    assert after["ProposedContact"] == []
    assert [(d["outcome"], d["decided_at"], d["reason"]) for d in after["ProposalDecision"]] == [
        (d["outcome"], d["decided_at"], None) for d in before["ProposalDecision"]
    ]
    # the lookup that showed it keeps kind, time and count, not the incident number
    assert [
        (lk["query_kind"], lk["performed_at"], lk["match_count"], lk["incident_ref"])
        for lk in after["lookups"]
    ] == [(lk["query_kind"], lk["performed_at"], lk["match_count"], "") for lk in before["lookups"]]
    assert "3 purged" not in output
    assert "2 purged" in output  # OLD and WITHDRAWN


def test_plan_ended_11_months_ago_is_untouched(app, world):
    # Given a plan that expired 11 months ago
    plan_id = world.plan_id(RECENT)
    before = plan_rows(app, plan_id)
    # When the purge runs
    run_purge(app)
    # Then every value of it is as it was
    assert plan_rows(app, plan_id) == before


def test_plan_withdrawn_13_months_ago_is_purged_with_its_reason(app, world):
    plan_id = world.plan_id(WITHDRAWN)
    assert plan_rows(app, plan_id)["plan"]["withdrawn_reason"]
    run_purge(app)
    after = plan_rows(app, plan_id)
    assert after["plan"]["purged_at"] is not None
    assert after["plan"]["withdrawn_reason"] is None
    assert after["Person"] == []


def test_statistics_are_the_same_before_and_after(app, world):
    # Given the monitoring tables of the owning wijkteam and of the control room
    owner_before = figures(app, world.owner_org.id)
    police_before = figures(app, world.police_org.id)
    assert owner_before["reports"] == 3
    assert police_before["lookups"]["total"] == 4  # the no-match lookup of 13 months ago is outside
    # When the purge runs
    run_purge(app)
    # Then every figure is unchanged
    assert figures(app, world.owner_org.id) == owner_before
    assert figures(app, world.police_org.id) == police_before


def test_nothing_of_the_purged_family_can_be_found(app, client, world):
    # When the purge has run
    run_purge(app)
    # Then no stored row holds the family's address, name or phone numbers
    with app.app_context():

        def rows(model: Any, condition: Any) -> int:
            return int(database.session.scalar(select(func.count()).select_from(model).where(condition)) or 0)

        for family in (OLD, WITHDRAWN):
            number = "+316" + family.phone.removeprefix("06-")
            assert rows(Address, Address.postcode == family.postcode.replace(" ", "")) == 0
            assert rows(Person, Person.surname == family.surname) == 0
            assert rows(Person, Person.phone == number) == 0
            assert rows(Contact, Contact.name == family.contact_name) == 0
    # and a lookup by address, free text, name or phone finds nothing
    for query in (
        {"address": {"postcode": OLD.postcode, "house_number": OLD.house_number}},
        {"address_text": f"{OLD.street} {OLD.house_number}"},
        {"person": {"name": f"{OLD.first_name} {OLD.surname}"}},
        {"phone": OLD.phone},
    ):
        response = client.post(
            "/api/v1/lookups", json={"incident_ref": "P-NA-1", **query}, headers=world.responder_headers
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        assert found_plan_ids(response.get_json()) == []


def test_lookup_without_match_loses_its_incident_number_after_the_retention(app, world):
    run_purge(app)
    with app.app_context():
        refs = sorted(
            ref
            for ref, count in database.session.execute(select(Lookup.incident_ref, Lookup.match_count))
            if count == 0
        )
    # the no-match lookup of 13 months ago is anonymous; today's keeps its number
    assert refs == ["", "P-NIETS-NU-1"]


def test_a_purged_plan_still_shows_everywhere(app, client, world, web_login):
    browser = app.test_client()
    web_login(browser, world.registrant)
    assert NARRATIVE in browser.get("/terugkoppeling").get_data(as_text=True)
    run_purge(app)
    plan_id = world.stories[OLD.key].plan_id
    # the API: the plan itself, and the list filtered on its status
    response = client.get(f"/api/v1/plans/{plan_id}", headers=world.registrant_headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    shown = response.get_json()
    assert shown["title"] == PURGED_TITLE
    assert (shown["addresses"], shown["persons"], shown["contacts"]) == ([], [], [])
    assert shown["owner"]["organisation"] == "Wijkteam Bewaartermijn"
    for status in ("expired", "withdrawn", None):
        query = f"?status={status}" if status else ""
        listed = client.get(f"/api/v1/plans{query}", headers=world.registrant_headers)
        assert listed.status_code == 200, listed.get_data(as_text=True)
    expired = client.get("/api/v1/plans?status=expired", headers=world.registrant_headers).get_json()["items"]
    assert PURGED_TITLE in [item["title"] for item in expired]
    # it cannot be brought back to life with new text
    renewed = client.put(
        f"/api/v1/plans/{plan_id}", json={**OLD.body(), "version": 1}, headers=world.registrant_headers
    )
    assert renewed.status_code == 409
    assert renewed.get_json()["error"]["code"] == "purged"
    # the feedback and the monitoring answer as before
    assert client.get("/api/v1/feedback", headers=world.registrant_headers).status_code == 200
    assert client.get("/api/v1/statistics", headers=world.coordinator_headers).status_code == 200
    access = client.get(f"/api/v1/plans/{plan_id}/access-log", headers=world.registrant_headers)
    assert access.status_code == 200, access.get_data(as_text=True)
    # the web pages
    page = browser.get(f"/plans/{plan_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Gegevens verwijderd (bewaartermijn)" in html
    assert OLD.surname not in html
    assert "Wijzigen" not in html
    for status in ("expired", "withdrawn", ""):
        listing = browser.get(f"/plans?status={status}")
        assert listing.status_code == 200
    assert PURGED_TITLE in browser.get("/plans?status=expired").get_data(as_text=True)
    inbox = browser.get("/terugkoppeling")  # the withdrawn family's report is still open there
    assert inbox.status_code == 200
    html = inbox.get_data(as_text=True)
    assert NARRATIVE not in html
    assert WITHDRAWN.surname not in html


def test_one_audit_row_per_run_with_counts_and_no_personal_data(app, world):
    with app.app_context():
        before = database.session.scalar(select(func.max(AuditEntry.id)))
    run_purge(app)
    with app.app_context():
        rows = database.session.scalars(select(AuditEntry).where(AuditEntry.id > before)).all()
    assert [(row.action, row.outcome, row.username) for row in rows] == [("purge", "success", "system")]
    detail = rows[0].detail
    assert detail["plans"] == 2
    assert detail["persons"] == 2
    assert detail["addresses"] == 2
    assert detail["contacts"] == 4
    assert detail["reports"] == 2
    assert detail["lookups"] == 3  # the two that showed purged plans, and the old one without a match
    text_of_row = str(detail)
    for family in (OLD, WITHDRAWN):
        for secret in family.secrets():
            assert secret not in text_of_row
    assert cli_verify(app).exit_code == 0


def test_dry_run_changes_nothing(app, world):
    # Given the whole database as it is
    def everything() -> Any:
        with app.app_context():
            audit_rows = database.session.scalar(select(func.count()).select_from(AuditEntry))
            head = database.session.get(AuditHead, 1)
            assert head is not None
            head_state = (head.last_entry_id, head.count, head.first_entry_id)
        return [plan_rows(app, world.plan_id(f)) for f in (OLD, RECENT, WITHDRAWN)], audit_rows, head_state

    before = everything()
    # When the purge runs with --dry-run
    output = run_purge(app, "--dry-run")
    # Then it tells what would go, and nothing changed, not even the audit log
    assert "dry run" in output
    assert "2 purged" in output
    assert "persons: 2" in output
    assert everything() == before
    # and a real run afterwards removes exactly that
    assert "2 purged" in run_purge(app)


def test_a_second_run_has_nothing_left_to_do(app, world):
    run_purge(app)
    after_first = plan_rows(app, world.plan_id(OLD))
    output = run_purge(app)
    assert "0 purged" in output
    assert plan_rows(app, world.plan_id(OLD)) == after_first
    assert cli_verify(app).exit_code == 0


# --- the audit log's own retention ----------------------------------------------------------


def record_at(app: Flask, moment: datetime, count: int, action: str) -> list[int]:
    """Audit rows written as if at `moment` (the clock travels; the chain is the real one)."""
    with time_machine.travel(moment, tick=True), app.app_context():
        ids = [audit.record(database.session, action, "success", username="test") for _ in range(count)]
        database.commit()
    return ids


@pytest.fixture
def aged_chain(app: Flask, make_user: Any) -> dict[str, list[int]]:
    """The audit log of an installation that runs since 8 years: 5 rows from then, 2 from
    6 years ago (inside the 84-month audit retention), then today's rows."""
    chain = {
        "eight_years": record_at(app, utcnow() - relativedelta(years=8), 5, "demo_create"),
        "six_years": record_at(app, utcnow() - relativedelta(years=6), 2, "demo_create"),
    }
    make_user(roles=("registrant",))  # and what today writes
    chain["today"] = record_at(app, utcnow(), 3, "demo_create")
    return chain


def test_audit_retention_removes_only_rows_past_their_period(app, aged_chain):
    # When the purge runs with the default audit retention of 84 months
    output = run_purge(app)
    # Then the 5 rows of 8 years ago are gone and everything younger is there
    assert "5 removed" in output
    with app.app_context():
        ids = list(database.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
        purge_row = database.session.scalars(select(AuditEntry).where(AuditEntry.action == "purge")).one()
    assert ids[0] == aged_chain["six_years"][0] == 6
    assert set(aged_chain["eight_years"]).isdisjoint(ids)
    assert set(aged_chain["six_years"] + aged_chain["today"]) <= set(ids)
    assert purge_row.detail["audit_removed"] == 5
    assert purge_row.detail["audit_checkpoint"]["first_entry_id"] == 6
    # and the chain verifies from its checkpoint
    result = cli_verify(app)
    assert result.exit_code == 0, result.output
    assert f"audit chain intact: {len(ids)} entries" in result.output


def test_audit_rows_inside_the_period_are_kept_whatever_the_purge_says(app, aged_chain, app_config):
    # Given a configured audit retention of 100 months: even the oldest rows stay
    longer = {**app_config, "AUDIT_RETENTION_MONTHS": 100}
    from registry.app import create_app

    other = create_app(longer)
    try:
        output = run_purge(other)
    finally:
        close_app(other)
    assert "0 removed" in output
    assert cli_verify(app).exit_code == 0


def test_a_second_audit_purge_keeps_a_verifiable_chain(app, aged_chain):
    run_purge(app)
    output = run_purge(app)
    assert "0 removed" in output
    result = cli_verify(app)
    assert result.exit_code == 0, result.output


def _alter_kept_row(app: Flask, chain: dict[str, list[int]]) -> None:
    tamper(app, "UPDATE audit_entries SET outcome = 'failed' WHERE id = :id", id=chain["six_years"][1])


def _move_checkpoint(app: Flask, chain: dict[str, list[int]]) -> None:
    # remove the first kept row and move the checkpoint past it, consistently
    first, second = chain["six_years"]
    tamper(
        app,
        "UPDATE audit_head SET first_entry_id = :second, count = count - 1, "
        "first_prev_hash = (SELECT prev_hash FROM audit_entries WHERE id = :second) WHERE id = 1",
        second=second,
    )
    tamper(app, "DELETE FROM audit_entries WHERE id = :first", first=first)


def _reset_checkpoint(app: Flask, chain: dict[str, list[int]]) -> None:
    tamper(app, "UPDATE audit_head SET first_entry_id = 1, first_prev_hash = :genesis", genesis="0" * 64)


def _remove_purge_row(app: Flask, chain: dict[str, list[int]]) -> None:
    tamper(app, "DELETE FROM audit_entries WHERE action = 'purge'")


@pytest.mark.parametrize(
    "tampering",
    [_alter_kept_row, _move_checkpoint, _reset_checkpoint, _remove_purge_row],
    ids=["altered kept row", "checkpoint moved past a row", "checkpoint reset", "purge row removed"],
)
def test_tampering_after_an_audit_purge_is_detected(app, aged_chain, tampering):
    # Given a chain that an audit purge shortened, verified intact
    run_purge(app)
    assert cli_verify(app).exit_code == 0
    # When someone with the database owner's rights changes it behind the application's back
    tampering(app, aged_chain)
    # Then `samenop audit verify` reports it and exits 1
    result = cli_verify(app)
    assert result.exit_code == 1, result.output
    assert "BROKEN" in result.output


def test_the_application_cannot_delete_kept_rows_after_a_purge(app, db_kind, aged_chain):
    run_purge(app)
    with app.app_context():
        session = database.session
        if db_kind == "postgresql":
            session.execute(text("SET LOCAL samenop.audit_purge = 'on'"))
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(
                text("DELETE FROM audit_entries WHERE id = :id"), {"id": aged_chain["six_years"][0]}
            )
        session.rollback()
    assert cli_verify(app).exit_code == 0
