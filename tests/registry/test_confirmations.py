"""A step that cannot be undone asks first: deactivating a colleague's account and withdrawing a
plan take the confirmation's own button; the first click only opens it."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select

from registry.core.db import db as database
from registry.core.models import Plan, User
from tests.browser.family import create_plan
from tests.conftest import csrf_from


def is_active(app, user_id: int) -> bool:
    with app.app_context():
        return bool(database.session.scalars(select(User.is_active).where(User.id == user_id)).one())


def plan_status(app, plan_id: str) -> str:
    with app.app_context():
        plan = database.session.get(Plan, uuid.UUID(plan_id))
        assert plan is not None
        return plan.status


def test_deactivating_an_account_takes_the_confirmation(app, make_org, make_user, web_login):
    office = make_org("Wijkteam Oost")
    coordinator = make_user(roles=("coordinator",), org=office)
    colleague = make_user(roles=("registrant",), org=office)
    browser = app.test_client()
    web_login(browser, coordinator)
    page = browser.get("/accounts").get_data(as_text=True)

    # The page asks before it deactivates: the first button only opens the question
    question = re.search(
        r'<details class="confirm">\s*<summary class="button danger">Deactiveren…</summary>', page
    )
    assert question
    assert "kan daarna niet meer inloggen; open sessies eindigen meteen" in page

    # A POST without the confirmation (a stray click, an old page) deactivates nothing
    stray = browser.post(f"/accounts/{colleague.id}/deactivate", data={"csrf_token": csrf_from(page)})
    assert stray.status_code == 422
    assert "Bevestig het deactiveren." in stray.get_data(as_text=True)
    assert is_active(app, colleague.id)

    # The confirmation's own button does
    done = browser.post(
        f"/accounts/{colleague.id}/deactivate", data={"csrf_token": csrf_from(page), "bevestigd": "ja"}
    )
    assert done.status_code == 200
    assert not is_active(app, colleague.id)


def test_withdrawing_a_plan_takes_the_confirmation(app, client, make_org, make_user, auth_headers, web_login):
    registrant = make_user(roles=("registrant",), org=make_org("Wijkteam Oost"))
    plan = create_plan(client, auth_headers(registrant))
    browser = app.test_client()
    web_login(browser, registrant)
    page = browser.get(f"/plans/{plan['id']}").get_data(as_text=True)
    assert "Ik weet dat de meldkamer en het CIT dit handelingskader daarna niet meer vinden" in page

    # With a reason but without the confirmation: nothing withdrawn, and the page says why
    data = {"csrf_token": csrf_from(page), "reason": "Gezin verhuisd"}
    stray = browser.post(f"/plans/{plan['id']}/withdraw", data=data, follow_redirects=True)
    assert "Bevestig dat de meldkamer het handelingskader daarna niet meer vindt." in stray.get_data(
        as_text=True
    )
    assert plan_status(app, plan["id"]) == "active"

    # Confirmed: withdrawn
    browser.post(f"/plans/{plan['id']}/withdraw", data={**data, "bevestigd": "ja"})
    assert plan_status(app, plan["id"]) == "withdrawn"
