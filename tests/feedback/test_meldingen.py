"""The melding (issue 16, step 1): every report belongs to one melding, one acute call however
many organisations reported it; a report without a plan records a melding about a family
without a handelingskader, and reaches the Veilig Thuis of the reporting organisation's region
and nobody else. Through the real API, on the real database."""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from registry.core import rules
from registry.core.db import db as database
from registry.core.models import Gemeente, Melding, Organisation, Report, User
from registry.regions import operations as regions
from tests.conftest import csrf_from
from tests.feedback.conftest import NARRATIVE, People, amsterdam, clock_at, report_body
from tests.registry.plan_data import address

API = "/api/v1/reports"
FEEDBACK = "/api/v1/feedback"
MONDAY_NIGHT = amsterdam(2026, 3, 16, 23, 40)
TUESDAY_MORNING = amsterdam(2026, 3, 17, 9, 0)


def planless_body(
    incident_ref: str = "P-2026-0001", occurred_at: datetime = MONDAY_NIGHT, **extra: Any
) -> Any:
    """What the control room records of a call about a family without a handelingskader."""
    return {
        "incident_ref": incident_ref,
        "occurred_at": occurred_at.isoformat(),
        "mode": "phone_advice",
        "responders": ["police", "veilig_thuis"],
        "violence_type": "partner_violence",
        "narrative": NARRATIVE,
        **extra,
    }


def meldingen(app: Flask) -> dict[uuid.UUID, tuple[str, str, uuid.UUID | None, list[uuid.UUID]]]:
    """Each melding: its meldingnummer, its key, its plan, and its reports."""
    with app.app_context():
        session = database.session
        return {
            melding.id: (
                melding.incident_ref,
                melding.incident_key,
                melding.plan_id,
                list(
                    session.scalars(
                        select(Report.id).where(Report.melding_id == melding.id).order_by(Report.created_at)
                    )
                ),
            )
            for melding in session.scalars(select(Melding))
        }


@pytest.fixture
def veilig_thuis(app: Flask, make_org: Callable[..., Organisation], make_user: Callable[..., User]) -> User:
    """A registrant of Veilig Thuis Noord, the VT region Noord names (every organisation of
    tests.feedback.conftest.People is in region Noord)."""
    organisation = make_org("Veilig Thuis Noord", kind="veilig_thuis", region="Noord")
    with app.app_context():
        regions.set_veilig_thuis(
            database.session, regions.find_or_add(database.session, "Noord"), organisation.name
        )
        database.commit()
    return make_user(roles=("registrant",), org=organisation)


# --- the grouping rule, written once ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "apart", "same"),
    [
        ("P-2026-0001", "p-2026-0001", timedelta(days=6, hours=23), True),
        ("P-2026-0001", " P-2026- 0001 ", timedelta(days=7), True),
        ("P-2026-0001", "P-2026-0001", timedelta(days=8), False),
        ("P-2026-0001", "P-2026-0002", timedelta(0), False),
    ],
)
def test_the_rule_same_meldingnummer_within_7_days(
    first: str, second: str, apart: timedelta, same: bool
) -> None:
    # Given a melding and a report's meldingnummer and time
    moment = datetime(2026, 3, 16, 22, 40, tzinfo=UTC)
    melding = Melding(incident_ref=first, incident_key=rules.melding_key_of(first), occurred_at=moment)
    # Then the report belongs to it when the number is the same (case and spaces ignored)
    # and the calls came in within 7 days of each other, either way
    assert rules.is_same_melding(second, moment + apart, melding) is same
    assert rules.is_same_melding(second, moment - apart, melding) is same


# --- reports joining their melding ---------------------------------------------------------------


def test_two_organisations_reporting_one_call_make_one_melding_with_two_reports(
    app: Flask, people: People, post_report: Callable[..., Any]
) -> None:
    with clock_at(TUESDAY_MORNING + timedelta(days=1)):
        # Given the police reported a call
        first = post_report(planless_body("P-2026-0001"))
        assert first.status_code == 201, first.get_data(as_text=True)
        # When another organisation reports it with the number typed otherwise, a day later
        second = post_report(
            planless_body(" p-2026- 0001", MONDAY_NIGHT + timedelta(days=1)), responder=people.other_responder
        )
    # Then both reports are in one melding, which keeps the first report's number and time
    assert second.status_code == 201, second.get_data(as_text=True)
    melding_id = first.get_json()["melding_id"]
    assert second.get_json()["melding_id"] == melding_id
    both = [uuid.UUID(first.get_json()["id"]), uuid.UUID(second.get_json()["id"])]
    assert meldingen(app) == {uuid.UUID(melding_id): ("P-2026-0001", "p-2026-0001", None, both)}
    with app.app_context():
        melding = database.session.get(Melding, uuid.UUID(melding_id))
        assert melding is not None
        assert melding.occurred_at == MONDAY_NIGHT


def test_the_same_meldingnummer_8_days_apart_is_two_meldingen(
    app: Flask, post_report: Callable[..., Any]
) -> None:
    with clock_at(MONDAY_NIGHT + timedelta(days=9)):
        # Given a call reported, When a call with the same number 8 days later is reported
        first = post_report(planless_body("P-2026-0001", MONDAY_NIGHT))
        second = post_report(planless_body("P-2026-0001", MONDAY_NIGHT + timedelta(days=8)))
    # Then they are two meldingen
    assert first.status_code == second.status_code == 201
    assert first.get_json()["melding_id"] != second.get_json()["melding_id"]
    assert len(meldingen(app)) == 2


def test_a_report_may_name_its_melding(app: Flask, people: People, post_report: Callable[..., Any]) -> None:
    with clock_at(TUESDAY_MORNING):
        # Given a melding
        first = post_report(planless_body("P-2026-0001"))
        melding_id = first.get_json()["melding_id"]
        # When a report with another number names it
        named = post_report(planless_body("VT-778", melding_id=melding_id), responder=people.other_responder)
        # Then it joins that melding
        assert named.status_code == 201, named.get_data(as_text=True)
        assert named.get_json()["melding_id"] == melding_id
        # and a melding that does not exist is refused, naming the field
        unknown = post_report(planless_body(melding_id=str(uuid.uuid4())))
    assert unknown.status_code == 422
    assert list(unknown.get_json()["error"]["fields"]) == ["melding_id"]
    assert len(meldingen(app)) == 1


def test_a_report_on_a_plan_joins_the_melding_and_gives_it_its_plan(
    app: Flask,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    post_report: Callable[..., Any],
) -> None:
    with clock_at(TUESDAY_MORNING):
        # Given a melding recorded without a plan (VT did not know the family had one)
        first = post_report(planless_body("P-2026-0001"))
        # When the police report the same call on the plan a lookup found
        plan = create_plan()
        on_plan = post_report(report_body(look_up(plan), MONDAY_NIGHT, incident_ref="P-2026-0001"))
    # Then it is one melding, now about that plan, and the report is as a report on a plan was
    assert on_plan.status_code == 201, on_plan.get_data(as_text=True)
    report = on_plan.get_json()
    assert report["melding_id"] == first.get_json()["melding_id"]
    assert report["plan_id"] == plan["id"]
    assert len(report["agreements"]) == len(plan["agreements"])
    ((_ref, _key, melding_plan, reports),) = meldingen(app).values()
    assert (str(melding_plan), len(reports)) == (plan["id"], 2)


# --- a melding without a handelingskader -----------------------------------------------------------


def test_a_report_without_a_plan_records_a_melding_without_handelingskader(
    app: Flask, people: People, post_report: Callable[..., Any]
) -> None:
    # Given a call about a family without a handelingskader: no plan, no lookup
    with clock_at(TUESDAY_MORNING):
        response = post_report(planless_body())
    # Then it is stored, in a melding of its own, without a plan, lookup or agreements
    assert response.status_code == 201, response.get_data(as_text=True)
    report = response.get_json()
    assert (report["plan_id"], report["lookup_id"], report["agreements"]) == (None, None, [])
    assert report["narrative"] == NARRATIVE
    assert report["organisation"] == people.police_org.name
    assert report["feedback_due"] == "2026-03-17"
    assert list(meldingen(app).values()) == [("P-2026-0001", "p-2026-0001", None, [uuid.UUID(report["id"])])]


def test_a_report_without_a_plan_takes_no_agreements_and_only_the_organisations_own_lookup(
    app: Flask, people: People, post_report: Callable[..., Any], client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:  # fmt: skip
    with clock_at(TUESDAY_MORNING):
        # Given a lookup of another control room that found nothing
        found_nothing = client.post(
            "/api/v1/lookups",
            json={"incident_ref": "P-2026-0001", "address": {"postcode": "9999ZZ", "house_number": 1}},
            headers=auth_headers(people.other_responder),
        )
        assert found_nothing.status_code == 200
        theirs = found_nothing.get_json()["lookup_id"]
        # When a report without a plan judges agreements, or names their lookup
        with_agreements = post_report(planless_body(agreements=[{"agreement_id": 1, "outcome": "followed"}]))
        their_lookup = post_report(planless_body(lookup_id=theirs))
        # Then each is refused, naming the field, and nothing is stored
        assert with_agreements.status_code == their_lookup.status_code == 422
        assert list(with_agreements.get_json()["error"]["fields"]) == ["agreements"]
        assert list(their_lookup.get_json()["error"]["fields"]) == ["lookup_id"]
        assert meldingen(app) == {}
        # and with its own lookup it is stored, naming that lookup
        own = post_report(planless_body(lookup_id=theirs), responder=people.other_responder)
    assert own.status_code == 201, own.get_data(as_text=True)
    assert own.get_json()["lookup_id"] == theirs


# --- who hears of it -----------------------------------------------------------------------------


def test_the_regions_veilig_thuis_sees_a_melding_without_plan_and_acknowledges_it(
    app: Flask,
    people: People,
    veilig_thuis: User,
    post_report: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    with clock_at(TUESDAY_MORNING):
        # Given the police of region Noord recorded a melding without a plan
        report = post_report(planless_body()).get_json()
        # When Veilig Thuis Noord reads its Terugkoppeling
        answer = client.get(FEEDBACK, headers=auth_headers(veilig_thuis))
        # Then the melding is there: a report, without a plan
        assert answer.status_code == 200
        (item,) = answer.get_json()["items"]
        assert (item["kind"], item["plan_id"], item["report"]["id"]) == ("report", None, report["id"])
        assert item["report"]["melding_id"] == report["melding_id"]
        # and the inbox page shows it as a melding without handelingskader
        browser = app.test_client()
        web_login(browser, veilig_thuis)
        page = browser.get("/terugkoppeling")
        text = html.unescape(page.get_data(as_text=True))
        assert "Melding zonder handelingskader" in text
        assert NARRATIVE in text
        assert "P-2026-0001" in text
        assert people.police_org.name in text  # who to call back

        # When VT acknowledges it on the page
        token = csrf_from(page.get_data(as_text=True))
        done = browser.post(
            f"/terugkoppeling/{report['id']}/gelezen", data={"note": "Gezin gebeld", "csrf_token": token}
        )
        # Then it is gone from VT's Terugkoppeling
        assert done.status_code == 302
        assert client.get(FEEDBACK, headers=auth_headers(veilig_thuis)).get_json()["items"] == []


def test_nobody_else_hears_of_a_melding_without_plan(
    app: Flask,
    people: People,
    veilig_thuis: User,
    make_org: Callable[..., Organisation],
    make_user: Callable[..., User],
    create_plan: Callable[..., dict[str, Any]],
    post_report: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    # Given the Veilig Thuis of another region, and owners of plans the melding is not about
    other_vt = make_org("Veilig Thuis Zuid", kind="veilig_thuis", region="Zuid")
    with app.app_context():
        regions.set_veilig_thuis(
            database.session, regions.find_or_add(database.session, "Zuid"), other_vt.name
        )
        database.commit()
    other_vt_registrant = make_user(roles=("registrant",), org=other_vt)
    with clock_at(TUESDAY_MORNING):
        create_plan()
        create_plan(owner=people.stranger_registrant)
        # When the police of region Noord record a melding without a plan
        report = post_report(planless_body()).get_json()

        # Then only VT Noord sees it
        def seen(user: User) -> list[str]:
            return [
                item["report"]["id"]
                for item in client.get(FEEDBACK, headers=auth_headers(user)).get_json()["items"]
            ]

        assert seen(veilig_thuis) == [report["id"]]
        for user in (
            people.registrant,
            people.stranger_registrant,
            people.partner_registrant,
            other_vt_registrant,
        ):
            assert seen(user) == [], user.organisation.name
            # and none of them can acknowledge it: it does not exist for them
            refused = client.post(
                f"{FEEDBACK}/{report['id']}/acknowledge", json={}, headers=auth_headers(user)
            )
            assert refused.status_code == 404


def test_a_melding_without_plan_in_a_region_without_veilig_thuis_is_stored_all_the_same(
    app: Flask, make_org: Callable[..., Organisation], make_user: Callable[..., User],
    people: People, post_report: Callable[..., Any], client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:  # fmt: skip
    # Given a control room in a region that names no Veilig Thuis yet, and a VT elsewhere
    police = make_user(roles=("responder",), org=make_org("Meldkamer Oost", kind="police", region="Oost"))
    vt = make_user(
        roles=("registrant",), org=make_org("Veilig Thuis Oost", kind="veilig_thuis", region="Oost")
    )
    with clock_at(TUESDAY_MORNING):
        # When it records a melding without a plan
        response = post_report(planless_body(), responder=police)
        # Then it is stored, in its melding, and reaches no inbox
        assert response.status_code == 201, response.get_data(as_text=True)
        assert len(meldingen(app)) == 1
        assert client.get(FEEDBACK, headers=auth_headers(vt)).get_json()["items"] == []


def test_a_melding_without_a_plan_loses_its_texts_and_number_after_the_retention(
    app: Flask, people: People, post_report: Callable[..., Any]
) -> None:
    from dateutil.relativedelta import relativedelta
    from sqlalchemy import update

    from registry.core.timeutil import utcnow
    from registry.ops.cli import purge

    # Given two calls about families without a handelingskader: one 13 months ago, one of today
    old = post_report(planless_body("P-2025-0100", occurred_at=utcnow() - timedelta(hours=5)))
    new = post_report(planless_body("P-2026-0200", occurred_at=utcnow() - timedelta(hours=3)))
    assert old.status_code == new.status_code == 201
    with app.app_context():
        long_ago = utcnow() - relativedelta(months=13)
        old_report = database.session.get(Report, uuid.UUID(old.get_json()["id"]))
        assert old_report is not None
        database.session.execute(
            update(Melding).where(Melding.id == old_report.melding_id).values(occurred_at=long_ago)
        )
        database.session.execute(
            update(Report).where(Report.id == old_report.id).values(occurred_at=long_ago)
        )
        database.commit()

    # When `samenop purge` runs (retention: 12 months)
    result = app.test_cli_runner().invoke(purge, [])
    assert result.exit_code == 0, result.output

    # Then the old call keeps its counted facts but not its number or narrative; today's keeps all
    with app.app_context():
        stored = {
            str(report.id): (
                report.incident_ref,
                report.narrative,
                report.violence_type,
                melding.incident_ref,
            )
            for report, melding in database.session.execute(
                select(Report, Melding).join(Melding, Melding.id == Report.melding_id)
            )
        }
    assert stored[old.get_json()["id"]] == ("", "", "partner_violence", "")
    assert stored[new.get_json()["id"]] == ("P-2026-0200", NARRATIVE, "partner_violence", "P-2026-0200")


# --- the melding's gemeente ----------------------------------------------------------------------


def gemeente_of(app: Flask, melding_id: str) -> str | None:
    with app.app_context():
        melding = database.session.get(Melding, uuid.UUID(melding_id))
        assert melding is not None
        gemeente = database.session.get(Gemeente, melding.gemeente_id) if melding.gemeente_id else None
        return gemeente.name if gemeente else None


@pytest.fixture
def gemeenten(app: Flask) -> None:
    """Two gemeenten of region Noord, where every organisation of People is, and one elsewhere."""
    with app.app_context():
        session = database.session
        regions.find_or_add(session, "Noord")
        regions.add(session, "Zuid")
        regions.add_gemeente(session, "Noord", "Oude IJsselstreek", 39396)
        regions.add_gemeente(session, "Noord", "Zutphen", 48746)
        regions.add_gemeente(session, "Zuid", "Testdorp", 1000)
        database.commit()


def test_a_melding_on_a_plan_takes_the_gemeente_of_the_residence_address(
    app: Flask,
    gemeenten: None,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    post_report: Callable[..., Any],
) -> None:
    with clock_at(TUESDAY_MORNING):
        # Given a plan whose residence is in "oude ijsselstreek" (typed otherwise), and one whose
        # city is a gemeente of another region only
        here = create_plan(addresses=[address(house_number=201, city="oude  ijsselstreek")])
        elsewhere = create_plan(addresses=[address(house_number=202, city="Testdorp")])
        # When the police report a call on each
        first = post_report(report_body(look_up(here, incident_ref="P-1"), MONDAY_NIGHT, incident_ref="P-1"))
        second = post_report(
            report_body(look_up(elsewhere, incident_ref="P-2"), MONDAY_NIGHT, incident_ref="P-2")
        )
    # Then the first melding is in Oude IJsselstreek; the other has no gemeente (not the region's)
    assert first.status_code == 201, first.get_data(as_text=True)
    assert gemeente_of(app, first.get_json()["melding_id"]) == "Oude IJsselstreek"
    assert gemeente_of(app, second.get_json()["melding_id"]) is None


def test_a_report_may_name_the_gemeente_and_an_unknown_one_is_refused(
    app: Flask,
    gemeenten: None,
    people: People,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., Any],
    post_report: Callable[..., Any],
) -> None:
    with clock_at(TUESDAY_MORNING):
        # Given a plan in Oude IJsselstreek
        plan = create_plan(addresses=[address(house_number=203, city="Oude IJsselstreek")])
        # When the police name Zutphen (the call was at the aunt's), and VT a gemeente nobody knows
        named = post_report(report_body(look_up(plan), MONDAY_NIGHT, gemeente="zutphen"))
        unknown = post_report(planless_body("P-2026-0009", gemeente="Atlantis"))
        # and a report without a plan names one
        planless = post_report(planless_body("P-2026-0010", gemeente="Oude IJsselstreek"))
    # Then the named gemeente is the melding's, not the plan's residence
    assert named.status_code == 201, named.get_data(as_text=True)
    assert gemeente_of(app, named.get_json()["melding_id"]) == "Zutphen"
    assert gemeente_of(app, planless.get_json()["melding_id"]) == "Oude IJsselstreek"
    # and an unknown gemeente is a 422 that names the field, and stores nothing
    assert unknown.status_code == 422
    assert list(unknown.get_json()["error"]["fields"]) == ["gemeente"]
    assert len(meldingen(app)) == 2


def test_a_later_report_keeps_the_melding_gemeente_unless_it_names_one(
    app: Flask, gemeenten: None, people: People, post_report: Callable[..., Any]
) -> None:
    with clock_at(TUESDAY_MORNING):
        # Given a melding in Zutphen
        first = post_report(planless_body("P-2026-0011", gemeente="Zutphen"))
        # When another organisation reports the call without a gemeente
        second = post_report(planless_body("P-2026-0011"), responder=people.other_responder)
    # Then it stays in Zutphen
    assert second.get_json()["melding_id"] == first.get_json()["melding_id"]
    assert gemeente_of(app, first.get_json()["melding_id"]) == "Zutphen"
