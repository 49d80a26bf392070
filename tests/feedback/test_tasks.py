"""Opvolging: the practice's clocks as tasks with a due moment and an owner organisation, made
with the report that starts them: contact with the family within 48 hours when the melding was
not acute, the crisis team's handover within 24 hours, the end of a restraining order after 10
days with a reminder 2 working days before. Shown to the owner organisation and no other,
marked done with a note, late ones in red and on Te laat; counted in the morning digest, which
also counts the owners' answers for the organisation that reported."""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from registry.app import create_app
from registry.core.db import db as database
from registry.core.models import AuditEntry, ClosedDay, FollowUpTask, Organisation, User
from registry.feedback import working_days
from registry.regions import operations as regions
from registry.tasks.operations import reminder_at
from tests.conftest import close_app, csrf_from
from tests.feedback.conftest import NARRATIVE, People, amsterdam, clock_at, report_body
from tests.smtp import Mailbox

FRIDAY_NIGHT = amsterdam(2026, 3, 13, 23, 40)
REPORTED = amsterdam(2026, 3, 13, 23, 55)
API = "/api/v1/tasks"
ZONE = "Europe/Amsterdam"


@pytest.fixture
def app(app_config: dict[str, Any], mailbox: tuple[Mailbox, str]) -> Iterator[Flask]:
    """The app of this module sends its mail (the morning digest) to the loopback server."""
    application = create_app(app_config | {"SMTP_URL": mailbox[1], "BASE_URL": "https://samenop.example"})
    yield application
    close_app(application)


@pytest.fixture
def cit_responder(make_org: Callable[..., Organisation], make_user: Callable[..., User]) -> User:
    return make_user(roles=("responder",), org=make_org("CIT Noord", kind="cit"))


def tasks_of(client: FlaskClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get(API, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    return list(response.get_json()["tasks"])


def due(moment: Any) -> str:
    return str(moment.astimezone(UTC).isoformat())


# --- the clocks ---------------------------------------------------------------------------------


def test_a_melding_that_was_not_acute_asks_the_owner_to_contact_the_family_within_48_hours(
    people: People,
    report_on: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    share_plan: Callable[[dict[str, Any], Organisation], None],
    create_plan: Callable[..., dict[str, Any]],
) -> None:
    # Given the wijkteam's plan, shared with youth protection
    with clock_at(REPORTED):
        plan = create_plan()
        share_plan(plan, people.partner_org)
        # When the police report an ordinary call (no arrest, no restraining order) of Friday 23.40
        _plan, report = report_on(plan, occurred_at=FRIDAY_NIGHT)
    # Then the plan's owner has one task: contact with the family by Sunday 23.40
    with clock_at(amsterdam(2026, 3, 14, 9, 0)):
        [task] = tasks_of(client, auth_headers(people.registrant))
        assert task["kind"] == "contact_family"
        assert task["due_at"] == due(amsterdam(2026, 3, 15, 23, 40))
        assert task["report_id"] == report["id"]
        assert task["plan_id"] == plan["id"]
        assert task["incident_ref"] == "P-2026-0001"
        assert task["overdue"] is False
        assert task["remind_at"] is None
        assert task["done_at"] is None
        # And nobody else: not the partner it is shared with, not a stranger, not the police
        # (no crisis team reported: no handover)
        for other in (people.partner_registrant, people.stranger_registrant, people.responder):
            assert tasks_of(client, auth_headers(other)) == []


def test_the_crisis_team_hands_over_within_24_hours_and_one_melding_starts_each_clock_once(
    people: People,
    cit_responder: User,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., dict[str, Any]],
    post_report: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    with clock_at(REPORTED):
        plan = create_plan()
        # When the crisis team and then the police report on the same melding
        for responder in (cit_responder, people.responder):
            response = post_report(report_body(look_up(plan, responder=responder), FRIDAY_NIGHT), responder)
            assert response.status_code == 201, response.get_data(as_text=True)
    with clock_at(amsterdam(2026, 3, 14, 9, 0)):
        # Then the crisis team hands over by Saturday 23.40, 24 hours after the call
        [handover] = tasks_of(client, auth_headers(cit_responder))
        assert handover["kind"] == "handover"
        assert handover["due_at"] == due(amsterdam(2026, 3, 14, 23, 40))
        # And the owner contacts the family: one task, not one per report
        [contact] = tasks_of(client, auth_headers(people.registrant))
        assert contact["kind"] == "contact_family"
        assert contact["due_at"] == due(amsterdam(2026, 3, 15, 23, 40))


def test_a_melding_without_a_plan_is_followed_up_by_the_regions_veilig_thuis(
    app: Flask,
    people: People,
    make_org: Callable[..., Organisation],
    make_user: Callable[..., User],
    post_report: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    vt = make_org("Veilig Thuis Noord", kind="veilig_thuis", region="Noord")
    with app.app_context():
        regions.set_veilig_thuis(database.session, regions.find_or_add(database.session, "Noord"), vt.name)
        database.commit()
    vt_registrant = make_user(roles=("registrant",), org=vt)
    body = {
        "incident_ref": "P-2026-0009",
        "occurred_at": FRIDAY_NIGHT.isoformat(),
        "mode": "phone_advice",
        "responders": ["police"],
        "agreements": [],
        "actions": [],
        "narrative": NARRATIVE,
    }
    with clock_at(REPORTED):
        response = post_report(body)
        assert response.status_code == 201, response.get_data(as_text=True)
        [task] = tasks_of(client, auth_headers(vt_registrant))
    assert (task["kind"], task["plan_id"]) == ("contact_family", None)
    assert tasks_of(client, auth_headers(people.registrant)) == []


def test_a_restraining_order_ends_after_10_days_with_a_reminder_2_working_days_before(
    app: Flask,
    people: People,
    report_on: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    # When the police report a temporary restraining order on Friday 13 March at 23.40
    with clock_at(REPORTED):
        _plan, report = report_on(occurred_at=FRIDAY_NIGHT, actions=["temporary_restraining_order"])
    assert report["spoed"] is True
    with clock_at(amsterdam(2026, 3, 14, 9, 0)):
        tasks = tasks_of(client, auth_headers(people.registrant))
    # Then it ends on Monday 23 March at 23.40 (10 days), and the owner is reminded from Thursday
    # 19 March: two working days before Monday, across the weekend. It was acute (a spoedmelding,
    # due within hours already): no 48-hour contact task
    [task] = tasks
    assert task["kind"] == "restraining_order_end"
    assert task["due_at"] == due(amsterdam(2026, 3, 23, 23, 40))
    assert task["remind_at"] == due(amsterdam(2026, 3, 19))
    # And Terugkoppeling says so from Thursday on, not before
    pages = []
    for moment in (amsterdam(2026, 3, 18, 12, 0), amsterdam(2026, 3, 19, 8, 0)):
        with clock_at(moment):
            browser = app.test_client()
            web_login(browser, people.registrant)
            pages.append(html.unescape(browser.get("/terugkoppeling").get_data(as_text=True)))
    before, on_the_day = pages
    assert "Einde huisverbod · Gezin Voorbeeld" in before
    assert "eindigt maandag 23 maart 2026 23.40 uur" in before
    assert "Het huisverbod eindigt binnen 2 werkdagen" not in before
    assert f'class="card task-item reminding" id="taak-{task["id"]}"' in on_the_day
    assert "Het huisverbod eindigt binnen 2 werkdagen" in on_the_day


def test_the_reminder_counts_working_days_weekends_holidays_and_closed_days() -> None:
    # Monday 23 March 2026: Thursday 19 March is two working days before
    assert working_days.working_days_before(date(2026, 3, 23), 2) == date(2026, 3, 19)
    # a closed Thursday moves it to Wednesday
    assert working_days.working_days_before(date(2026, 3, 23), 2, {date(2026, 3, 19)}) == date(2026, 3, 18)
    # ending on a Sunday: Thursday (Friday is the first working day before it)
    assert reminder_at(amsterdam(2026, 3, 22, 10, 0), set(), ZONE) == amsterdam(2026, 3, 19)
    # Easter Monday 6 April 2026 and Good Friday 3 April: ending on Tuesday 7 April -> Wednesday 1 April
    assert reminder_at(amsterdam(2026, 4, 7, 10, 0), set(), ZONE) == amsterdam(2026, 4, 1)


def test_a_closed_day_an_administrator_set_moves_the_reminder(
    app: Flask, people: People, report_on: Callable[..., Any]
) -> None:
    with app.app_context():
        database.session.add(ClosedDay(day_on=date(2026, 3, 19), reason="Teamdag"))
        database.commit()
    with clock_at(REPORTED):
        _plan, report = report_on(occurred_at=FRIDAY_NIGHT, actions=["temporary_restraining_order"])
    with app.app_context():
        [task] = database.session.scalars(select(FollowUpTask)).all()
        assert task.remind_at == amsterdam(2026, 3, 18)
        assert str(task.report_id) == report["id"]


# --- shown, done, late --------------------------------------------------------------------------


def test_the_owner_marks_a_task_done_with_a_note_on_the_page_and_it_is_kept_and_audited(
    app: Flask,
    people: People,
    report_on: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    with clock_at(REPORTED):
        report_on(occurred_at=FRIDAY_NIGHT)
    with app.app_context():
        [task] = database.session.scalars(select(FollowUpTask)).all()
        task_id = task.id
    # Given the owner's registrant reads Terugkoppeling on Saturday morning
    browser = app.test_client()
    with clock_at(amsterdam(2026, 3, 14, 9, 0)):
        web_login(browser, people.registrant)
        page = html.unescape(browser.get("/terugkoppeling").get_data(as_text=True))
        assert "Opvolging: 1 open" in page
        assert f'id="taak-{task_id}"' in page
        assert "Contact met gezin binnen 48 uur · Gezin Voorbeeld" in page
        assert "vóór zondag 15 maart 2026 23.40 uur" in page
        # The summary line comes after the spoedmeldingen would, the section below the items
        assert page.index("opvolging-samenvatting") < page.index('id="opvolging"')
        # When a stranger organisation tries to mark it done, it is not found, and audited
        stranger = app.test_client()
        web_login(stranger, people.stranger_registrant)
        token = csrf_from(stranger.get("/terugkoppeling").get_data(as_text=True))
        refused = stranger.post(
            f"/terugkoppeling/opvolging/{task_id}/gedaan", data={"note": "x", "csrf_token": token}
        )
        assert refused.status_code == 404
        # When the owner marks it done with a note
        done = browser.post(
            f"/terugkoppeling/opvolging/{task_id}/gedaan",
            data={
                "note": "Moeder gebeld, afspraak dinsdag",
                "from": "terugkoppeling",
                "csrf_token": csrf_from(page),
            },
        )
        assert done.status_code == 302
        assert done.headers["Location"].endswith("/terugkoppeling#opvolging")
        after = html.unescape(browser.get("/terugkoppeling").get_data(as_text=True))
    # Then it is gone from the list, with who, when and the note kept
    assert f'id="taak-{task_id}"' not in after
    with app.app_context():
        stored = database.session.get(FollowUpTask, task_id)
        assert stored is not None
        assert stored.done_note == "Moeder gebeld, afspraak dinsdag"
        assert stored.done_by_id == people.registrant.id
        assert stored.done_at is not None
        assert abs(stored.done_at - amsterdam(2026, 3, 14, 9, 0)).total_seconds() < 60
        audited = {
            (entry.action, entry.outcome, entry.object_id, entry.user_id)
            for entry in database.session.scalars(select(AuditEntry).where(AuditEntry.action == "task_done"))
        }
        assert audited == {
            ("task_done", "not_found", str(task_id), people.stranger_registrant.id),
            ("task_done", "success", str(task_id), people.registrant.id),
        }
        listed = database.session.scalars(select(AuditEntry).where(AuditEntry.action == "task_list")).all()
        assert any(str(task_id) in entry.detail.get("tasks", []) for entry in listed)


def test_the_api_lists_and_marks_done_for_the_owner_only(
    people: People,
    cit_responder: User,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., dict[str, Any]],
    post_report: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    with clock_at(REPORTED):
        plan = create_plan()
        lookup = look_up(plan, responder=cit_responder)
        assert post_report(report_body(lookup, FRIDAY_NIGHT), cit_responder).status_code == 201
    with clock_at(amsterdam(2026, 3, 14, 9, 0)):
        [handover] = tasks_of(client, auth_headers(cit_responder))
        path = f"{API}/{handover['id']}/done"
        # another organisation's task, an id that is none, a note too long: refused, naming why
        assert (
            client.post(path, json={"note": "x"}, headers=auth_headers(people.registrant)).status_code == 404
        )
        assert (
            client.post(
                f"{API}/{uuid.uuid4()}/done", json={}, headers=auth_headers(cit_responder)
            ).status_code
            == 404
        )
        assert (
            client.post(f"{API}/geen-id/done", json={}, headers=auth_headers(cit_responder)).status_code
            == 404
        )
        too_long = client.post(path, json={"note": "x" * 4001}, headers=auth_headers(cit_responder))
        assert too_long.status_code == 422
        assert "note" in too_long.get_json()["error"]["fields"]
        # the crisis team marks its handover done
        done = client.post(
            path, json={"note": "Overgedragen aan wijkteam"}, headers=auth_headers(cit_responder)
        )
        assert done.status_code == 200, done.get_data(as_text=True)
        body = done.get_json()
        assert body["note"] == "Overgedragen aan wijkteam"
        assert body["done_by"] == cit_responder.display_name
        assert body["done_at"] is not None
        # twice: the first stays
        again = client.post(path, json={"note": "anders"}, headers=auth_headers(cit_responder)).get_json()
        assert (again["note"], again["done_at"]) == (body["note"], body["done_at"])
        assert tasks_of(client, auth_headers(cit_responder)) == []
        # the owner's contact task is untouched
        assert [task["kind"] for task in tasks_of(client, auth_headers(people.registrant))] == [
            "contact_family"
        ]


def test_a_crisis_team_without_registrants_has_its_page_opvolging(
    app: Flask,
    cit_responder: User,
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., dict[str, Any]],
    post_report: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    with clock_at(REPORTED):
        plan = create_plan()
        assert (
            post_report(
                report_body(look_up(plan, responder=cit_responder), FRIDAY_NIGHT), cit_responder
            ).status_code
            == 201
        )
    browser = app.test_client()
    with clock_at(amsterdam(2026, 3, 15, 9, 0)):  # Sunday: the handover was due Saturday 23.40
        web_login(browser, cit_responder)
        start = browser.get("/").get_data(as_text=True)
        assert 'href="/terugkoppeling/opvolging"' in start  # in the menu
        page = html.unescape(browser.get("/terugkoppeling/opvolging").get_data(as_text=True))
        # Terugkoppeling itself stays the registrants'
        assert browser.get("/terugkoppeling").status_code == 403
    assert "Overdracht binnen 24 uur · Gezin Voorbeeld" in page
    assert 'class="card task-item overdue"' in page
    assert '<strong class="warn">Te laat</strong> · vóór zaterdag 14 maart 2026 23.40 uur' in page


def test_a_late_task_is_shown_like_late_feedback_to_the_owner_and_its_coordinator(
    app: Flask,
    people: People,
    report_on: Callable[..., Any],
    web_login: Callable[[FlaskClient, User], Any],
) -> None:
    with clock_at(REPORTED):
        report_on(occurred_at=FRIDAY_NIGHT)
    # On Monday morning the contact (due Sunday 23.40) is late
    with clock_at(amsterdam(2026, 3, 16, 8, 0)):
        owner = app.test_client()
        web_login(owner, people.registrant)
        inbox = html.unescape(owner.get("/terugkoppeling").get_data(as_text=True))
        coordinator = app.test_client()
        web_login(coordinator, people.coordinator)
        late = html.unescape(coordinator.get("/terugkoppeling/te-laat").get_data(as_text=True))
        stranger = app.test_client()
        web_login(stranger, people.stranger_coordinator)
        elsewhere = html.unescape(stranger.get("/terugkoppeling/te-laat").get_data(as_text=True))
    assert 'class="card task-item overdue"' in inbox
    assert '<strong class="warn">Te laat</strong> · vóór zondag 15 maart 2026 23.40 uur' in inbox
    assert "Opvolging: 1 open, " in inbox
    assert '<strong class="warn">1 te laat</strong>' in inbox
    assert "Opvolging te laat" in late
    assert (
        '<tr class="task-late"><td>Gezin Voorbeeld</td><td>Contact met gezin binnen 48 uur</td>'
        "<td>zondag 15 maart 2026 23.40 uur</td></tr>"
    ) in late
    assert "Opvolging te laat" not in elsewhere
    assert "Gezin Voorbeeld" not in elsewhere


# --- the morning digest -------------------------------------------------------------------------


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def set_email(app: Flask, user: User, address: str) -> None:
    with app.app_context():
        stored = database.session.get(User, user.id)
        assert stored is not None
        stored.email = address
        database.commit()
    user.email = address


def test_the_digest_counts_the_answers_for_the_reporting_organisation_and_the_owners_tasks(
    app: Flask,
    mailbox: tuple[Mailbox, str],
    people: People,
    report_on: Callable[..., Any],
    create_plan: Callable[..., dict[str, Any]],
    look_up: Callable[..., dict[str, Any]],
    post_report: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    box, _url = mailbox
    set_email(app, people.responder, "meldkamer@politie-noord.example")
    set_email(app, people.other_responder, "meldkamer@politie-zuid.example")
    set_email(app, people.registrant, "registrant@wijkteam-oost.example")
    # Given two reports of the police of Noord on Friday night (one a restraining order), and one
    # of the police of Zuid
    with clock_at(REPORTED):
        _plan, ordinary = report_on(occurred_at=FRIDAY_NIGHT)
        _plan, order = report_on(
            occurred_at=FRIDAY_NIGHT, actions=["temporary_restraining_order"], incident_ref="P-2026-0002"
        )
        theirs = create_plan(title="Gezin Zuid")
        lookup = look_up(theirs, responder=people.other_responder, incident_ref="P-2026-0003")
        assert (
            post_report(
                report_body(lookup, FRIDAY_NIGHT, incident_ref="P-2026-0003"), people.other_responder
            ).status_code
            == 201
        )
    # And the wijkteam answered both of Noord's on Saturday, one with a note
    with clock_at(amsterdam(2026, 3, 14, 8, 0)):
        for report, note in ((ordinary, "Wij bellen moeder vandaag"), (order, "")):
            response = client.post(
                f"/api/v1/feedback/{report['id']}/acknowledge",
                json={"note": note},
                headers=auth_headers(people.registrant),
            )
            assert response.status_code == 200
    # When Monday's digest goes out at 07.00 (it counts the weekend's answers)
    with clock_at(amsterdam(2026, 3, 16, 7, 0)):
        result = app.test_cli_runner().invoke(args=["feedback", "digest", "--date", "2026-03-16"])
    assert result.exit_code == 0, result.output
    # Then the police of Noord hear how many answers came, with a link and nothing else
    [police] = box.to("meldkamer@politie-noord.example")
    body = text_of(police)
    assert "- 2 terugkoppelingen op uw meldingen" in body
    assert "https://samenop.example/raadplegen/teruggekoppeld" in body
    for secret in ("Wij bellen moeder", "Gezin Voorbeeld", "P-2026", NARRATIVE, "Wijkteam Oost"):
        assert secret not in body
    assert "item(s)" not in body
    assert "opvolging" not in body
    # And the police of Zuid, whose report nobody answered, hear nothing
    assert box.to("meldkamer@politie-zuid.example") == []
    # And the wijkteam hears of its tasks: the 48-hour contact of the first (late since Sunday
    # night), the restraining order's end (Zuid's plan is the wijkteam's too)
    [owner] = box.to("registrant@wijkteam-oost.example")
    owner_body = text_of(owner)
    assert "- 3 opvolgingen open, waarvan 2 te laat" in owner_body
    assert "https://samenop.example/terugkoppeling/opvolging" in owner_body
    assert "huisverbod" not in owner_body  # not yet within 2 working days of its end
    # And on Thursday 19 March the restraining order's end is announced
    box.messages.clear()
    with clock_at(amsterdam(2026, 3, 19, 7, 0)):
        result = app.test_cli_runner().invoke(args=["feedback", "digest", "--date", "2026-03-19"])
    assert result.exit_code == 0, result.output
    [owner] = box.to("registrant@wijkteam-oost.example")
    assert "- 1 huisverbod eindigt binnen 2 werkdagen" in text_of(owner)
    # the answers were counted once, on Monday
    assert box.to("meldkamer@politie-noord.example") == []


def test_a_task_note_goes_with_its_meldings_number_after_the_retention(
    app: Flask,
    make_org: Callable[..., Organisation],
    make_user: Callable[..., User],
    post_report: Callable[..., Any],
    client: FlaskClient,
    auth_headers: Callable[[User], dict[str, str]],
) -> None:
    from dateutil.relativedelta import relativedelta
    from sqlalchemy import update

    from registry.core.models import Melding
    from registry.core.timeutil import utcnow
    from registry.ops.cli import purge

    # Given two meldingen without a plan, followed up by Veilig Thuis with a note each
    vt = make_org("Veilig Thuis Noord", kind="veilig_thuis", region="Noord")
    with app.app_context():
        regions.set_veilig_thuis(database.session, regions.find_or_add(database.session, "Noord"), vt.name)
        database.commit()
    vt_registrant = make_user(roles=("registrant",), org=vt)
    for ref in ("P-2025-0100", "P-2026-0200"):
        body = {
            "incident_ref": ref, "occurred_at": (utcnow() - relativedelta(hours=3)).isoformat(),
            "mode": "phone_advice", "responders": ["police"], "agreements": [], "actions": [],
            "narrative": NARRATIVE,
        }  # fmt: skip
        assert post_report(body).status_code == 201
    for task in tasks_of(client, auth_headers(vt_registrant)):
        note = f"Moeder gebeld over {task['incident_ref']}"
        done = client.post(
            f"{API}/{task['id']}/done", json={"note": note}, headers=auth_headers(vt_registrant)
        )
        assert done.status_code == 200
    # And the first was 13 months ago
    with app.app_context():
        database.session.execute(
            update(Melding)
            .where(Melding.incident_ref == "P-2025-0100")
            .values(occurred_at=utcnow() - relativedelta(months=13))
        )
        database.commit()
    # When `samenop purge` runs
    result = app.test_cli_runner().invoke(purge, [])
    assert result.exit_code == 0, result.output
    # Then the old task keeps when it was done, not what was written; today's keeps its note
    with app.app_context():
        notes = {
            task.done_note
            for task in database.session.scalars(select(FollowUpTask))
            if task.done_at is not None
        }
    assert notes == {"", "Moeder gebeld over P-2026-0200"}
