"""The Logboek of the privacy officer (role auditor), as Given/When/Then: only auditors open it;
it searches the audit log by person, plan, organisation and period (Amsterdam days), newest
first and paged; it shows whether the hash chain holds; each search is itself an audit row;
bad input is named per field in Dutch."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from registry.core import audit
from registry.core.db import db as database
from registry.core.models import AuditEntry, Organisation, User
from tests.reliability import dba

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
LOG = "/logboek"


def write(app: Flask, action: str, username: str, organisation: str, **fields: Any) -> int:
    """An audit row as the app writes one, at `at` (an Amsterdam wall-clock moment) when given."""
    at = fields.pop("at", None) or datetime.now(UTC)
    actor = SimpleNamespace(id=None, username=username, organisation_name=organisation)
    with app.app_context(), time_machine.travel(at.astimezone(UTC), tick=False):
        row_id = audit.record(database.session, action, "success", user=actor, object_type="plan", **fields)
        database.commit()
    return row_id


def ids(html: str) -> list[int]:
    """The row numbers in the Logboek's table, top to bottom."""
    table = re.search(r'<table class="list audit-log">(.*?)</table>', html, re.S)
    assert table, "no audit table on the page"
    return [int(n) for n in re.findall(r"<tr><td>(\d+)</td>", table.group(1))]


@pytest.fixture
def auditor(make_org: Callable[..., Organisation], make_user: Callable[..., User]) -> User:
    return make_user(roles=("auditor",), org=make_org("Gemeente Testdorp"))


@pytest.fixture
def logged_in(
    client: FlaskClient, auditor: User, web_login: Callable[[FlaskClient, User], Any]
) -> FlaskClient:
    web_login(client, auditor)
    return client


def searches(app: Flask) -> list[AuditEntry]:
    with app.app_context():
        return list(
            database.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "audit_search").order_by(AuditEntry.id)
            )
        )


@pytest.mark.parametrize("role", ["registrant", "coordinator", "responder"])
def test_only_the_privacy_officer_opens_the_logboek(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    web_login: Callable[[FlaskClient, User], Any],
    role: str,
) -> None:
    # Given a logged-in person without the auditor role
    someone = make_user(roles=(role,))
    web_login(client, someone)

    # When they open the Logboek
    response = client.get(LOG)

    # Then it is refused, the refusal is logged, and the navigation does not offer it
    assert response.status_code == 403
    with app.app_context():
        refused = database.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "page_request", AuditEntry.username == someone.username
            )
        ).all()
    assert [(row.outcome, row.detail["route"]) for row in refused] == [("forbidden", "/logboek")]
    assert 'href="/logboek"' not in client.get("/").get_data(as_text=True)
    assert searches(app) == []


def test_not_logged_in_is_sent_to_the_login(client: FlaskClient) -> None:
    response = client.get(LOG)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")


def test_filters_by_person_plan_organisation_and_period(app: Flask, logged_in: FlaskClient) -> None:
    # Given rows of two people of two organisations, on two plans, on either side of midnight
    plan_a, plan_b = uuid.uuid4(), uuid.uuid4()
    late = write(
        app, "plan_read", "anna", "Wijkteam Oost", object_id=plan_a,
        at=datetime(2026, 3, 9, 23, 30, tzinfo=AMSTERDAM),
    )  # fmt: skip
    early = write(
        app, "plan_read", "bram", "Meldkamer Noord", object_id=plan_b,
        at=datetime(2026, 3, 10, 0, 30, tzinfo=AMSTERDAM),
    )  # fmt: skip
    shown_in_lookup = write(
        app, "lookup", "bram", "Meldkamer Noord", object_id=uuid.uuid4(),
        detail={"shown": [str(plan_a)]}, at=datetime(2026, 3, 11, 2, 0, tzinfo=AMSTERDAM),
    )  # fmt: skip

    def found(**query: str) -> list[int]:
        response = logged_in.get(LOG, query_string=query)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [n for n in ids(response.get_data(as_text=True)) if n in {late, early, shown_in_lookup}]

    # Then each filter narrows the rows, newest first
    assert found() == [shown_in_lookup, early, late]
    assert found(username="anna") == [late]
    assert found(username="BRAM") == [shown_in_lookup, early]
    # a plan: its own rows, and a lookup that showed it
    assert found(plan=str(plan_a)) == [shown_in_lookup, late]
    assert found(organisation="meldkamer") == [shown_in_lookup, early]
    # the period in Amsterdam days: 23.30 on the 9th is the 9th, 00.30 on the 10th the 10th
    assert found(**{"from": "2026-03-10", "to": "2026-03-10"}) == [early]
    assert found(**{"to": "2026-03-09"}) == [late]
    assert found(**{"from": "2026-03-10"}) == [shown_in_lookup, early]
    assert found(username="bram", **{"from": "2026-03-11"}) == [shown_in_lookup]
    # and the kind of act, chosen by its Dutch name
    assert found(action="lookup") == [shown_in_lookup]
    assert found(action="plan_read", username="bram") == [early]


def test_the_logboek_names_each_act_and_outcome_in_dutch(app: Flask, logged_in: FlaskClient) -> None:
    # Given a lookup that found nothing and a refused plan read
    write(app, "lookup", "cor", "Meldkamer Noord", object_id=uuid.uuid4())
    page = logged_in.get(LOG).get_data(as_text=True)
    # Then the Logboek says what happened in the users' words, the code kept in a tooltip
    assert '<td title="lookup">Raadpleging</td>' in page
    assert '<td title="success">Gelukt</td>' in page
    # and the search offers every kind of act by name
    assert '<option value="feedback_acknowledge">Terugkoppeling gelezen en opgepakt</option>' in page
    # and an unknown kind is named as the field's error, not a 500
    wrong = logged_in.get(LOG, query_string={"action": "drop_table"})
    assert wrong.status_code == 400
    assert 'id="action-error"' in wrong.get_data(as_text=True)


def test_an_act_without_a_dutch_name_cannot_be_written(app: Flask) -> None:
    # Given the audit log, When code writes an act the vocabulary does not know
    with app.app_context(), pytest.raises(ValueError, match="not an audit action"):
        audit.record(database.session, "something_new", "success", username="cli")


def test_the_log_is_paged_newest_first(app: Flask, logged_in: FlaskClient) -> None:
    # Given 120 rows of one person
    written = [write(app, "plan_read", "carla", "Wijkteam Oost", object_id=n) for n in range(120)]

    # When the auditor pages through that person's rows
    pages = [logged_in.get(LOG, query_string={"username": "carla", "page": n}) for n in (1, 2, 3)]

    # Then each page holds 50, the newest first, and together they hold every row once
    html = [page.get_data(as_text=True) for page in pages]
    assert [ids(page) for page in html] == [written[::-1][:50], written[::-1][50:100], written[::-1][100:]]
    assert "120 regels gevonden · pagina 1 van 3" in html[0]
    assert "Oudere regels" in html[0]
    assert "Nieuwere regels" not in html[0]
    assert "Nieuwere regels" in html[2]
    assert "Oudere regels" not in html[2]


def test_every_search_is_itself_audited(app: Flask, logged_in: FlaskClient, auditor: User) -> None:
    # Given a row to find
    plan = uuid.uuid4()
    write(app, "plan_read", "anna", "Wijkteam Oost", object_id=plan)

    # When the auditor searches twice
    logged_in.get(LOG)
    logged_in.get(
        LOG, query_string={"username": "anna", "plan": str(plan), "from": "2026-01-01", "page": "1"}
    )

    # Then each search is a row naming who searched, the filters and how many rows were found
    rows = searches(app)
    assert [(row.username, row.role, row.outcome) for row in rows] == [
        (auditor.username, "auditor", "success")
    ] * 2
    assert rows[1].detail == {
        "username": "anna",
        "plan": str(plan),
        "from": "2026-01-01",
        "page": 1,
        "found": 1,
    }
    assert rows[0].detail["found"] >= 1
    assert set(rows[0].detail) == {"page", "found"}


def test_input_errors_are_named_per_field_in_dutch(app: Flask, logged_in: FlaskClient) -> None:
    # When the auditor gives a malformed plan id and dates in the wrong order and form
    bad = logged_in.get(
        LOG, query_string={"plan": "gezin-testveen", "from": "2026-05-02", "to": "2026-05-01"}
    )
    worse = logged_in.get(LOG, query_string={"from": "2 mei", "to": "0001-01-01", "page": "0"})

    # Then the page says, next to each field, what to do; nothing is searched
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert re.search(r'id="plan-error">Vul de id van een handelingskader in', html)
    assert re.search(r'id="from-error">Kies een begindatum die niet na de einddatum ligt', html)
    assert 'value="gezin-testveen"' in html
    assert worse.status_code == 400
    html = worse.get_data(as_text=True)
    assert re.search(r'id="from-error">Vul een datum in als JJJJ-MM-DD', html)
    assert re.search(r'id="to-error">Kies een datum tussen 2000 en 2099', html)
    assert '<p class="error banner">Kies een paginanummer van 1 tot en met 100000.</p>' in html
    assert 'class="list audit-log"' not in html
    assert searches(app) == []


def test_the_chain_check_is_shown_at_the_top(app: Flask, logged_in: FlaskClient) -> None:
    # Given an intact chain
    write(app, "plan_read", "anna", "Wijkteam Oost", object_id=uuid.uuid4())
    with app.app_context():
        checked = audit.verify(database.session).checked

    # Then the page says so, with the number of rows checked
    html = logged_in.get(LOG).get_data(as_text=True)
    assert f"De keten is intact: {checked} regels gecontroleerd" in html

    # When someone with the database owner's rights alters a row behind the app's back
    dba.tamper(app, "UPDATE audit_entries SET username = 'niemand' WHERE id = 1")

    # Then the page says the chain is broken, and where
    html = logged_in.get(LOG).get_data(as_text=True)
    assert "De keten is verbroken." in html
    assert "Regel 1 is na het schrijven gewijzigd." in html
    assert "De keten is intact" not in html
